/**
 * The `budget_status` report: every budget the policy defines with what is spent, held and left,
 * the per-request caps, and the most recent payments. Read-only and secret-free.
 *
 * @module
 */
import {
  type BudgetWindow,
  formatAmount,
  formatUsd,
  type PayingFetch,
  type SpendRecord,
} from '@stipend/client';

/** One USD budget of the policy and its use in the current window. */
export interface BudgetLine {
  /** `global`, `host:<pattern>` or `tag:<name>`. */
  readonly scope: string;
  /** `calendar day`, `rolling 24h`, `total`… */
  readonly window: string;
  readonly limitUsd: string;
  readonly spentUsd: string;
  /** Reserved for payments in flight or with an unknown outcome. */
  readonly heldUsd: string;
  readonly remainingUsd: string;
  readonly payments: number;
}

/** A limit on the number of payments. */
export interface CountLine {
  readonly scope: string;
  readonly window: string;
  readonly maxPayments: number;
  readonly payments: number;
}

/** A recent payment attempt, secret-free. */
export interface RecentPayment {
  readonly at: string;
  readonly origin: string;
  readonly resource: string;
  readonly protocol: string;
  readonly scheme: string;
  readonly payee: string;
  readonly amount: string;
  readonly usd: string;
  readonly status: SpendRecord['status'];
  readonly outcome?: string;
  readonly reference?: string;
}

/** What `budget_status` answers. */
export interface BudgetStatus {
  /** Per-request caps in USD, by rule (`global`, a host pattern, a tag). */
  readonly maxPerRequest: readonly { readonly rule: string; readonly usd: string }[];
  readonly budgets: readonly BudgetLine[];
  readonly counts: readonly CountLine[];
  /** Totals over the ledger (all payments this process recorded). */
  readonly totals: {
    readonly spentUsd: string;
    readonly heldUsd: string;
    readonly payments: number;
  };
  /** Most recent first. */
  readonly recent: readonly RecentPayment[];
}

function describe(window: BudgetWindow): string {
  if (window.kind === 'calendar') return `calendar ${window.unit}`;
  if (window.kind === 'total') return 'total';
  const ms = window.ms;
  if (ms % 86_400_000 === 0) return `rolling ${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `rolling ${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `rolling ${ms / 60_000}m`;
  return `rolling ${ms / 1000}s`;
}

/**
 * Builds the budget report of a paying fetch (its policy, budget store and ledger).
 *
 * @example
 * ```ts
 * import { budgetStatus } from '@stipend/mcp/server';
 * const status = await budgetStatus(payingFetch, { recent: 5, now: Date.now() });
 * status.budgets[0]; // { scope: 'global', window: 'calendar day', limitUsd: '$1.00', spentUsd: '$0.001', … }
 * ```
 */
export async function budgetStatus(
  payingFetch: Pick<PayingFetch, 'engine' | 'budget' | 'ledger'>,
  options: { readonly recent?: number; readonly now?: number } = {},
): Promise<BudgetStatus> {
  const now = options.now ?? Date.now();
  const compiled = payingFetch.engine.policy;
  const rules = [compiled.global, ...compiled.hosts, ...compiled.tags.values()];
  const maxPerRequest: { rule: string; usd: string }[] = [];
  const budgets: BudgetLine[] = [];
  const counts: CountLine[] = [];
  for (const rule of rules) {
    if (rule.maxPerRequestUsd !== undefined) {
      maxPerRequest.push({ rule: rule.label, usd: formatUsd(rule.maxPerRequestUsd) });
    }
    if (rule.scope === undefined) continue;
    for (const limit of rule.limits) {
      const usage = await payingFetch.budget.usage(
        { scope: rule.scope, window: limit.window },
        now,
      );
      const used = usage.committedUsdMicros + usage.heldUsdMicros;
      budgets.push({
        scope: rule.scope,
        window: describe(limit.window),
        limitUsd: formatUsd(limit.maxUsdMicros),
        spentUsd: formatUsd(usage.committedUsdMicros),
        heldUsd: formatUsd(usage.heldUsdMicros),
        remainingUsd: formatUsd(used >= limit.maxUsdMicros ? 0n : limit.maxUsdMicros - used),
        payments: usage.count,
      });
    }
    for (const limit of rule.maxRequests) {
      const usage = await payingFetch.budget.usage(
        { scope: rule.scope, window: limit.window },
        now,
      );
      counts.push({
        scope: rule.scope,
        window: describe(limit.window),
        maxPayments: limit.maxCount,
        payments: usage.count,
      });
    }
  }

  const records = await payingFetch.ledger.list();
  let spent = 0n;
  let held = 0n;
  for (const record of records) {
    if (record.status === 'committed')
      spent += record.committedUsdMicros ?? record.reservedUsdMicros;
    if (record.status === 'held' || record.status === 'pending') held += record.reservedUsdMicros;
  }
  const recentCount = Math.max(0, Math.min(options.recent ?? 10, 100));
  const recent = records
    .slice(-recentCount)
    .reverse()
    .map((record): RecentPayment => {
      const reference = record.receiptReference ?? record.reference;
      return {
        at: new Date(record.createdAt).toISOString(),
        origin: record.origin,
        resource: record.resource,
        protocol: record.protocol,
        scheme: record.scheme,
        payee: record.payee,
        amount: formatAmount(record.amount),
        usd: formatUsd(record.committedUsdMicros ?? record.reservedUsdMicros),
        status: record.status,
        ...(record.outcome ? { outcome: record.outcome } : {}),
        ...(reference ? { reference } : {}),
      };
    });
  return {
    maxPerRequest,
    budgets,
    counts,
    totals: { spentUsd: formatUsd(spent), heldUsd: formatUsd(held), payments: records.length },
    recent: recentCount === 0 ? [] : recent,
  };
}
