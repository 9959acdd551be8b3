/**
 * The append-only log that the file and browser stores replicate from.
 *
 * Every process (or tab) keeps the state in memory and catches up by reading the entries
 * appended since its cursor. A write is *fenced*: it is appended at the position the writer
 * has read up to, and fails with {@link CONFLICT} when another writer got there first, so two
 * writers can never both act on the same stale state — even if the lock that normally keeps
 * them apart were broken. The log decides one total order; every replica replays it the same
 * way.
 *
 * @module
 */
import type { Json } from '../codec.js';

/** Returned by {@link JournalLog.append} when the log moved past the writer's cursor. */
export const CONFLICT: unique symbol = Symbol('stipend.journal.conflict');

/** Where a replica stands in a log: a byte offset (file) or the last sequence number (IndexedDB). */
export type Cursor = number;

/** An append-only log of JSON entries shared by processes or tabs. */
export interface JournalLog {
  /**
   * Runs `fn` holding the log's cross-process (or cross-tab) lock. The lock is for fairness
   * and throughput; correctness rests on fenced appends.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /** The entries appended after `cursor`, oldest first, and the cursor after the last one. */
  read(cursor: Cursor): Promise<{ readonly entries: readonly Json[]; readonly cursor: Cursor }>;
  /**
   * Appends `entry` durably right after `cursor`, returning the new cursor, or
   * {@link CONFLICT} when entries were appended after `cursor` by someone else (the entry then
   * does not count, wherever its bytes went).
   */
  append(cursor: Cursor, entry: Json): Promise<Cursor | typeof CONFLICT>;
  /** Releases files or connections. */
  close(): Promise<void>;
}
