/**
 * A replica of a state machine driven by a {@link JournalLog}: reads catch up, writes decide
 * on caught-up state under the log's lock and append one fenced entry.
 *
 * @module
 */
import type { Json } from '../codec.js';
import { storeUnavailable } from '../errors.js';
import { CONFLICT, type Cursor, type JournalLog } from './log.js';

/** What a write decided: its result, and the entry to append when the state changed. */
export interface Decision<T> {
  readonly result: T;
  /** Omitted when nothing changed (an idempotent replay): nothing is appended. */
  readonly entry?: Json;
}

/** Options of {@link createReplica}. */
export interface ReplicaOptions<S> {
  readonly log: JournalLog;
  /** A fresh, empty state. */
  readonly init: () => S;
  /** Applies one logged entry (replay); throws when the entry cannot apply. */
  readonly apply: (state: S, entry: Json) => Promise<void> | void;
  /**
   * How many fenced appends may lose a race in a row before giving up. Default 50; after
   * each loss the writer backs off for a random while (up to 2^n ms, at most 100 ms).
   */
  readonly maxConflicts?: number;
  /** Names the log in errors. */
  readonly describe: string;
}

/** A replica; see {@link createReplica}. */
export interface Replica<S> {
  /** Catches up, then runs `fn` on the state (no cross-process lock). */
  read<T>(fn: (state: S) => Promise<T> | T): Promise<T>;
  /**
   * Under the log's lock: catches up, lets `decide` change the state and say what to log,
   * appends it. `decide` must throw before changing anything, or change the state exactly as
   * replaying its entry would.
   */
  write<T>(decide: (state: S) => Promise<Decision<T>>): Promise<T>;
  /** Counters for tests and monitoring. */
  readonly stats: { conflicts: number; rebuilds: number; replayed: number };
}

/**
 * Creates a replica over a log.
 *
 * @example
 * ```ts
 * import { createReplica } from './replica.js';
 *
 * const counter = createReplica({ log, init: () => ({ n: 0 }), apply: (s) => void s.n++, describe: 'demo' });
 * await counter.write(async (s) => { s.n++; return { result: s.n, entry: 'inc' }; });
 * ```
 */
export function createReplica<S>(options: ReplicaOptions<S>): Replica<S> {
  const { log, init, apply, describe } = options;
  const maxConflicts = options.maxConflicts ?? 50;
  let state = init();
  let cursor: Cursor = 0;
  let tail: Promise<unknown> = Promise.resolve();
  const stats = { conflicts: 0, rebuilds: 0, replayed: 0 };

  /** Runs calls one at a time within this replica (the state is shared by them). */
  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }

  function reset(): void {
    state = init();
    cursor = 0;
    stats.rebuilds++;
  }

  async function catchUp(): Promise<void> {
    const { entries, cursor: next } = await log.read(cursor);
    for (const entry of entries) {
      try {
        await apply(state, entry);
      } catch (error) {
        // The state may be half-applied: start over on the next call, and say so now.
        reset();
        throw error;
      }
      stats.replayed++;
    }
    cursor = next;
  }

  return {
    stats,
    read(fn) {
      return serial(async () => {
        await catchUp();
        return fn(state);
      });
    },
    write(decide) {
      return serial(() =>
        log.withLock(async () => {
          for (let attempt = 0; ; attempt++) {
            await catchUp();
            const decision = await decide(state);
            if (decision.entry === undefined) return decision.result;
            let next: Cursor | typeof CONFLICT;
            try {
              next = await log.append(cursor, decision.entry);
            } catch (error) {
              // The in-memory state already moved; the log may or may not have the entry.
              reset();
              throw storeUnavailable(
                `Could not append to ${describe}.`,
                'Check that it is writable and has space, then retry with the same id (retries are idempotent).',
                error,
              );
            }
            if (next !== CONFLICT) {
              cursor = next;
              return decision.result;
            }
            stats.conflicts++;
            reset();
            if (attempt + 1 >= maxConflicts) {
              throw storeUnavailable(
                `Lost ${maxConflicts} races in a row appending to ${describe}.`,
                'Other writers keep winning; retry later with the same id.',
              );
            }
            await sleep(Math.random() * Math.min(2 ** attempt, 100));
          }
        }),
      );
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
