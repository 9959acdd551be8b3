/**
 * Reading the ledger back: totals per host and rail, and exports (JSON lines, CSV).
 *
 * @module
 */
import { formatAmount, formatUsd, type SpendRecord, unitKey } from '@stipend/client';
import { renderTable } from '../output/table.js';
import { isSessionRecord } from './sessions-report.js';

/** Spend of one host on one rail. */
export interface LedgerTotal {
  readonly host: string;
  /** `protocol:scheme`. */
  readonly rail: string;
  /** Payments that moved money. */
  readonly paid: number;
  /** Their committed cost, USD micro-units. */
  readonly committedUsdMicros: bigint;
  /** Payments whose outcome is not known yet (pending or held), and their reserved cost. */
  readonly open: number;
  readonly openUsdMicros: bigint;
  /** Attempts that provably moved nothing. */
  readonly released: number;
}

/**
 * Sums records per host (`host:port` of the origin) and rail, sorted by host then rail.
 * Session records (purchase key `session:<id>`) are left out: `sessionTotals` groups them.
 *
 * @example
 * ```ts
 * import { ledgerTotals } from './report.js';
 * ledgerTotals(records)[0]; // { host: '127.0.0.1:4021', rail: 'x402:exact', paid: 2, committedUsdMicros: 2000n, … }
 * ```
 */
export function ledgerTotals(records: readonly SpendRecord[]): LedgerTotal[] {
  const totals = new Map<string, { -readonly [K in keyof LedgerTotal]: LedgerTotal[K] }>();
  for (const record of records) {
    if (isSessionRecord(record)) continue;
    const host = hostOf(record.origin);
    const rail = `${record.protocol}:${record.scheme}`;
    const key = `${host} ${rail}`;
    let total = totals.get(key);
    if (!total) {
      total = {
        host,
        rail,
        paid: 0,
        committedUsdMicros: 0n,
        open: 0,
        openUsdMicros: 0n,
        released: 0,
      };
      totals.set(key, total);
    }
    if (record.status === 'committed') {
      total.paid++;
      total.committedUsdMicros += record.committedUsdMicros ?? record.reservedUsdMicros;
    } else if (record.status === 'released') {
      total.released++;
    } else {
      total.open++;
      total.openUsdMicros += record.reservedUsdMicros;
    }
  }
  return [...totals.values()].sort((a, b) =>
    a.host === b.host ? a.rail.localeCompare(b.rail) : a.host.localeCompare(b.host),
  );
}

/**
 * The totals as a text table with a final line for everything.
 *
 * @example
 * ```ts
 * import { renderTotals } from './report.js';
 * console.log(renderTotals(records));
 * ```
 */
export function renderTotals(records: readonly SpendRecord[]): string {
  const totals = ledgerTotals(records);
  if (totals.length === 0) {
    return records.length === 0
      ? 'The ledger is empty: nothing has been paid yet.'
      : 'No one-off payments: only sessions (above).';
  }
  const rows = totals.map((t) => [
    t.host,
    t.rail,
    String(t.paid),
    formatUsd(t.committedUsdMicros),
    t.open > 0 ? `${t.open} (${formatUsd(t.openUsdMicros)})` : '0',
    String(t.released),
  ]);
  const sum = totals.reduce((acc, t) => acc + t.committedUsdMicros, 0n);
  const open = totals.reduce((acc, t) => acc + t.openUsdMicros, 0n);
  const paid = totals.reduce((acc, t) => acc + t.paid, 0);
  const table = renderTable(
    ['host', 'rail', 'paid', 'spent', 'unknown outcome', 'refused, nothing moved'],
    rows,
    { right: [2, 3] },
  );
  const openText = open > 0n ? `; ${formatUsd(open)} held until their outcome is known` : '';
  const inSessions = records
    .filter((r) => isSessionRecord(r) && r.status === 'committed')
    .reduce((acc, r) => acc + (r.committedUsdMicros ?? 0n), 0n);
  const sessionText = inSessions > 0n ? `, plus ${formatUsd(inSessions)} in sessions` : '';
  return `${table}\n\nTotal: ${paid} payment${paid === 1 ? '' : 's'}, ${formatUsd(sum)} spent${sessionText}${openText}.`;
}

/**
 * The purchases whose outcome is unknown (`held`), oldest first: money may have moved, the
 * budget stays reserved, and the wallet's lookup (or a person) must settle them. A session's
 * deposit is held while the session is open (its outcome is known): it is not listed here;
 * `stipend sessions close` settles it.
 *
 * @example
 * ```ts
 * import { heldRecords } from './report.js';
 * heldRecords(records).map((r) => r.reference); // ['0x5c1e…', undefined]
 * ```
 */
export function heldRecords(records: readonly SpendRecord[]): SpendRecord[] {
  return records.filter((record) => record.status === 'held' && !isSessionRecord(record));
}

/**
 * The held purchases as a table with their references and how to settle them; `''` when none.
 *
 * @example
 * ```ts
 * import { renderHeld } from './report.js';
 * console.log(renderHeld(records));
 * ```
 */
export function renderHeld(records: readonly SpendRecord[]): string {
  const held = heldRecords(records);
  if (held.length === 0) return '';
  const rows = held.map((r) => [
    r.id,
    new Date(r.createdAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    hostOf(r.origin),
    `${r.protocol}:${r.scheme}`,
    safe(() => formatAmount(r.amount)),
    formatUsd(r.reservedUsdMicros),
    r.reference ?? 'none (the wallet gave none)',
  ]);
  const table = renderTable(
    ['record', 'since', 'host', 'rail', 'amount', 'held', 'reference'],
    rows,
    { right: [5] },
  );
  const count = `${held.length} purchase${held.length === 1 ? '' : 's'}`;
  return (
    `Held — ${count} whose outcome is unknown (the money may have moved; its budget stays reserved):\n` +
    `${table}\n` +
    'Settle them with: stipend reconcile (asks each wallet), or, once you know the answer,\n' +
    '  stipend reconcile --resolve <record>=paid   (it was paid)   or   --resolve <record>=void   (nothing moved)'
  );
}

const CSV_COLUMNS = [
  'id',
  'created_at',
  'status',
  'outcome',
  'method',
  'resource',
  'host',
  'protocol',
  'scheme',
  'payee',
  'network',
  'amount',
  'amount_atomic',
  'unit',
  'reserved_usd',
  'committed_usd',
  'wallet',
  'reference',
  'receipt',
  'tags',
  'failure',
] as const;

/**
 * The records as CSV (RFC 4180: quoted where needed, CRLF line ends), one row per record.
 *
 * @example
 * ```ts
 * import { formatCsv } from './report.js';
 * process.stdout.write(formatCsv(records));
 * ```
 */
export function formatCsv(records: readonly SpendRecord[]): string {
  const rows = records.map((r) => {
    const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
      id: r.id,
      created_at: new Date(r.createdAt).toISOString(),
      status: r.status,
      outcome: r.outcome ?? '',
      method: r.method,
      resource: r.resource,
      host: hostOf(r.origin),
      protocol: r.protocol,
      scheme: r.scheme,
      payee: r.payee,
      network: r.network ?? '',
      amount: safe(() => formatAmount(r.amount)),
      amount_atomic: r.amount.value.toString(),
      unit: safe(() => unitKey(r.amount.unit)),
      reserved_usd: formatUsd(r.reservedUsdMicros).slice(1),
      committed_usd:
        r.committedUsdMicros === undefined ? '' : formatUsd(r.committedUsdMicros).slice(1),
      wallet: r.walletId,
      reference: r.reference ?? '',
      receipt: r.receiptReference ?? '',
      tags: r.tags.join(' '),
      failure: r.failure ? `${r.failure.code}: ${r.failure.message}` : '',
    };
    return CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].map((line) => `${line}\r\n`).join('');
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function hostOf(origin: string): string {
  try {
    return new URL(origin).host;
  } catch {
    return origin;
  }
}

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return '';
  }
}
