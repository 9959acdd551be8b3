/**
 * Everything the page shows, read from the stores in one pass. A store that cannot be read
 * (down, corrupt) becomes a message in `problems`; the other panels still show.
 *
 * @module
 */
import type {
  ApprovalStore,
  BudgetStore,
  Ledger,
  PendingApproval,
  PurchaseJournal,
  PurchaseRecord,
} from '@stipend/client';
import { type ApprovalRow, approvalRows } from './approvals.js';
import { type BudgetRow, budgetRows, type LimitFinder, type RuleLimits } from './budgets.js';
import { type Chart, spendCharts } from './chart.js';
import { HELD_STATES, type HeldRow, heldRows } from './held.js';
import {
  type CheckedRecord,
  checkRecord,
  type InvalidRow,
  type LedgerFilter,
  type LedgerRow,
  type LedgerView,
  ledgerView,
} from './ledger.js';
import { shortText } from './text.js';

/** The stores the console reads. */
export interface StateSources {
  readonly budget: BudgetStore;
  readonly ledger: Ledger;
  readonly approvals?: ApprovalStore;
  readonly journal?: PurchaseJournal;
  /** The policy's rules, when the console was given a policy. */
  readonly rules: readonly RuleLimits[];
  readonly finder: LimitFinder;
}

/** What `GET api/state` answers. */
export interface ConsoleState {
  readonly now: number;
  readonly approvals: readonly ApprovalRow[];
  readonly held: readonly HeldRow[];
  readonly budgets: readonly BudgetRow[];
  readonly charts: { readonly hour: Chart; readonly day: Chart };
  readonly ledger: LedgerView;
  /** Which panels have no store behind them. */
  readonly missing: readonly string[];
  /** Stores that could not be read, and records left out. */
  readonly problems: readonly string[];
}

/** Rows shown in the ledger table at most. */
export const LEDGER_ROWS = 200;

/**
 * Reads the stores and builds the page's state.
 *
 * @example
 * ```ts
 * import { readState } from './state.js';
 * const state = await readState({ budget, ledger, rules: [], finder: new LimitFinder() }, {}, Date.now());
 * ```
 */
export async function readState(
  sources: StateSources,
  filter: LedgerFilter,
  now: number,
): Promise<ConsoleState> {
  const problems: string[] = [];
  const missing: string[] = [];
  const attempt = async <T>(what: string, read: () => T | Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      problems.push(`Cannot read ${what}: ${shortText(messageOf(error), 400)}`);
      return fallback;
    }
  };

  const records = await attempt<readonly unknown[]>('the ledger', () => sources.ledger.list(), []);
  const checked: (CheckedRecord | InvalidRow)[] = records.map(checkRecord);
  const rows = checked.flatMap((entry) => ('row' in entry ? [entry.row] : []));

  let approvals: readonly PendingApproval[] = [];
  if (sources.approvals) {
    const store = sources.approvals;
    approvals = await attempt('the approvals', () => store.list(), []);
  } else missing.push('approvals');
  const approvalView = approvalRows(approvals, now);
  if (approvalView.invalid > 0) {
    problems.push(`${approvalView.invalid} approval(s) could not be read and are not shown.`);
  }

  let purchases: readonly PurchaseRecord[] = [];
  if (sources.journal) {
    const journal = sources.journal;
    purchases = await attempt(
      'the purchase journal',
      () => journal.list({ states: [...HELD_STATES] }),
      [],
    );
  } else missing.push('journal');

  const reservationIds = [
    ...(checked.flatMap((entry) =>
      'row' in entry ? [entry.record.reservationId] : [],
    ) as string[]),
    ...approvals.flatMap((a) => (typeof a?.reservationId === 'string' ? [a.reservationId] : [])),
  ];
  const limits = await attempt(
    'the budget',
    () => sources.finder.find(sources.budget, sources.rules, reservationIds),
    [],
  );
  const budgets = await attempt('the budget', () => budgetRows(sources.budget, limits, now), []);

  return {
    now,
    approvals: approvalView.rows,
    held: heldRows(purchases, rows as LedgerRow[]),
    budgets,
    charts: spendCharts(rows, limits, now),
    ledger: ledgerView(checked, filter, LEDGER_ROWS),
    missing,
    problems,
  };
}

/**
 * The records a CSV export includes: the readable ones that pass the filter, oldest first.
 *
 * @example
 * ```ts
 * import { exportable } from './state.js';
 * const csv = exportLedgerCsv(exportable(await ledger.list(), {}));
 * ```
 */
export function exportable(
  records: readonly unknown[],
  filter: LedgerFilter,
  matches: (row: LedgerRow, filter: LedgerFilter) => boolean,
): CheckedRecord['record'][] {
  const out: CheckedRecord['record'][] = [];
  for (const value of records) {
    const entry = checkRecord(value);
    if ('row' in entry && matches(entry.row, filter)) out.push(entry.record);
  }
  return out;
}

/** An error's message, with any `user:password@` of a URL (a Redis URL) taken out. */
export function messageOf(error: unknown): string {
  const e = error as { shortMessage?: unknown; message?: unknown } | null;
  const text =
    typeof e?.shortMessage === 'string'
      ? e.shortMessage
      : typeof e?.message === 'string'
        ? e.message
        : String(error);
  return text.replace(/\/\/[^/@\s]*@/g, '//…@');
}
