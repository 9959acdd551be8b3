/**
 * Errors of the persistent stores. Budget semantics errors (`BUDGET_INVALID`,
 * `BUDGET_NOT_FOUND`, `BUDGET_CONFLICT`) are the in-memory store's; these add what only a
 * persistent store can hit.
 *
 * - `STORE_UNAVAILABLE`: the backing file, database or server cannot be used right now (lock
 *   timeout, I/O error, connection refused). Nothing was reserved, committed or released by
 *   the failed call unless the error says otherwise; retrying with the same id is safe.
 * - `STORE_CORRUPT`: persisted state contradicts itself (a journal record that cannot be
 *   replayed). The store refuses to guess rather than risk under-counting a budget.
 * - `LEDGER_CONFLICT` / `LEDGER_NOT_FOUND`: a spend record id appended twice / updated before
 *   it was appended.
 *
 * @module
 */
import { StipendError } from '@stipend/client';

/**
 * An error for a store that cannot be used right now (`STORE_UNAVAILABLE`).
 *
 * @example
 * ```ts
 * import { storeUnavailable } from './errors.js';
 * throw storeUnavailable('Cannot open /data/budget.jsonl.', 'Pass a path in a writable folder.');
 * ```
 */
export function storeUnavailable(
  message: string,
  fix: string,
  cause?: unknown,
  details?: Record<string, unknown>,
): StipendError {
  return new StipendError('STORE_UNAVAILABLE', message, {
    metaMessages: [fix],
    cause,
    ...(details ? { details } : {}),
  });
}

/**
 * An error for persisted state that cannot be trusted (`STORE_CORRUPT`).
 *
 * @example
 * ```ts
 * import { storeCorrupt } from './errors.js';
 * throw storeCorrupt('Cannot replay entry 7.', 'Restore the journal from a backup.');
 * ```
 */
export function storeCorrupt(
  message: string,
  fix: string,
  cause?: unknown,
  details?: Record<string, unknown>,
): StipendError {
  return new StipendError('STORE_CORRUPT', message, {
    metaMessages: [fix],
    cause,
    ...(details ? { details } : {}),
  });
}

/**
 * An error for invalid budget input (`BUDGET_INVALID`, the in-memory store's code).
 *
 * @example
 * ```ts
 * import { budgetInvalid } from './errors.js';
 * throw budgetInvalid('Invalid retainMs -1.', 'Use a positive whole number of ms.');
 * ```
 */
export function budgetInvalid(message: string, fix: string): StipendError {
  return new StipendError('BUDGET_INVALID', message, { metaMessages: [fix] });
}
