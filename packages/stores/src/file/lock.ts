/**
 * A cross-process lock file for Node, without native modules.
 *
 * Acquire: create `<path>` with `open(…, 'wx')` (O_CREAT | O_EXCL: exactly one process wins)
 * and write `{ pid, host, token, at }` into it. Release: delete it if it still holds our token.
 *
 * Stale locks (a holder killed with `kill -9` never deletes its file) are broken when:
 * - the holder is on this host and its pid no longer exists (`process.kill(pid, 0)` → ESRCH);
 * - the file is empty or unreadable and older than `emptyStaleMs` (a holder killed between
 *   creating and writing it);
 * - the file is older than `staleMs` whatever it says (a holder on another host, a reused pid,
 *   a stopped process).
 *
 * The file operations are synchronous (microseconds each) so that the lock is held as briefly
 * as possible; waiting for a busy lock is asynchronous (short sleeps with jittered backoff).
 *
 * Breaking a lock is not perfectly race-free (two waiters may both judge it stale), which is
 * why the journal never relies on the lock for correctness: its appends are fenced (see
 * `journal.ts`). The lock only keeps writers from wasting work on lost races.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { storeUnavailable } from '../errors.js';

/** Options of {@link createLockFile}. */
export interface LockFileOptions {
  /** The lock file's path. */
  readonly path: string;
  /** Give up acquiring after this many ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Break any lock older than this many ms (default 30 000). */
  readonly staleMs?: number;
  /** Break an empty or unreadable lock older than this (default 2 000). */
  readonly emptyStaleMs?: number;
}

/** A lock file; see {@link createLockFile}. */
export interface LockFile {
  /** Runs `fn` holding the lock. */
  hold<T>(fn: () => Promise<T>): Promise<T>;
  /** How many stale locks this instance broke. */
  readonly stats: { staleBroken: number; waits: number };
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

/**
 * Creates a lock-file mutex.
 *
 * @param options - See {@link LockFileOptions}.
 * @returns The lock.
 *
 * @example
 * ```ts
 * import { createLockFile } from './lock.js';
 *
 * const lock = createLockFile({ path: '/tmp/budget.jsonl.lock' });
 * await lock.hold(async () => {
 *   // only one process at a time runs here
 * });
 * ```
 */
export function createLockFile(options: LockFileOptions): LockFile {
  const { path } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const emptyStaleMs = options.emptyStaleMs ?? 2_000;
  const host = hostname();
  const stats = { staleBroken: 0, waits: 0 };

  async function acquire(): Promise<string> {
    const token = randomBytes(12).toString('hex');
    const content = JSON.stringify({ pid: process.pid, host, token, at: Date.now() });
    const deadline = Date.now() + timeoutMs;
    let pause = 1;
    for (;;) {
      try {
        writeFileSync(path, content, { flag: 'wx' });
        return token;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw storeUnavailable(
            `Cannot create the lock file ${path}.`,
            'Check that its folder exists and is writable.',
            error,
          );
        }
      }
      if (breakIfStale()) continue;
      if (Date.now() >= deadline) {
        throw storeUnavailable(
          `Timed out after ${timeoutMs} ms waiting for the lock ${path}.`,
          'Another process holds it; if none is running, delete the file.',
          undefined,
          { path },
        );
      }
      stats.waits++;
      await sleep(pause + Math.random() * pause);
      pause = Math.min(pause * 2, 16);
    }
  }

  /** Deletes the lock when it is stale; true when it did (or the lock vanished). */
  function breakIfStale(): boolean {
    let text: string;
    let ageMs: number;
    try {
      text = readFileSync(path, 'utf8');
      ageMs = Date.now() - statSync(path).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw storeUnavailable(`Cannot read the lock file ${path}.`, 'Check its permissions.', error);
    }
    const holder = parseHolder(text);
    const stale =
      ageMs > staleMs ||
      (holder === undefined && ageMs > emptyStaleMs) ||
      (holder !== undefined && holder.host === host && !isAlive(holder.pid));
    if (!stale) return false;
    // Only delete what we judged: if the file changed meanwhile, look again.
    try {
      if (readFileSync(path, 'utf8') !== text) return true;
      unlinkSync(path);
      stats.staleBroken++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return true;
  }

  function release(token: string): void {
    try {
      if (parseHolder(readFileSync(path, 'utf8'))?.token === token) unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  return {
    stats,
    async hold(fn) {
      const token = await acquire();
      try {
        return await fn();
      } finally {
        release(token);
      }
    },
  };
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (
      typeof value?.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.token === 'string'
    ) {
      return value as Holder;
    }
  } catch {
    // An empty or half-written lock file.
  }
  return undefined;
}

/** Whether a process with this pid exists on this host. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
