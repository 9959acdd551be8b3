/**
 * Held purchases: money that may have moved and is still counted, waiting for the rail or a
 * person. From the purchase journal: `unknown` (nobody knows yet), `live` (refused, but the
 * seller holds an authorization that can still settle), `paid` (moved, not delivered). A
 * ledger record `held` without a journal record (written by an older client) is listed too,
 * without actions.
 *
 * @module
 */
import type { PurchaseRecord } from '@stipend/client';
import type { LedgerRow } from './ledger.js';
import { hostOf, shortText, timeOf } from './text.js';

/** The journal states a person can resolve by hand, and into what. */
export const RESOLUTIONS: Readonly<Record<string, readonly ('paid' | 'void' | 'delivered')[]>> = {
  unknown: ['paid', 'void'],
  live: ['paid', 'void'],
  paid: ['delivered'],
};

/** The journal states listed as held. */
export const HELD_STATES = ['unknown', 'live', 'paid'] as const;

/** One held purchase. */
export interface HeldRow {
  readonly id: string;
  readonly state: string;
  readonly host: string;
  readonly resource: string;
  readonly payee: string;
  readonly rail: string;
  /** The formatted amount and cost, from the ledger record when there is one. */
  readonly amount: string;
  readonly usd?: string;
  readonly reference?: string;
  readonly liveUntil?: number;
  readonly failure?: string;
  readonly updatedAt: number;
  /** What a person may record: `paid`/`void` for unknown and live, `delivered` for paid. */
  readonly actions: readonly string[];
  /** Why there is no action (no journal record). */
  readonly note?: string;
}

/**
 * Builds the held list from journal records in the held states and the ledger's rows.
 *
 * @example
 * ```ts
 * import { HELD_STATES, heldRows } from './held.js';
 * const rows = heldRows(await journal.list({ states: [...HELD_STATES] }), ledgerRows);
 * ```
 */
export function heldRows(
  purchases: readonly PurchaseRecord[],
  ledger: readonly LedgerRow[],
): HeldRow[] {
  const byId = new Map(ledger.map((row) => [row.id, row]));
  const rows: HeldRow[] = [];
  const listed = new Set<string>();
  for (const purchase of purchases) {
    const id = shortText(purchase?.id);
    const actions = RESOLUTIONS[String(purchase?.state)];
    const updatedAt = timeOf(purchase?.updatedAt);
    if (!id || !actions || updatedAt === undefined) continue;
    listed.add(id);
    const row = byId.get(id);
    const failure = purchase.failure as { code?: unknown; message?: unknown } | undefined;
    rows.push({
      id,
      state: purchase.state,
      host: hostOf(purchase.origin) ?? shortText(purchase.origin) ?? '?',
      resource: shortText(purchase.resource) ?? '',
      payee: shortText(purchase.payee) ?? '',
      rail: `${shortText(purchase.protocol, 40) ?? '?'}:${shortText(purchase.scheme, 40) ?? '?'}`,
      amount:
        row?.amount ??
        `${shortText(purchase.amount?.value, 40) ?? '?'} ${shortText(purchase.amount?.unit, 80) ?? ''}`,
      ...(row ? { usd: row.usd } : {}),
      ...(typeof purchase.reference === 'string'
        ? { reference: shortText(purchase.reference) }
        : {}),
      ...(timeOf(purchase.liveUntil) !== undefined ? { liveUntil: purchase.liveUntil } : {}),
      ...(typeof failure?.code === 'string'
        ? { failure: shortText(`${failure.code}: ${String(failure.message ?? '')}`) }
        : {}),
      updatedAt,
      actions,
    });
  }
  for (const row of ledger) {
    if (row.status !== 'held' || listed.has(row.id)) continue;
    rows.push({
      id: row.id,
      state: 'held',
      host: row.host,
      resource: row.resource,
      payee: row.payee,
      rail: row.rail,
      amount: row.amount,
      usd: row.usd,
      ...(row.reference ? { reference: row.reference } : {}),
      updatedAt: row.updatedAt,
      actions: [],
      note: 'not in the purchase journal: settle it with stipend reconcile',
    });
  }
  return rows.sort((a, b) => b.updatedAt - a.updatedAt);
}
