/**
 * Budgets that remember earlier runs: a budget store that counts, on top of its own
 * reservations, what the ledger says was spent before this process started. A short-lived
 * command (`stipend fetch`) then honours daily and rolling limits across runs.
 *
 * @module
 */
import {
  type BudgetLimit,
  type BudgetStore,
  isStipendError,
  matchHost,
  type Reservation,
  type SpendRecord,
  windowKey,
  windowStart,
} from '@stipend/client';

/** What earlier runs spent in one limit's scope and window. */
interface Spent {
  readonly committed: bigint;
  readonly held: bigint;
  readonly count: number;
}

/** Whether a record counts in a budget scope (`global`, `host:<pattern>`, `tag:<name>`). */
function inScope(scope: string, record: SpendRecord): boolean {
  if (scope === 'global') return true;
  if (scope.startsWith('host:')) {
    try {
      return matchHost(scope.slice('host:'.length), new URL(record.origin).hostname);
    } catch {
      return false;
    }
  }
  if (scope.startsWith('tag:')) return record.tags.includes(scope.slice('tag:'.length));
  return false;
}

/**
 * Wraps a budget store so that every limit also counts `history`: committed records at their
 * committed cost, pending and held ones (outcome unknown) at their reserved cost; released
 * records count nothing.
 *
 * @example
 * ```ts
 * import { createMemoryBudgetStore } from '@stipend/client';
 * import { withHistory } from './history-budget.js';
 * import { openJsonlLedger } from './jsonl.js';
 * const ledger = openJsonlLedger('ledger.jsonl');
 * const budget = withHistory(createMemoryBudgetStore(), ledger.history);
 * ```
 */
export function withHistory(inner: BudgetStore, history: readonly SpendRecord[]): BudgetStore {
  const counted = countedRecords(history);
  // Reservations made by earlier runs (a session deposit held open between runs) are not in
  // this process's store: their ledger record is what counts (the caller updates it), so
  // settling one here is only acknowledged.
  const earlier = new Map(history.map((record) => [record.reservationId, record]));
  const settle = async (
    id: string,
    state: 'committed' | 'released',
    run: () => Promise<Reservation>,
    actual?: bigint,
  ): Promise<Reservation> => {
    try {
      return await run();
    } catch (error) {
      const record = earlier.get(id);
      if (!(isStipendError(error) && error.code === 'BUDGET_NOT_FOUND' && record)) throw error;
      return {
        id,
        limits: [],
        usdMicros: record.reservedUsdMicros,
        at: record.createdAt,
        expiresAt: record.createdAt,
        state,
        ...(actual !== undefined ? { committedUsdMicros: actual } : {}),
      };
    }
  };
  const spent = (limit: Pick<BudgetLimit, 'scope' | 'window'>, now: number): Spent => {
    const start = windowStart(limit.window, now);
    let committed = 0n;
    let held = 0n;
    let count = 0;
    for (const record of counted) {
      if (record.createdAt < start || record.createdAt > now) continue;
      if (!inScope(limit.scope, record)) continue;
      count++;
      if (record.status === 'committed') {
        committed += record.committedUsdMicros ?? record.reservedUsdMicros;
      } else {
        held += record.reservedUsdMicros;
      }
    }
    return { committed, held, count };
  };

  return {
    async reserve(request) {
      if (counted.length === 0) return inner.reserve(request);
      const limits = request.limits.map((limit) => {
        const before = spent(limit, request.now);
        const used = before.committed + before.held;
        const left: BudgetLimit = {
          ...limit,
          ...(limit.maxUsdMicros !== undefined
            ? { maxUsdMicros: limit.maxUsdMicros > used ? limit.maxUsdMicros - used : 0n }
            : {}),
          ...(limit.maxCount !== undefined
            ? { maxCount: Math.max(0, limit.maxCount - before.count) }
            : {}),
        };
        return left;
      });
      const result = await inner.reserve({ ...request, limits });
      if (result.ok) return result;
      // Report the limit as the policy wrote it; `remaining` already counts the history.
      const key = windowKey(result.limit.window);
      const written = request.limits.find(
        (limit) => limit.scope === result.limit.scope && windowKey(limit.window) === key,
      );
      return { ...result, limit: written ?? result.limit };
    },
    commit: (id, actual) => settle(id, 'committed', () => inner.commit(id, actual), actual),
    release: (id) => settle(id, 'released', () => inner.release(id)),
    async usage(limit, now) {
      const own = await inner.usage(limit, now);
      if (counted.length === 0) return own;
      const before = spent(limit, now);
      return {
        committedUsdMicros: own.committedUsdMicros + before.committed,
        heldUsdMicros: own.heldUsdMicros + before.held,
        count: own.count + before.count,
      };
    },
    get: (id) => inner.get(id),
    expired: (now) => inner.expired(now),
  };
}

/**
 * The records that count: not released ones, and not the uses of a session whose deposit is
 * still held (the held deposit already counts them; they count once it is settled).
 */
function countedRecords(history: readonly SpendRecord[]): SpendRecord[] {
  const heldSessions = new Set(
    history
      .filter(
        (record) =>
          record.purchaseKey.startsWith('session:') &&
          record.reservedUsdMicros > 0n &&
          (record.status === 'held' || record.status === 'pending'),
      )
      .map((record) => record.purchaseKey),
  );
  return history.filter(
    (record) =>
      record.status !== 'released' &&
      !(record.reservedUsdMicros === 0n && heldSessions.has(record.purchaseKey)),
  );
}
