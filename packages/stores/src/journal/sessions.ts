/**
 * A {@link SessionStore} replicated from a {@link JournalLog} (the file and IndexedDB session
 * stores are this plus their log). A `put` decides on caught-up state under the log's lock and
 * appends one fenced entry `{ t: 'p', record }` (the whole record as stored, version bumped),
 * so across every process (or tab) sharing the log exactly one of N concurrent writes from one
 * version wins, and at most one session per scope is live.
 *
 * Replay checks what it reads: a record that cannot be read, a version that does not follow
 * the stored one, or a second live session of a scope is `STORE_CORRUPT` (the store refuses
 * to guess rather than open a second session on a deposit it cannot account for).
 *
 * Not done: compaction. Every put is one line holding the whole record; rotate the file
 * between sessions' lifetimes if it grows large.
 *
 * @module
 */
import type { SessionPutConflict, SessionRecord, SessionStore } from '@stipend/client';
import type { Json } from '../codec.js';
import { storeCorrupt } from '../errors.js';
import {
  isLiveSession,
  matchesSessionFilter,
  sessionFromStore,
  sessionToStore,
} from '../sessions/record.js';
import type { JournalLog } from './log.js';
import { createReplica } from './replica.js';

/** A persisted session store. */
export interface PersistedSessionStore extends SessionStore {
  /** Releases the underlying file, database or connection. */
  close(): Promise<void>;
}

/** Records in creation order, and the live session of each scope. */
interface State {
  readonly records: Map<string, SessionRecord>;
  readonly live: Map<string, string>;
}

/** Why a put cannot happen on this state, or undefined when it can. */
function conflictOf(state: State, record: SessionRecord): SessionPutConflict | undefined {
  const stored = state.records.get(record.id);
  if ((stored?.version ?? 0) !== record.version - 1) return { ok: false, current: stored };
  if (isLiveSession(record)) {
    const holder = state.live.get(record.scope);
    if (holder !== undefined && holder !== record.id) {
      return { ok: false, current: state.records.get(holder) };
    }
  }
  return undefined;
}

/** Stores a record that passed {@link conflictOf} (a writer's decision, and replay). */
function store(state: State, record: SessionRecord): void {
  const stored = state.records.get(record.id);
  if (stored && state.live.get(stored.scope) === record.id) state.live.delete(stored.scope);
  if (isLiveSession(record)) state.live.set(record.scope, record.id);
  state.records.set(record.id, record);
}

/**
 * Creates a session store over a journal log.
 *
 * @param log - The shared log.
 * @param describe - Names the log in errors.
 * @returns The store.
 *
 * @example
 * ```ts
 * import { createJournaledSessionStore } from './sessions.js';
 * const sessions = createJournaledSessionStore(log, 'the session journal ./sessions.jsonl');
 * ```
 */
export function createJournaledSessionStore(
  log: JournalLog,
  describe: string,
): PersistedSessionStore {
  const replica = createReplica<State>({
    log,
    describe,
    init: () => ({ records: new Map(), live: new Map() }),
    apply: (state, json) => {
      const op = json as { t?: unknown; record?: unknown } | null;
      if (op?.t !== 'p') {
        throw storeCorrupt(
          `Unknown entry in ${describe}.`,
          'The session journal was written by something else; use another path.',
        );
      }
      const record = sessionFromStore(op.record, describe);
      if (conflictOf(state, record)) {
        throw storeCorrupt(
          `Session ${record.id} in ${describe} does not follow its stored version, or shares its scope with another live session.`,
          'The session journal was edited by hand; restore it from a backup.',
          undefined,
          { id: record.id },
        );
      }
      store(state, record);
    },
  });

  const pick = (filter: (record: SessionRecord) => boolean) =>
    replica.read((state) => [...state.records.values()].filter(filter));

  return {
    async put(input, expectedVersion) {
      const { record, json } = sessionToStore(input, expectedVersion);
      type Put = Awaited<ReturnType<SessionStore['put']>>;
      return replica.write<Put>(async (state) => {
        const conflict = conflictOf(state, record);
        if (conflict) return { result: conflict };
        store(state, record);
        return { result: { ok: true as const, record }, entry: { t: 'p', record: json } as Json };
      });
    },
    get: (id) => replica.read((state) => state.records.get(id)),
    list: (filter) => pick((record) => matchesSessionFilter(record, filter)),
    byScope: (origin, realm, method) =>
      pick(
        (record) => record.origin === origin && record.realm === realm && record.method === method,
      ),
    close: () => log.close(),
  };
}
