/**
 * `stipend console`: the spend console of `@stipend/console` on the agents' stores — a local
 * web page that shows what they spend and where a person approves what they wait for. The URL
 * (with its token) is the first line on stdout; the console runs until SIGINT or SIGTERM.
 *
 * @module
 */
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { readPolicyFile } from '../policy/load.js';

export const CONSOLE_HELP = `Usage: stipend console [options]

Serves the spend console on this machine: what agents spend (a chart per hour and day, budgets
per window and scope, the ledger with filters and CSV), the approvals they wait for (Approve /
Deny), and held purchases to settle. It reads the stores the agents use, so a decision made in
the page reaches an agent in another process. The first line printed is the URL, with its token:
only that URL opens it. Stop it with Ctrl-C.

Where the agents' stores are (one of):
      --dir <folder>        the folder of the agents' createFileStores({ dir })
      --budget <file> --ledger <file> [--approvals <file>] [--journal <file>]
                            single @stipend/stores files (they override --dir's)
      --redis <url>         budget, ledger and purchases in Redis (approvals from --approvals)
      --redis-prefix <p>    the agents' Redis key prefix (default stipend:)

Options:
      --port <n>            port to listen on (default: a free one)
      --host <address>      address to listen on (default 127.0.0.1)
      --allow-remote        listen beyond loopback (plain HTTP: only behind TLS or a tunnel)
      --policy <file>       the agents' JSON spend policy: its limits show before anything is spent
  -h, --help                this help

The console reads @stipend/stores files and Redis; the ledger of stipend fetch
(~/.config/stipend/ledger.jsonl) is another format and is not read.
`;

interface ConsoleFlags {
  port?: string;
  host?: string;
  'allow-remote'?: boolean;
  dir?: string;
  budget?: string;
  ledger?: string;
  approvals?: string;
  journal?: string;
  redis?: string;
  'redis-prefix'?: string;
  policy?: string;
  help?: boolean;
}

/** Options of {@link consoleCommand}, for tests and embedding. */
export interface ConsoleCommandOptions {
  /** Resolves when the console should stop. Default: the first SIGINT or SIGTERM. */
  readonly until?: Promise<unknown>;
}

/**
 * Runs `stipend console` until it is stopped. Returns the exit code.
 *
 * @example
 * ```ts
 * import { consoleCommand } from './console.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await consoleCommand(['--dir', '/var/lib/agent'], processIo());
 * ```
 */
export async function consoleCommand(
  args: readonly string[],
  io: CliIo,
  options: ConsoleCommandOptions = {},
): Promise<number> {
  const { values: flags, positionals } = parse<ConsoleFlags>('console', args, {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    dir: { type: 'string' },
    budget: { type: 'string' },
    ledger: { type: 'string' },
    approvals: { type: 'string' },
    journal: { type: 'string' },
    redis: { type: 'string' },
    'redis-prefix': { type: 'string' },
    policy: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(CONSOLE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new CliError(
      `stipend console takes no arguments (got "${positionals[0]}"); say where the stores are with --dir <folder>`,
      EXIT.usage,
    );
  }
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65_535) {
      throw new CliError(
        `--port must be a port number from 0 to 65535, e.g. --port 4700, not "${flags.port}"`,
        EXIT.usage,
      );
    }
  }
  const policy = flags.policy !== undefined ? readPolicyFile(flags.policy) : undefined;
  // Loaded only here: the other commands never load the console's server.
  const { openConsoleStores, startConsole } = await import('@stipend/console');
  let stores: Awaited<ReturnType<typeof openConsoleStores>>;
  try {
    stores = await openConsoleStores({
      ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
      ...(flags.budget !== undefined ? { budget: flags.budget } : {}),
      ...(flags.ledger !== undefined ? { ledger: flags.ledger } : {}),
      ...(flags.approvals !== undefined ? { approvals: flags.approvals } : {}),
      ...(flags.journal !== undefined ? { journal: flags.journal } : {}),
      ...(flags.redis !== undefined ? { redis: flags.redis } : {}),
      ...(flags['redis-prefix'] !== undefined ? { redisPrefix: flags['redis-prefix'] } : {}),
    });
  } catch (error) {
    const message = (error as Error).message;
    if (/Cannot find (package|module) 'redis'/.test(message)) {
      throw new CliError(
        'stipend console: --redis needs the redis package beside @stipend/cli: npm i redis (or pnpm add redis)',
      );
    }
    throw new CliError(`stipend console: ${message}`, EXIT.usage);
  }
  let running: Awaited<ReturnType<typeof startConsole>>;
  try {
    running = await startConsole({
      stores,
      ...(port !== undefined ? { port } : {}),
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...(flags['allow-remote'] ? { allowRemote: true } : {}),
      ...(policy !== undefined ? { policy } : {}),
      onError: (error) => io.stderr.write(`stipend console: ${(error as Error)?.stack ?? error}\n`),
    });
  } catch (error) {
    await stores.close();
    const message = (error as Error).message.replace(
      /\(--allow-remote\)|allowRemote: true/g,
      '--allow-remote',
    );
    throw new CliError(`stipend console: ${message}`, EXIT.usage);
  }
  io.stdout.write(`${running.url}\n`);
  for (const source of stores.sources) io.stderr.write(`stipend console: ${source}\n`);
  for (const note of stores.notes) io.stderr.write(`stipend console: note: ${note}\n`);
  io.stderr.write('stipend console: open the URL above in a browser; Ctrl-C stops it\n');
  try {
    await (options.until ?? stopSignal());
  } finally {
    await running.close();
    await stores.close();
  }
  io.stderr.write('stipend console: stopped\n');
  return EXIT.ok;
}

/** The first SIGINT or SIGTERM (the listeners are removed once it comes). */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
