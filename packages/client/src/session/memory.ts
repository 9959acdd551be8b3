/**
 * The in-memory session store (one process): the default of `createPayingFetch({ sessions })`.
 *
 * @module
 */
import {
  LIVE_SESSION_STATES,
  type SessionFilter,
  type SessionPutConflict,
  type SessionRecord,
  type SessionStore,
} from './types.js';

/**
 * Creates a session store kept in memory. Compare-and-set writes; at most one live session
 * per scope. Records are copied in and out, so nobody changes one behind the store's back.
 *
 * @example
 * ```ts
 * import { createMemorySessionStore, createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * const payingFetch = createPayingFetch({
 *   wallets,
 *   sessions: { methods: [lightningSessionMethod()], store: createMemorySessionStore() },
 * });
 * ```
 */
export function createMemorySessionStore(): SessionStore {
  const records = new Map<string, SessionRecord>();
  const copy = (record: SessionRecord): SessionRecord =>
    Object.freeze({ ...record, holds: Object.freeze(record.holds.map((h) => ({ ...h }))) });

  function liveOfScope(scope: string, except: string): SessionRecord | undefined {
    for (const record of records.values()) {
      if (record.id !== except && record.scope === scope && isLive(record)) return record;
    }
    return undefined;
  }

  return {
    async get(id) {
      const record = records.get(id);
      return record && copy(record);
    },
    async list(filter?: SessionFilter) {
      const out: SessionRecord[] = [];
      for (const record of records.values()) if (matches(record, filter)) out.push(copy(record));
      return out;
    },
    async put(record, expectedVersion) {
      const stored = records.get(record.id);
      if (expectedVersion === 0 ? stored !== undefined : stored?.version !== expectedVersion) {
        return conflict(stored && copy(stored));
      }
      if (isLive(record)) {
        const other = liveOfScope(record.scope, record.id);
        if (other) return conflict(copy(other));
      }
      const next = copy({ ...record, version: expectedVersion + 1 });
      records.set(record.id, next);
      return { ok: true, record: next };
    },
    async byScope(origin, realm, method) {
      const out: SessionRecord[] = [];
      for (const record of records.values()) {
        if (record.origin === origin && record.realm === realm && record.method === method) {
          out.push(copy(record));
        }
      }
      return out;
    },
  };
}

function isLive(record: SessionRecord): boolean {
  return LIVE_SESSION_STATES.includes(record.state);
}

function matches(record: SessionRecord, filter: SessionFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.states && !filter.states.includes(record.state)) return false;
  if (filter.origin !== undefined && record.origin !== filter.origin) return false;
  if (filter.method !== undefined && record.method !== filter.method) return false;
  return true;
}

function conflict(current: SessionRecord | undefined): SessionPutConflict {
  return { ok: false, current };
}
