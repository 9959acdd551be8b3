/**
 * Pending approvals as the console shows them: what a waiting agent wants to pay, to whom,
 * why a person is asked, and until when. Read from the shared approval store without
 * changing it (deciding goes through `payingFetch.approvals`).
 *
 * @module
 */
import { formatAmount, type PendingApproval } from '@stipend/client';
import { hostOf, microsOf, shortText, tagsOf, timeOf, usd, windowText } from './text.js';

/** One approval row. */
export interface ApprovalRow {
  readonly id: string;
  /** `pending` (Approve / Deny), `approved` (waiting for the agent to call again), `expired`. */
  readonly state: string;
  readonly usd: string;
  readonly amount: string;
  readonly payee: string;
  readonly host: string;
  readonly origin: string;
  readonly resource: string;
  readonly method: string;
  readonly rail: string;
  readonly why: string;
  readonly tags: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  /** What each limit has left after this payment. */
  readonly remaining: readonly string[];
}

/** A window key (`calendar:day`, `rolling:3600000`, `total`) as the budgets table says it. */
function keyText(key: string): string {
  const [kind, rest] = key.split(':');
  if (kind === 'total') return windowText({ kind: 'total' });
  if (kind === 'calendar') return windowText({ kind, unit: rest });
  if (kind === 'rolling' && /^\d{1,15}$/.test(rest ?? ''))
    return windowText({ kind, ms: Number(rest) });
  return shortText(key, 40) ?? '';
}

const WHY: Record<string, string> = {
  above_threshold: 'above the approval threshold',
  rule_ask: 'a rule asks a person',
};

/**
 * The approvals a person can still act on or is waiting on (pending and approved), newest
 * first. An approval past its expiry shows as `expired` (the agent's next call releases it).
 * Approvals that cannot be read are left out and counted.
 *
 * @example
 * ```ts
 * import { approvalRows } from './approvals.js';
 * const { rows } = approvalRows(await store.list(), Date.now());
 * ```
 */
export function approvalRows(
  approvals: readonly PendingApproval[],
  now: number,
): { readonly rows: ApprovalRow[]; readonly invalid: number } {
  const rows: ApprovalRow[] = [];
  let invalid = 0;
  for (const approval of approvals) {
    if (approval?.state !== 'pending' && approval?.state !== 'approved') continue;
    const row = approvalRow(approval, now);
    if (row) rows.push(row);
    else invalid++;
  }
  rows.sort((a, b) => b.createdAt - a.createdAt);
  return { rows, invalid };
}

function approvalRow(approval: PendingApproval, now: number): ApprovalRow | undefined {
  const request = approval.request as unknown as Record<string, unknown> | undefined;
  const id = shortText(approval.id);
  const createdAt = timeOf(approval.createdAt);
  const expiresAt = timeOf(approval.expiresAt);
  const micros = microsOf(approval.usdMicros);
  const host = hostOf(request?.origin);
  const tags = tagsOf(request?.tags ?? []);
  if (!id || !request || createdAt === undefined || expiresAt === undefined) return undefined;
  if (micros === undefined || host === undefined || !tags) return undefined;
  let amount: string | undefined;
  try {
    amount = formatAmount(request.amount as PendingApproval['request']['amount']);
  } catch {
    amount = `${shortText(approval.terms?.amount, 40) ?? '?'} ${shortText(approval.terms?.unit, 80) ?? ''}`;
  }
  const remaining = Array.isArray(request.remaining)
    ? (request.remaining as unknown[]).slice(0, 12).flatMap((entry) => {
        const e = entry as { scope?: unknown; window?: unknown; usdMicros?: unknown } | null;
        const left = microsOf(e?.usdMicros);
        const scope = shortText(e?.scope, 120);
        if (left === undefined || scope === undefined) return [];
        const window = typeof e?.window === 'string' ? keyText(e.window) : windowText(e?.window);
        return [`${usd(left)} left in ${scope} (${window})`];
      })
    : [];
  return {
    id,
    state: approval.state === 'pending' && now >= expiresAt ? 'expired' : approval.state,
    usd: usd(micros),
    amount: shortText(amount) ?? '',
    payee: shortText(request.payee) ?? shortText(approval.terms?.payee) ?? '',
    host,
    origin: shortText(request.origin)!,
    resource: shortText(request.resource) ?? '',
    method: shortText(request.method, 16) ?? '',
    rail: `${shortText(request.protocol, 40) ?? '?'}:${shortText(request.scheme, 40) ?? '?'}`,
    why: WHY[String(request.why)] ?? 'asked by the policy',
    tags,
    createdAt,
    expiresAt,
    remaining,
  };
}
