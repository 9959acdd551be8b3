/**
 * Spend-ledger exports: JSON lines and CSV. Pure functions, safe in Node and browsers.
 *
 * Money stays exact: every bigint is written as a decimal string of atomic units.
 *
 * @module
 */
import { type SpendRecord, unitKey } from '@stipend/client';

/** The CSV columns, in order. */
export const LEDGER_CSV_COLUMNS = [
  'id',
  'createdAt',
  'updatedAt',
  'status',
  'outcome',
  'protocol',
  'scheme',
  'method',
  'origin',
  'resource',
  'payee',
  'network',
  'offerId',
  'amount',
  'unit',
  'reservedUsdMicros',
  'committedUsdMicros',
  'rateNumerator',
  'rateDenominator',
  'rateSource',
  'rateAsOf',
  'walletId',
  'reference',
  'receiptReference',
  'failureCode',
  'failureMessage',
  'tags',
  'purchaseKey',
  'reservationId',
] as const;

/** Options of {@link exportLedgerCsv}. */
export interface LedgerCsvOptions {
  /**
   * Prefix text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
   * `@`, tab or carriage return) with `'`. Default true: origins, payees and failure messages
   * come from servers. Numeric columns are never changed.
   */
  readonly guardFormulas?: boolean;
}

/**
 * Exports spend records as JSON lines: one JSON object per record and line, bigints as
 * decimal strings, times as ms since the epoch.
 *
 * @param records - Records, e.g. `await ledger.list()`.
 * @returns The text (ends with a newline unless empty).
 *
 * @example
 * ```ts
 * import { createFileLedger, exportLedgerJsonl } from '@stipend/stores/file';
 *
 * const ledger = createFileLedger({ path: 'spend.jsonl' });
 * const text = exportLedgerJsonl(await ledger.list());
 * ```
 */
export function exportLedgerJsonl(records: readonly SpendRecord[]): string {
  return records
    .map((record) =>
      JSON.stringify(record, (_key, value) =>
        typeof value === 'bigint' ? value.toString() : value,
      ),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * Exports spend records as CSV (RFC 4180: comma-separated, CRLF line ends, a header row,
 * cells with a comma, quote or line break quoted with quotes doubled). Bigints are decimal
 * strings of atomic units; `unit` is the unit key (`eip155:8453/0x…`, `iso4217:USD`,
 * `lightning:msat`); tags are joined with `;`. See {@link LEDGER_CSV_COLUMNS}.
 *
 * @param records - Records, e.g. `await ledger.list()`.
 * @param options - See {@link LedgerCsvOptions}.
 * @returns The CSV text.
 *
 * @example
 * ```ts
 * import { exportLedgerCsv } from '@stipend/stores/file';
 * import { createMemoryLedger } from '@stipend/client';
 *
 * const csv = exportLedgerCsv(createMemoryLedger().list());
 * // 'id,createdAt,updatedAt,status,…\r\n'
 * ```
 */
export function exportLedgerCsv(
  records: readonly SpendRecord[],
  options: LedgerCsvOptions = {},
): string {
  const guard = options.guardFormulas ?? true;
  const text = (value: string | undefined): string => {
    if (value === undefined) return '';
    return guard && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  };
  const rows = records.map((record) => {
    const cells: Record<(typeof LEDGER_CSV_COLUMNS)[number], string> = {
      id: text(record.id),
      createdAt: String(record.createdAt),
      updatedAt: String(record.updatedAt),
      status: text(record.status),
      outcome: text(record.outcome),
      protocol: text(record.protocol),
      scheme: text(record.scheme),
      method: text(record.method),
      origin: text(record.origin),
      resource: text(record.resource),
      payee: text(record.payee),
      network: text(record.network),
      offerId: text(record.offerId),
      amount: record.amount.value.toString(),
      unit: text(safeUnitKey(record)),
      reservedUsdMicros: record.reservedUsdMicros.toString(),
      committedUsdMicros: record.committedUsdMicros?.toString() ?? '',
      rateNumerator: record.rate.numerator.toString(),
      rateDenominator: record.rate.denominator.toString(),
      rateSource: text(record.rate.source),
      rateAsOf: String(record.rate.asOf),
      walletId: text(record.walletId),
      reference: text(record.reference),
      receiptReference: text(record.receiptReference),
      failureCode: text(record.failure?.code),
      failureMessage: text(record.failure?.message),
      tags: text(record.tags.join(';')),
      purchaseKey: text(record.purchaseKey),
      reservationId: text(record.reservationId),
    };
    return LEDGER_CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',');
  });
  return [LEDGER_CSV_COLUMNS.join(','), ...rows].map((row) => `${row}\r\n`).join('');
}

/** Quotes a CSV cell when it holds a comma, a quote or a line break. */
function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function safeUnitKey(record: SpendRecord): string {
  try {
    return unitKey(record.amount.unit);
  } catch {
    return JSON.stringify(record.amount.unit);
  }
}
