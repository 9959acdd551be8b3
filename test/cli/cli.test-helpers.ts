/**
 * Running the BUILT `stipend` binary as a child process, the way a person or a script runs
 * it. The suites rely on the build that `pnpm test` makes before Vitest runs (or on
 * `pnpm run build`): they never rebuild, so they cannot race other suites that read `dist/`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Marketplace } from '@stipend/testkit/market';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/** Throws a clear message when the CLI is not built. */
export function assertBuilt(): void {
  if (!existsSync(BIN)) {
    throw new Error(
      `${BIN} is missing: run \`pnpm run build\` (pnpm test does it) before this suite`,
    );
  }
}

/** What a finished process said. */
export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a child gets: no proxies and no STIPEND_* from the parent, plus `env`. */
export function childEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('STIPEND_') || /^(https?|no|all)_proxy$/i.test(name)) continue;
    clean[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete clean[name];
    else clean[name] = value;
  }
  return clean;
}

/** Waits for a child to exit and collects its output. */
export function finished(child: ChildProcess, timeoutMs = 30_000): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs `node packages/cli/dist/bin.js ...args`. `input` is written to stdin, which is then
 * closed (stdin is a pipe: not a terminal).
 */
export async function stipend(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.input ?? '');
  return finished(child);
}

/** A fresh, empty stipend home directory. */
export function tempHome(prefix = 'stipend-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes the marketplace's wallet settings to `<dir>/wallets.json` and returns the path. */
export function walletsFile(market: Marketplace, dir: string): string {
  const path = join(dir, 'wallets.json');
  writeFileSync(path, JSON.stringify(market.wallets));
  return path;
}

/** Writes a policy to `<dir>/<name>` and returns the path. */
export function policyFile(dir: string, policy: unknown, name = 'policy.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(policy));
  return path;
}

/** Whether a process id is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
