import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Options for {@link startAnvil}. */
export interface AnvilOptions {
  /** Chain id of the dev chain. Default 31337 (anvil's own default). */
  chainId?: number;
  /** TCP port on 127.0.0.1. Default 0: anvil picks a free port. */
  port?: number;
  /**
   * Seconds between blocks (interval mining). Default: automine, one block per transaction,
   * mined as soon as it is sent (fastest for tests).
   */
  blockTime?: number;
  /** Number of dev accounts anvil funds (from the public test mnemonic). Default 10. */
  accounts?: number;
  /** Ether balance of every dev account. Default 10000. */
  balanceEth?: number;
  /** Extra command-line flags passed to anvil as they are. */
  extraArgs?: readonly string[];
  /** How long to wait for anvil to answer `eth_chainId`. Default 30 000 ms. */
  startupTimeoutMs?: number;
}

/** A running anvil process. */
export interface AnvilInstance {
  /** JSON-RPC endpoint, `http://127.0.0.1:<port>`. */
  readonly rpcUrl: string;
  /** Chain id the node reports. */
  readonly chainId: number;
  /** Port the node listens on. */
  readonly port: number;
  /** Operating-system process id of the anvil binary. */
  readonly pid: number;
  /** The last lines anvil printed (stdout and stderr), for diagnostics. */
  logs(): string;
  /** Stops anvil and waits until it has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

const PID_MARKER = 'stipend-anvil-pid ';
const LISTENING = /Listening on (\S+):(\d+)/;
const MAX_LOG_LINES = 200;

/**
 * Shell wrapper that ties anvil's life to ours: the wrapper's stdin is a pipe from this
 * process, so when this process dies — even by SIGKILL, which runs no handler — the pipe
 * closes, `read` returns and the watcher kills anvil. `$0` is the anvil binary, `$@` its
 * flags. It prints anvil's pid first so that {@link AnvilInstance.stop} can signal it directly.
 */
const WATCHDOG_SCRIPT = [
  'exec 3<&0',
  '"$0" "$@" 3<&- &',
  'child=$!',
  `echo "${PID_MARKER}$child"`,
  '( read -r _ <&3; kill "$child" 2>/dev/null ) &',
  'watcher=$!',
  'wait "$child"',
  'code=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$code"',
].join('\n');

/**
 * Finds the anvil binary shipped by the `@foundry-rs/anvil` npm package (inside its
 * platform package, e.g. `@foundry-rs/anvil-linux-amd64/bin/anvil`). The environment
 * variable `STIPEND_ANVIL_BIN` overrides it.
 *
 * @example
 * ```ts
 * import { resolveAnvilBinary } from '@stipend/testkit/chain';
 * const bin = resolveAnvilBinary(); // '/…/@foundry-rs/anvil-linux-amd64/bin/anvil'
 * ```
 */
export function resolveAnvilBinary(): string {
  const override = process.env.STIPEND_ANVIL_BIN;
  if (override) {
    if (!existsSync(override)) {
      throw new Error(`STIPEND_ANVIL_BIN points to ${override}, which does not exist`);
    }
    return override;
  }
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const platformPackage = `@foundry-rs/anvil-${process.platform}-${arch}`;
  let anvilPackageJson: string;
  try {
    anvilPackageJson = createRequire(import.meta.url).resolve('@foundry-rs/anvil/package.json');
  } catch (error) {
    throw new Error(
      'Cannot find the npm package @foundry-rs/anvil: add it to the dependencies of the ' +
        'package that starts anvil, or set STIPEND_ANVIL_BIN to an anvil binary.',
      { cause: error },
    );
  }
  let platformPackageJson: string;
  try {
    platformPackageJson = createRequire(anvilPackageJson).resolve(
      `${platformPackage}/package.json`,
    );
  } catch (error) {
    throw new Error(
      `@foundry-rs/anvil is installed but its platform package ${platformPackage} is not ` +
        '(optional dependencies skipped?). Reinstall with optional dependencies, or set ' +
        'STIPEND_ANVIL_BIN to an anvil binary.',
      { cause: error },
    );
  }
  const binary = join(
    dirname(platformPackageJson),
    'bin',
    process.platform === 'win32' ? 'anvil.exe' : 'anvil',
  );
  if (!existsSync(binary)) {
    throw new Error(`${platformPackage} has no binary at ${binary}`);
  }
  return binary;
}

/** Every instance not yet stopped, so exit/signal handlers can kill them. */
const live = new Set<{ child: ChildProcess; anvilPid: () => number | undefined }>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;

function killAllSync(): void {
  for (const entry of live) {
    // Kill anvil itself and let the watchdog shell reap it and exit on its own; killing
    // the shell too would leave anvil a zombie until init gets round to reaping it.
    const pid = entry.anvilPid();
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
      else entry.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllSync();
  uninstallHandlers();
  // Our listener suppressed Node's default action; restore it if nobody else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.off('exit', killAllSync);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

async function rpcChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as { result?: string };
    return typeof body.result === 'string' ? Number.parseInt(body.result, 16) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a local anvil dev node on 127.0.0.1 (a free port unless `port` is given) and
 * resolves once it answers `eth_chainId`. anvil is killed when {@link AnvilInstance.stop}
 * is called, when this process exits or receives SIGINT/SIGTERM/SIGHUP, and — through a
 * small `/bin/sh` watchdog reading a pipe from this process — even when this process is
 * SIGKILLed. Its ten dev accounts come from anvil's public test mnemonic (see
 * {@link DEV_ACCOUNTS}).
 *
 * @example
 * ```ts
 * import { startAnvil } from '@stipend/testkit/chain';
 * const anvil = await startAnvil({ chainId: 31337 });
 * console.log(anvil.rpcUrl); // http://127.0.0.1:40123
 * await anvil.stop();
 * ```
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = options.chainId ?? 31337;
  const binary = resolveAnvilBinary();
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--chain-id',
    String(chainId),
    '--accounts',
    String(options.accounts ?? 10),
    '--balance',
    String(options.balanceEth ?? 10_000),
    '--color',
    'never',
  ];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.extraArgs) args.push(...options.extraArgs);

  const useWatchdog = process.platform !== 'win32';
  const child = useWatchdog
    ? spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, binary, ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });

  let anvilPid: number | undefined = useWatchdog ? undefined : child.pid;
  const entry = { child, anvilPid: () => anvilPid };
  live.add(entry);
  installHandlers();

  const logLines: string[] = [];
  let listening: { host: string; port: number } | undefined;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(entry);
      if (live.size === 0) uninstallHandlers();
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const collect = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.startsWith(PID_MARKER)) {
        anvilPid = Number(line.slice(PID_MARKER.length).trim());
        continue;
      }
      const match = LISTENING.exec(line);
      if (match?.[1] && match[2]) listening = { host: match[1], port: Number(match[2]) };
      if (line.trim() === '') continue;
      logLines.push(line);
      if (logLines.length > MAX_LOG_LINES) logLines.shift();
    }
  };
  // Always drain both pipes: a full pipe would block anvil.
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // A forgotten instance must not keep this process alive; the exit handler kills it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const logs = (): string => logLines.join('\n');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo) return;
      child.ref(); // keep this process alive until the exit event arrives
      try {
        if (anvilPid !== undefined) process.kill(anvilPid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        // already gone
      }
      child.stdin?.end();
      const timer = setTimeout(() => {
        try {
          if (anvilPid !== undefined) process.kill(anvilPid, 'SIGKILL');
        } catch {
          // already gone
        }
        child.kill('SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const deadline = Date.now() + (options.startupTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (spawnError) throw new Error(`could not start anvil (${binary}): ${spawnError.message}`);
      if (exitInfo) {
        throw new Error(
          `anvil exited during startup (code ${exitInfo.code}, signal ${exitInfo.signal}). ` +
            `Check the options (port in use? bad flag?). Output:\n${logs()}`,
        );
      }
      if (listening && (!useWatchdog || anvilPid !== undefined)) {
        const rpcUrl = `http://127.0.0.1:${listening.port}`;
        const reported = await rpcChainId(rpcUrl);
        if (reported !== undefined) {
          if (reported !== chainId) {
            throw new Error(`anvil reports chain id ${reported}, expected ${chainId}`);
          }
          const port = listening.port;
          const pid = anvilPid ?? -1;
          return { rpcUrl, chainId, port, pid, logs, stop };
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `anvil did not answer eth_chainId within ${options.startupTimeoutMs ?? 30_000} ms; ` +
            `raise startupTimeoutMs on a slow machine. Output:\n${logs()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
