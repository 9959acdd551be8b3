/**
 * An append-only JSON-lines journal file shared by processes on one machine: the
 * {@link JournalLog} behind the file budget store and the file ledger.
 *
 * Each line is `{"o":<byte offset of this line>,"w":"<writer token>","e":<entry>}` and ends
 * with `\n`. Appends go through `O_APPEND`, are `fdatasync`ed, then read back: an entry counts
 * only if its line starts exactly at the offset it names. That fence gives one total order
 * even when two writers race (a broken stale lock): the loser's line lands elsewhere, names
 * the wrong offset, and every reader ignores it while its writer retries.
 *
 * Crash safety: a process killed mid-append (`kill -9`) leaves at most an incomplete last
 * line. Readers never consume a line without its `\n`; the next writer (holding the lock)
 * first ends the fragment with `#\n`, so it becomes one unparsable line that every reader
 * skips (even a fragment that lacked only its newline). Nothing that a writer confirmed is ever rewritten or truncated.
 *
 * The few system calls of each operation are synchronous (the fdatasync dominates: well
 * under a millisecond on an idle SSD, a few ms on a busy disk) so that the lock is held as
 * briefly as possible; lock waits are asynchronous.
 *
 * Not done: compaction. The journal grows by one line per reserve, commit and release
 * (about 250 bytes for a reserve with two limits) and is replayed in full when a process
 * opens it; rotate it yourself between budget periods if it grows large.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Json } from '../codec.js';
import { storeUnavailable } from '../errors.js';
import { CONFLICT, type JournalLog } from '../journal/log.js';
import { createLockFile, type LockFile } from './lock.js';

/** Options of {@link openFileJournal}. */
export interface FileJournalOptions {
  /** The journal file; created (with its folder) if missing. The lock is `<path>.lock`. */
  readonly path: string;
  /** Give up waiting for the lock after this many ms (default 10 000). */
  readonly lockTimeoutMs?: number;
  /** Break a lock older than this many ms whatever its holder (default 30 000). */
  readonly staleLockMs?: number;
}

/** A file journal plus its counters. */
export interface FileJournal extends JournalLog {
  readonly path: string;
  /** Lines skipped: `junk` (unparsable: torn by a crash) and `void` (lost a race). */
  readonly stats: { junk: number; void: number; lock: LockFile['stats'] };
}

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Opens (or creates) a journal file.
 *
 * @param options - See {@link FileJournalOptions}.
 * @returns The journal.
 * @throws {StipendError} `STORE_UNAVAILABLE` when the file cannot be opened.
 *
 * @example
 * ```ts
 * import { openFileJournal } from './journal.js';
 *
 * const journal = await openFileJournal({ path: '/var/lib/agent/budget.jsonl' });
 * const { entries, cursor } = await journal.read(0);
 * ```
 */
export async function openFileJournal(options: FileJournalOptions): Promise<FileJournal> {
  const { path } = options;
  let fd: number;
  try {
    const folder = dirname(path);
    mkdirSync(folder, { recursive: true });
    let created = false;
    try {
      const flags = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL;
      fd = openSync(path, flags, 0o600);
      created = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      fd = openSync(path, 'a+');
    }
    if (created) syncFolder(folder);
  } catch (error) {
    throw storeUnavailable(
      `Cannot open the journal ${path}.`,
      'Pass a path in a writable folder.',
      error,
      { path },
    );
  }
  const file = fd;
  const lock = createLockFile({
    path: `${path}.lock`,
    ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}),
    ...(options.staleLockMs !== undefined ? { staleMs: options.staleLockMs } : {}),
  });
  const writer = randomBytes(6).toString('hex');
  const stats = { junk: 0, void: 0, lock: lock.stats };
  let closed = false;

  function ensureOpen(): void {
    if (closed) {
      throw storeUnavailable(`The journal ${path} is closed.`, 'Open a new store.');
    }
  }

  function readRange(start: number, end: number): Buffer {
    const buffer = Buffer.alloc(end - start);
    let done = 0;
    while (done < buffer.length) {
      const bytesRead = readSync(file, buffer, done, buffer.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  }

  return {
    path,
    stats,
    withLock: (fn) => lock.hold(fn),

    async read(cursor) {
      ensureOpen();
      const size = fstatSync(file).size;
      const entries: Json[] = [];
      let position = cursor;
      let carry: Buffer = Buffer.alloc(0);
      let carryStart = cursor;
      while (position < size) {
        const chunk = readRange(position, Math.min(size, position + CHUNK));
        if (chunk.length === 0) break;
        position += chunk.length;
        const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
        let lineStart = 0;
        for (;;) {
          const newline = data.indexOf(NEWLINE, lineStart);
          if (newline < 0) break;
          const entry = parseLine(data.subarray(lineStart, newline), carryStart + lineStart);
          if (entry !== undefined) entries.push(entry);
          lineStart = newline + 1;
        }
        carry = data.subarray(lineStart);
        carryStart += lineStart;
      }
      // An incomplete last line (a writer mid-append, or one killed there) is left unread.
      return { entries, cursor: carryStart };
    },

    async append(cursor, entry) {
      ensureOpen();
      const size = fstatSync(file).size;
      let prefix = '';
      if (size > cursor) {
        const unread = readRange(cursor, size);
        // Complete lines we have not replayed: the caller must catch up and decide again.
        if (unread.includes(NEWLINE)) return CONFLICT;
        // Only a fragment without its newline: torn by a crash. Close it off with a byte that
        // no JSON text may end with, so that even a fragment lacking only its newline stays
        // junk (its writer never confirmed it, and our decision did not count it).
        prefix = '#\n';
      } else if (size < cursor) {
        throw storeUnavailable(
          `The journal ${path} shrank below what was already read.`,
          'Never truncate or rewrite a journal in use; restore it and restart the processes.',
        );
      }
      const offset = size + prefix.length;
      const line = Buffer.from(`${JSON.stringify({ o: offset, w: writer, e: entry })}\n`);
      const bytes = prefix ? Buffer.concat([Buffer.from(prefix), line]) : line;
      const written = writeSync(file, bytes, 0, bytes.length, null);
      if (written !== bytes.length) {
        throw new Error(`short write: ${written} of ${bytes.length} bytes`);
      }
      fdatasyncSync(file);
      const landed = readRange(offset, offset + line.length);
      return landed.equals(line) ? offset + line.length : CONFLICT;
    },

    async close() {
      if (closed) return;
      closed = true;
      closeSync(file);
    },
  };

  function parseLine(line: Buffer, offset: number): Json | undefined {
    if (line.length === 0) return undefined;
    let record: { o?: unknown; e?: Json };
    try {
      record = JSON.parse(line.toString('utf8'));
    } catch {
      stats.junk++;
      return undefined;
    }
    if (typeof record !== 'object' || record === null || record.e === undefined) {
      stats.junk++;
      return undefined;
    }
    if (record.o !== offset) {
      stats.void++;
      return undefined;
    }
    return record.e;
  }
}

/** Makes a newly created file's directory entry durable. */
function syncFolder(folder: string): void {
  let handle: number | undefined;
  try {
    handle = openSync(folder, 'r');
    fsyncSync(handle);
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsyncs still apply.
  } finally {
    if (handle !== undefined) closeSync(handle);
  }
}
