/**
 * A {@link BudgetStore} replicated from a {@link JournalLog}: the in-memory store of
 * `@stipend/client` holds the state (so the semantics are exactly its own), and every change
 * is one journal entry that replays deterministically.
 *
 * Entries: `{ t: 'r', id, limits, usd, at, exp, meta? }` (reserve), `{ t: 'c', id, usd }`
 * (commit), `{ t: 'x', id }` (release), encoded with `codec.ts`. Only state changes are logged:
 * an idempotent replay of a reserve or commit, or a repeated release, appends nothing.
 *
 * @module
 */
import {
  type BudgetLimit,
  type BudgetStore,
  createMemoryBudgetStore,
  type MemoryBudgetStore,
  type Reservation,
  type ReserveRequest,
} from '@stipend/client';
import { decodeJson, encodeJson, type Json } from '../codec.js';
import { storeCorrupt } from '../errors.js';
import type { JournalLog } from './log.js';
import { createReplica, type Replica } from './replica.js';

/** A journaled budget store plus replication counters. */
export interface JournaledBudgetStore extends BudgetStore {
  /** Replication counters (conflicts lost, rebuilds, entries replayed). */
  readonly stats: Replica<MemoryBudgetStore>['stats'];
  /** Releases the underlying file or database. */
  close(): Promise<void>;
}

interface ReserveEntry {
  readonly t: 'r';
  readonly id: string;
  readonly limits: readonly BudgetLimit[];
  readonly usd: bigint;
  readonly at: number;
  readonly exp: number;
  readonly meta?: Readonly<Record<string, string>>;
}
interface CommitEntry {
  readonly t: 'c';
  readonly id: string;
  readonly usd: bigint;
}
interface ReleaseEntry {
  readonly t: 'x';
  readonly id: string;
}
type Entry = ReserveEntry | CommitEntry | ReleaseEntry;

/**
 * The state never forgets a reservation: every replica must make the same decisions from the
 * same journal, whatever its options, and forgetting would let a replayed id count twice.
 */
function freshState(): MemoryBudgetStore {
  return createMemoryBudgetStore({ maxEntries: Number.MAX_SAFE_INTEGER });
}

/**
 * Creates a budget store over a journal log (the file and browser stores are this plus their
 * log).
 *
 * @param log - The shared log.
 * @param describe - Names the log in errors, e.g. `the budget journal /var/lib/app/budget.jsonl`.
 * @returns The store.
 *
 * @example
 * ```ts
 * import { createJournaledBudgetStore } from './budget.js';
 * import { createFileJournal } from '../file/journal.js';
 *
 * const store = createJournaledBudgetStore(await createFileJournal({ path: 'budget.jsonl' }), 'budget.jsonl');
 * ```
 */
export function createJournaledBudgetStore(
  log: JournalLog,
  describe: string,
): JournaledBudgetStore {
  const replica = createReplica<MemoryBudgetStore>({
    log,
    describe,
    init: freshState,
    apply: (state, json) => replay(state, json, describe),
  });
  return {
    stats: replica.stats,
    close: () => log.close(),
    reserve(request) {
      return replica.write(async (state) => {
        const before = await state.get(request?.id);
        const result = await state.reserve(request);
        if (before || !result.ok) return { result };
        return { result, entry: reserveEntry(result.reservation) };
      });
    },
    commit(id, actualUsdMicros) {
      return replica.write(async (state) => {
        const before = await state.get(id);
        const result = await state.commit(id, actualUsdMicros);
        if (before?.state !== 'held') return { result };
        return { result, entry: encodeJson({ t: 'c', id, usd: actualUsdMicros }) };
      });
    },
    release(id) {
      return replica.write(async (state) => {
        const before = await state.get(id);
        const result = await state.release(id);
        if (before?.state !== 'held') return { result };
        return { result, entry: encodeJson({ t: 'x', id }) };
      });
    },
    usage(limit, now) {
      return replica.read((state) => state.usage(limit, now));
    },
    get(id) {
      return replica.read((state) => state.get(id));
    },
    expired(now) {
      return replica.read((state) => state.expired(now));
    },
  };
}

function reserveEntry(reservation: Reservation): Json {
  return encodeJson({
    t: 'r',
    id: reservation.id,
    limits: reservation.limits,
    usd: reservation.usdMicros,
    at: reservation.at,
    exp: reservation.expiresAt,
    meta: reservation.meta,
  });
}

async function replay(state: MemoryBudgetStore, json: Json, describe: string): Promise<void> {
  let entry: Entry;
  try {
    entry = decodeJson(json) as Entry;
  } catch (error) {
    throw corrupt(describe, `an undecodable entry`, error);
  }
  try {
    if (entry?.t === 'r') {
      const request: ReserveRequest = {
        id: entry.id,
        limits: entry.limits,
        usdMicros: entry.usd,
        now: entry.at,
        expiresAt: entry.exp,
        ...(entry.meta ? { meta: entry.meta } : {}),
      };
      const result = await state.reserve(request);
      if (!result.ok) throw new Error(`reservation "${entry.id}" no longer fits on replay`);
    } else if (entry?.t === 'c') {
      await state.commit(entry.id, entry.usd);
    } else if (entry?.t === 'x') {
      await state.release(entry.id);
    } else {
      throw new Error(`unknown entry type ${JSON.stringify((entry as { t?: unknown })?.t)}`);
    }
  } catch (error) {
    throw corrupt(describe, `entry ${JSON.stringify(json)}`, error);
  }
}

function corrupt(describe: string, what: string, cause: unknown) {
  return storeCorrupt(
    `Cannot replay ${what} from ${describe}.`,
    'The journal was written by an incompatible version or edited by hand; restore it from a backup or move it aside (the budget then starts empty).',
    cause,
  );
}
