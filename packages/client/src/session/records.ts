/**
 * Compare-and-set updates of session records, and the small pure helpers the manager shares.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type { SessionRecord, SessionStore } from './types.js';

/** How many times a compare-and-set update is tried before it reports a conflict. */
const MAX_TRIES = 64;

/**
 * Applies `change` to the latest stored version of session `id` and writes it with
 * compare-and-set, trying again on a concurrent write. `change` returns `undefined` to leave
 * the record as it is. Returns the stored record (changed or not), or `undefined` if unknown.
 *
 * @throws {StipendError} code `JOURNAL_CONFLICT` when the record keeps moving, or when the
 *   change would make a second live session of its scope.
 * @example
 * ```ts
 * import { updateSession } from './records.js';
 * await updateSession(store, id, (s) => ({ ...s, state: 'open' }), Date.now());
 * ```
 */
export async function updateSession(
  store: SessionStore,
  id: string,
  change: (current: SessionRecord) => SessionRecord | undefined,
  now: number,
): Promise<SessionRecord | undefined> {
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const current = await store.get(id);
    if (!current) return undefined;
    const next = change(current);
    if (!next) return current;
    const result = await store.put({ ...next, updatedAt: now }, current.version);
    if (result.ok) return result.record;
    if (result.current && result.current.id !== id) {
      throw new StipendError(
        'JOURNAL_CONFLICT',
        `Session ${id} cannot change: session ${result.current.id} holds its scope.`,
      );
    }
  }
  throw new StipendError(
    'JOURNAL_CONFLICT',
    `Session ${id} kept changing under concurrent writes; try again.`,
  );
}

/** The smaller of two bigints. */
export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
