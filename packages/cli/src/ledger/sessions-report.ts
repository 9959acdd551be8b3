/**
 * Sessions in the ledger: a session's records (purchase key `session:<id>`) are its deposit
 * and top-ups (reserved, `held` while it is open, settled on close) and one record per use
 * (the unit price, committed, no reservation of its own). Here they are grouped per session:
 * deposit, spent, refunded, and what the budget counts.
 *
 * @module
 */
import { formatUsd, type SessionRecord, type SpendRecord, unitKey } from '@stipend/client';
import { renderTable } from '../output/table.js';
import { sessionAmount } from '../sessions/render.js';

/** One session as the ledger sees it. */
export interface SessionTotal {
  readonly id: string;
  readonly origin: string;
  /** `mpp:lightning.session`. */
  readonly rail: string;
  /** `open` while a deposit record is held or pending; `closed` once every one is settled. */
  readonly state: 'open' | 'closed';
  /** Deposits and top-ups the wallet paid (atomic units of the session's unit). */
  readonly depositAtomic: bigint;
  /** Uses: the unit price each (atomic units). */
  readonly spentAtomic: bigint;
  readonly uses: number;
  /** What came back, from the session store (`undefined` when the store does not know it). */
  readonly refundedAtomic: bigint | undefined;
  /** The unit key of the amounts (`lightning:msat`). */
  readonly unit: string;
  /** What the budget counts as spent: the uses, plus fees and unrefunded money once closed. */
  readonly committedUsdMicros: bigint;
  /** Reserved for the deposits while the session is open. */
  readonly heldUsdMicros: bigint;
  /** Deposit and top-up records. */
  readonly deposits: number;
}

/**
 * Whether a record belongs to a session (purchase key `session:<id>`).
 *
 * @example
 * ```ts
 * import { isSessionRecord } from './sessions-report.js';
 * records.filter((r) => !isSessionRecord(r)); // one-off purchases only
 * ```
 */
export function isSessionRecord(record: SpendRecord): boolean {
  return record.purchaseKey.startsWith('session:');
}

/**
 * Groups the session records of a ledger per session, oldest first. `sessions` (the session
 * store's records by id) adds what the ledger cannot know: the refund confirmed on the
 * client's node.
 *
 * @example
 * ```ts
 * import { fileSessionStore } from '@stipend/stores/file';
 * import { sessionTotals } from './sessions-report.js';
 * const stored = await fileSessionStore('/home/me/.config/stipend/sessions.jsonl').list();
 * sessionTotals(records, new Map(stored.map((s) => [s.id, s])))[0]; // { id: 'ses_…', depositAtomic: 40000n, … }
 * ```
 */
export function sessionTotals(
  records: readonly SpendRecord[],
  sessions: ReadonlyMap<string, SessionRecord> = new Map(),
): SessionTotal[] {
  const groups = new Map<string, SpendRecord[]>();
  for (const record of records) {
    if (!isSessionRecord(record)) continue;
    const id = record.purchaseKey.slice('session:'.length);
    const group = groups.get(id) ?? [];
    group.push(record);
    groups.set(id, group);
  }
  return [...groups].map(([id, group]) => {
    const deposits = group.filter((r) => r.reservedUsdMicros > 0n);
    const uses = group.filter((r) => r.reservedUsdMicros === 0n && r.status === 'committed');
    const open = deposits.some((r) => r.status === 'held' || r.status === 'pending');
    // A deposit was paid when it is held (open) or settled as accepted on close.
    const paid = deposits.filter(
      (r) => r.status === 'held' || (r.status !== 'pending' && r.outcome === 'accepted'),
    );
    const first = group[0]!;
    const stored = sessions.get(id);
    return {
      id,
      origin: first.origin,
      rail: `${first.protocol}:${first.scheme}`,
      state: open ? 'open' : 'closed',
      depositAtomic: sum(paid.map((r) => r.amount.value)),
      spentAtomic: sum(uses.map((r) => r.amount.value)),
      uses: uses.length,
      refundedAtomic: stored?.state === 'closed' ? stored.refundedAtomic : open ? 0n : undefined,
      unit: stored?.unit ?? unitOf(first),
      committedUsdMicros: sum(
        group.filter((r) => r.status === 'committed').map((r) => r.committedUsdMicros ?? 0n),
      ),
      heldUsdMicros: sum(
        deposits
          .filter((r) => r.status === 'held' || r.status === 'pending')
          .map((r) => r.reservedUsdMicros),
      ),
      deposits: deposits.length,
    } satisfies SessionTotal;
  });
}

/**
 * The sessions of a ledger as a table; `''` when there are none.
 *
 * @example
 * ```ts
 * import { listSessions } from '../sessions/list.js';
 * import { renderSessionTotals } from './sessions-report.js';
 * const stored = await listSessions('/home/me/.config/stipend/sessions.jsonl');
 * console.log(renderSessionTotals(records, new Map(stored.map((s) => [s.id, s]))));
 * ```
 */
export function renderSessionTotals(
  records: readonly SpendRecord[],
  sessions?: ReadonlyMap<string, SessionRecord>,
): string {
  const totals = sessionTotals(records, sessions);
  if (totals.length === 0) return '';
  const rows = totals.map((t) => [
    t.id,
    hostOf(t.origin),
    t.rail,
    t.state,
    `${sessionAmount(t.depositAtomic, t.unit).display}${t.deposits > 1 ? ` (${t.deposits} payments)` : ''}`,
    `${sessionAmount(t.spentAtomic, t.unit).display} (${t.uses} use${t.uses === 1 ? '' : 's'})`,
    t.refundedAtomic === undefined
      ? 'see stipend sessions'
      : sessionAmount(t.refundedAtomic, t.unit).display,
    formatUsd(t.committedUsdMicros),
    t.heldUsdMicros > 0n ? formatUsd(t.heldUsdMicros) : '—',
  ]);
  const table = renderTable(
    ['session', 'host', 'rail', 'state', 'deposit', 'spent', 'refunded', 'USD spent', 'held'],
    rows,
    { right: [4, 5, 6, 7, 8] },
  );
  const open = totals.filter((t) => t.state === 'open');
  const held = sum(open.map((t) => t.heldUsdMicros));
  const note =
    open.length > 0
      ? `\n${formatUsd(held)} is held for ${open.length} open session${open.length === 1 ? '' : 's'} until closed: stipend sessions close --all`
      : '';
  return `Sessions — a deposit paid once, calls that pay nothing each, the rest refunded on close:\n${table}${note}`;
}

function unitOf(record: SpendRecord): string {
  try {
    return unitKey(record.amount.unit);
  } catch {
    return 'unknown';
  }
}

function sum(values: readonly bigint[]): bigint {
  return values.reduce((acc, value) => acc + value, 0n);
}

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}
