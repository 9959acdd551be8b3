/**
 * Every budget window and scope the console can find, with what is spent, held and left.
 *
 * The budget store has no list of its limits, so the console learns them from two places:
 * the policy it was given (the rules' limits, shown even before anything is spent), and the
 * reservations that ledger records and pending approvals point at (each reservation carries
 * every limit it was counted in: global, hosts, tags, children's tags, delegation scopes).
 *
 * @module
 */
import { type BudgetLimit, type BudgetStore, type BudgetWindow, windowKey } from '@stipend/client';
import { shortText, usd, windowText } from './text.js';

/** The limits of one policy rule (the shape of a compiled rule of `@stipend/client`). */
export interface RuleLimits {
  readonly scope?: string;
  readonly limits: readonly { readonly window: BudgetWindow; readonly maxUsdMicros: bigint }[];
  readonly maxRequests: readonly { readonly window: BudgetWindow; readonly maxCount: number }[];
}

/** One row of the budgets table. */
export interface BudgetRow {
  readonly scope: string;
  /** `global`, `host`, `tag` (children are tags), `delegation`, or `other`. */
  readonly kind: string;
  readonly label: string;
  readonly window: string;
  readonly windowKey: string;
  readonly max?: string;
  readonly maxMicros?: string;
  readonly committed: string;
  readonly held: string;
  readonly left?: string;
  /** Committed + held over the limit, 0 to 1 (for the bar; display only). */
  readonly used?: number;
  readonly count: number;
  readonly maxCount?: number;
}

/** A limit found, merged over every place it was seen. */
export interface FoundLimit {
  readonly scope: string;
  readonly window: BudgetWindow;
  readonly windowKey: string;
  readonly maxUsdMicros?: bigint;
  readonly maxCount?: number;
}

/** Remembers the limits of reservations already looked up (they never change). */
export class LimitFinder {
  readonly #byReservation = new Map<string, readonly BudgetLimit[]>();

  /**
   * Every limit of the policy's rules and of the given reservations, the policy's value first.
   *
   * @param budget - Where the reservations are.
   * @param rules - The policy's rules, if the console was given a policy.
   * @param reservationIds - Reservations of ledger records and approvals, newest last.
   * @param maxLookups - At most this many reservations are looked up per call (newest first).
   */
  async find(
    budget: BudgetStore,
    rules: readonly RuleLimits[],
    reservationIds: readonly string[],
    maxLookups = 500,
  ): Promise<FoundLimit[]> {
    const found = new Map<string, FoundLimit>();
    const put = (limit: FoundLimit, fromPolicy: boolean) => {
      const key = `${limit.scope}|${limit.windowKey}`;
      const before = found.get(key);
      if (!before) return void found.set(key, limit);
      if (fromPolicy) return;
      found.set(key, {
        ...before,
        maxUsdMicros: before.maxUsdMicros ?? limit.maxUsdMicros,
        maxCount: before.maxCount ?? limit.maxCount,
      });
    };
    for (const rule of rules) {
      if (!rule.scope) continue;
      for (const limit of rule.limits) {
        const key = safeWindowKey(limit.window);
        if (key)
          put(
            {
              scope: rule.scope,
              window: limit.window,
              windowKey: key,
              maxUsdMicros: limit.maxUsdMicros,
            },
            true,
          );
      }
      for (const limit of rule.maxRequests) {
        const key = safeWindowKey(limit.window);
        if (!key) continue;
        const id = `${rule.scope}|${key}`;
        const before = found.get(id);
        found.set(id, {
          ...(before ?? { scope: rule.scope, window: limit.window, windowKey: key }),
          maxCount: limit.maxCount,
        });
      }
    }
    let lookups = 0;
    const seen = new Set<string>();
    for (let index = reservationIds.length - 1; index >= 0; index--) {
      const id = reservationIds[index]!;
      if (seen.has(id)) continue;
      seen.add(id);
      let limits = this.#byReservation.get(id);
      if (!limits && lookups < maxLookups) {
        lookups++;
        const reservation = await budget.get(id);
        if (reservation && Array.isArray(reservation.limits)) {
          limits = reservation.limits;
          this.#byReservation.set(id, limits);
        }
      }
      for (const limit of limits ?? []) {
        const key = safeWindowKey(limit?.window);
        if (!key || typeof limit.scope !== 'string') continue;
        put(
          {
            scope: limit.scope,
            window: limit.window,
            windowKey: key,
            ...(typeof limit.maxUsdMicros === 'bigint' ? { maxUsdMicros: limit.maxUsdMicros } : {}),
            ...(typeof limit.maxCount === 'number' ? { maxCount: limit.maxCount } : {}),
          },
          false,
        );
      }
    }
    return [...found.values()].sort(byScope);
  }
}

/**
 * Reads the use of every limit at `now`.
 *
 * @example
 * ```ts
 * import { budgetRows, LimitFinder } from './budgets.js';
 * const limits = await new LimitFinder().find(budget, [], ['r_1']);
 * const rows = await budgetRows(budget, limits, Date.now());
 * ```
 */
export async function budgetRows(
  budget: BudgetStore,
  limits: readonly FoundLimit[],
  now: number,
): Promise<BudgetRow[]> {
  return Promise.all(
    limits.map(async (limit) => {
      const use = await budget.usage({ scope: limit.scope, window: limit.window }, now);
      const spent = use.committedUsdMicros + use.heldUsdMicros;
      const max = limit.maxUsdMicros;
      const left = max === undefined ? undefined : max > spent ? max - spent : 0n;
      return {
        scope: shortText(limit.scope)!,
        kind: kindOf(limit.scope),
        label: labelOf(limit.scope),
        window: windowText(limit.window),
        windowKey: limit.windowKey,
        ...(max !== undefined ? { max: usd(max), maxMicros: max.toString() } : {}),
        committed: usd(use.committedUsdMicros),
        held: usd(use.heldUsdMicros),
        ...(left !== undefined ? { left: usd(left) } : {}),
        ...(max !== undefined && max > 0n
          ? { used: Math.min(1, Number((spent * 10_000n) / max) / 10_000) }
          : {}),
        count: use.count,
        ...(limit.maxCount !== undefined ? { maxCount: limit.maxCount } : {}),
      };
    }),
  );
}

function safeWindowKey(window: unknown): string | undefined {
  try {
    return windowKey(window as BudgetWindow);
  } catch {
    return undefined;
  }
}

function kindOf(scope: string): string {
  if (scope === 'global') return 'global';
  const prefix = /^(host|tag|delegation):/.exec(scope);
  return prefix ? prefix[1]! : 'other';
}

function labelOf(scope: string): string {
  if (scope === 'global') return 'global';
  if (scope.startsWith('host:')) return `host ${shortText(scope.slice(5), 120)}`;
  if (scope.startsWith('tag:')) return `tag ${shortText(scope.slice(4), 120)}`;
  if (scope.startsWith('delegation:')) {
    return `delegation ${shortText(scope.split(':')[1] ?? '', 40)}`;
  }
  return shortText(scope, 120)!;
}

const ORDER = ['global', 'host', 'tag', 'delegation', 'other'];

function byScope(a: FoundLimit, b: FoundLimit): number {
  const k = ORDER.indexOf(kindOf(a.scope)) - ORDER.indexOf(kindOf(b.scope));
  if (k !== 0) return k;
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  return a.windowKey < b.windowKey ? -1 : a.windowKey > b.windowKey ? 1 : 0;
}
