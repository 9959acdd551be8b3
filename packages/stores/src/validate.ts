/**
 * Input checks for stores that do not delegate to the in-memory store (Redis): the same
 * rules and `BUDGET_INVALID` messages as `createMemoryBudgetStore`.
 *
 * @module
 */
import { type BudgetLimit, type ReserveRequest, windowKey } from '@stipend/client';
import { budgetInvalid } from './errors.js';

/**
 * Throws `BUDGET_INVALID` naming the first malformed field of a reservation request.
 *
 * @example
 * ```ts
 * import { validateReserveRequest } from './validate.js';
 * validateReserveRequest({ id: 'r1', limits: [], usdMicros: 1n, now: Date.now(), expiresAt: Date.now() });
 * ```
 */
export function validateReserveRequest(request: ReserveRequest): void {
  if (typeof request !== 'object' || request === null) {
    throw budgetInvalid(
      'Invalid reservation request.',
      'Pass { id, limits, usdMicros, now, expiresAt }.',
    );
  }
  const { id } = request;
  if (typeof id !== 'string' || id === '') {
    throw budgetInvalid(`Invalid reservation id ${String(id)}.`, 'Use a non-empty string id.');
  }
  if (typeof request.usdMicros !== 'bigint' || request.usdMicros < 0n) {
    throw budgetInvalid(
      `Invalid amount ${String(request.usdMicros)} for reservation "${id}".`,
      'Pass usdMicros as a bigint of USD micro-units, 0n or more.',
    );
  }
  if (typeof request.now !== 'number' || !Number.isFinite(request.now)) {
    throw budgetInvalid(
      `Invalid now ${String(request.now)} for reservation "${id}".`,
      'Pass ms since epoch.',
    );
  }
  if (typeof request.expiresAt !== 'number' || Number.isNaN(request.expiresAt)) {
    throw budgetInvalid(
      `Invalid expiresAt ${String(request.expiresAt)} for reservation "${id}".`,
      'Pass ms since epoch.',
    );
  }
  if (!Array.isArray(request.limits)) {
    throw budgetInvalid(
      `Invalid limits for reservation "${id}".`,
      'Pass an array of limits (may be empty).',
    );
  }
  for (const limit of request.limits as readonly BudgetLimit[]) validateLimit(limit);
  if (request.meta !== undefined) {
    if (typeof request.meta !== 'object' || request.meta === null) {
      throw budgetInvalid(
        `Invalid meta for reservation "${id}".`,
        'Pass an object of strings, or leave it out.',
      );
    }
    for (const [key, value] of Object.entries(request.meta)) {
      if (typeof value !== 'string') {
        throw budgetInvalid(
          `Invalid meta value for "${key}" in reservation "${id}".`,
          'Meta values are strings.',
        );
      }
    }
  }
}

function validateLimit(limit: BudgetLimit): void {
  if (typeof limit?.scope !== 'string' || limit.scope === '') {
    throw budgetInvalid(
      `Invalid limit scope ${String(limit?.scope)}.`,
      'Use a non-empty string such as "global".',
    );
  }
  windowKey(limit.window);
  if (
    limit.maxUsdMicros !== undefined &&
    (typeof limit.maxUsdMicros !== 'bigint' || limit.maxUsdMicros < 0n)
  ) {
    throw budgetInvalid(
      `Invalid maxUsdMicros ${String(limit.maxUsdMicros)} for scope "${limit.scope}".`,
      'Use a bigint of USD micro-units, 0n or more.',
    );
  }
  if (
    limit.maxCount !== undefined &&
    (!Number.isSafeInteger(limit.maxCount) || limit.maxCount < 0)
  ) {
    throw budgetInvalid(
      `Invalid maxCount ${String(limit.maxCount)} for scope "${limit.scope}".`,
      'Use a whole number of payments, 0 or more.',
    );
  }
}

/**
 * Throws `BUDGET_INVALID` unless `amount` is a bigint ≥ 0.
 *
 * @example
 * ```ts
 * import { validateCommitAmount } from './validate.js';
 * validateCommitAmount('r1', 5n);
 * ```
 */
export function validateCommitAmount(id: string, amount: bigint): void {
  if (typeof amount !== 'bigint' || amount < 0n) {
    throw budgetInvalid(
      `Invalid committed amount ${String(amount)} for reservation "${id}".`,
      'Pass the actual cost as a bigint of USD micro-units, 0n or more.',
    );
  }
}

/**
 * A frozen copy of a limit holding only its known fields.
 *
 * @example
 * ```ts
 * import { copyLimit } from './validate.js';
 * copyLimit({ scope: 'global', window: { kind: 'total' }, maxCount: 3 });
 * ```
 */
export function copyLimit(limit: BudgetLimit): BudgetLimit {
  return Object.freeze({
    scope: limit.scope,
    window: Object.freeze({ ...limit.window }),
    ...(limit.maxUsdMicros !== undefined ? { maxUsdMicros: limit.maxUsdMicros } : {}),
    ...(limit.maxCount !== undefined ? { maxCount: limit.maxCount } : {}),
  });
}
