/**
 * The ledger as the console shows it: each stored record checked field by field, then turned
 * into a row of short strings. A record that is not a well-formed spend record (edited by
 * hand, written by a hostile process, torn) becomes an `invalid` row naming the first field
 * that is wrong; it never reaches the page as anything but text, and never breaks the rest.
 *
 * @module
 */
import { formatAmount, type SpendRecord, type SpendStatus } from '@stipend/client';
import { hostOf, microsOf, shortText, tagsOf, timeOf, usd } from './text.js';

/** A record the console could read. Every field is display text or a number. */
export interface LedgerRow {
  readonly id: string;
  readonly invalid?: false;
  readonly status: SpendStatus;
  readonly outcome?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly rail: string;
  readonly method: string;
  readonly host: string;
  readonly origin: string;
  readonly resource: string;
  readonly payee: string;
  readonly network?: string;
  readonly amount: string;
  /** Committed cost once committed, else the reserved cost. */
  readonly usd: string;
  /** The same in USD micro-units, as a decimal string (for sums; never a number). */
  readonly usdMicros: string;
  readonly tags: readonly string[];
  readonly walletId: string;
  readonly reference?: string;
  readonly failure?: string;
}

/** A stored record the console could not read. */
export interface InvalidRow {
  /** Its id, when that much is a string. */
  readonly id?: string;
  readonly invalid: true;
  /** Which field is wrong. */
  readonly problem: string;
}

/** A record that passed every check, with its row. */
export interface CheckedRecord {
  readonly record: SpendRecord;
  readonly row: LedgerRow;
}

const STATUSES: ReadonlySet<string> = new Set(['pending', 'committed', 'released', 'held']);

/**
 * Checks one stored ledger record. Returns the record (safe to export) with its display row,
 * or an invalid row saying what is wrong.
 *
 * @example
 * ```ts
 * import { checkRecord } from './ledger.js';
 * const checked = checkRecord(await ledger.get('p_1'));
 * if ('row' in checked) console.warn(checked.row.usd);
 * ```
 */
export function checkRecord(value: unknown): CheckedRecord | InvalidRow {
  const r = value as Record<string, unknown> | null;
  const id = shortText(r?.id);
  const invalid = (problem: string): InvalidRow => ({
    ...(id !== undefined ? { id } : {}),
    invalid: true,
    problem,
  });
  if (typeof r !== 'object' || r === null) return invalid('not an object');
  if (!id) return invalid('id is not a string');
  const status = r.status;
  if (typeof status !== 'string' || !STATUSES.has(status)) return invalid('status is not known');
  for (const field of [
    'protocol',
    'scheme',
    'method',
    'origin',
    'resource',
    'payee',
    'offerId',
    'walletId',
    'purchaseKey',
    'reservationId',
  ] as const) {
    if (typeof r[field] !== 'string') return invalid(`${field} is not a string`);
  }
  for (const field of ['network', 'reference', 'receiptReference', 'outcome'] as const) {
    if (r[field] !== undefined && typeof r[field] !== 'string') {
      return invalid(`${field} is not a string`);
    }
  }
  const host = hostOf(r.origin);
  if (host === undefined) return invalid('origin is not a URL');
  const createdAt = timeOf(r.createdAt);
  const updatedAt = timeOf(r.updatedAt);
  if (createdAt === undefined || updatedAt === undefined) return invalid('a time is not a number');
  const reserved = microsOf(r.reservedUsdMicros);
  if (reserved === undefined) return invalid('reservedUsdMicros is not a bigint');
  const committed = microsOf(r.committedUsdMicros);
  if (r.committedUsdMicros !== undefined && committed === undefined) {
    return invalid('committedUsdMicros is not a bigint');
  }
  const rate = r.rate as Record<string, unknown> | undefined;
  if (
    typeof rate?.numerator !== 'bigint' ||
    typeof rate.denominator !== 'bigint' ||
    typeof rate.source !== 'string' ||
    timeOf(rate.asOf) === undefined
  ) {
    return invalid('rate is not a rate');
  }
  const tags = tagsOf(r.tags);
  if (!tags) return invalid('tags are not a list of strings');
  const failure = r.failure as Record<string, unknown> | undefined;
  if (
    failure !== undefined &&
    (typeof failure?.code !== 'string' || typeof failure.message !== 'string')
  ) {
    return invalid('failure is not a code and a message');
  }
  let amount: string;
  try {
    amount = formatAmount(r.amount as SpendRecord['amount']);
  } catch {
    return invalid('amount is not an amount');
  }
  const spent = status === 'committed' && committed !== undefined ? committed : reserved;
  const row: LedgerRow = {
    id,
    status: status as SpendStatus,
    ...(r.outcome !== undefined ? { outcome: shortText(r.outcome) } : {}),
    createdAt,
    updatedAt,
    rail: `${shortText(r.protocol, 40)}:${shortText(r.scheme, 40)}`,
    method: shortText(r.method, 16)!,
    host,
    origin: shortText(r.origin)!,
    resource: shortText(r.resource)!,
    payee: shortText(r.payee)!,
    ...(r.network !== undefined ? { network: shortText(r.network) } : {}),
    amount: shortText(amount)!,
    usd: usd(spent),
    usdMicros: spent.toString(),
    tags,
    walletId: shortText(r.walletId)!,
    ...(r.reference !== undefined ? { reference: shortText(r.reference) } : {}),
    ...(failure ? { failure: shortText(`${failure.code}: ${failure.message}`) } : {}),
  };
  return { record: r as unknown as SpendRecord, row };
}

/** Filters of the ledger table and its CSV export. */
export interface LedgerFilter {
  readonly host?: string;
  readonly rail?: string;
  readonly tag?: string;
  /** A ledger status, or `invalid` for the records that could not be read. */
  readonly status?: string;
  /** Records created at or after (ms since epoch). */
  readonly from?: number;
  /** Records created before (ms since epoch). */
  readonly to?: number;
}

/**
 * Reads the filters from a query string. Unknown parameters are ignored; a time that is not
 * an integer is ignored too (the page sends ms since the epoch).
 *
 * @example
 * ```ts
 * import { parseFilter } from './ledger.js';
 * parseFilter(new URLSearchParams('host=api.example.com&status=held'));
 * ```
 */
export function parseFilter(params: URLSearchParams): LedgerFilter {
  const text = (name: string) => {
    const value = params.get(name);
    return value ? shortText(value, 200) : undefined;
  };
  const time = (name: string) => {
    const value = params.get(name);
    return value && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  };
  const filter: Record<string, string | number> = {};
  for (const name of ['host', 'rail', 'tag', 'status'] as const) {
    const value = text(name);
    if (value !== undefined) filter[name] = name === 'host' ? value.toLowerCase() : value;
  }
  for (const name of ['from', 'to'] as const) {
    const value = time(name);
    if (value !== undefined) filter[name] = value;
  }
  return filter as LedgerFilter;
}

/** Whether a filter is set at all. */
export function isFiltered(filter: LedgerFilter): boolean {
  return Object.keys(filter).length > 0;
}

/**
 * Whether a readable row passes a filter.
 *
 * @example
 * ```ts
 * import { matches } from './ledger.js';
 * rows.filter((row) => matches(row, { rail: 'x402:exact' }));
 * ```
 */
export function matches(row: LedgerRow, filter: LedgerFilter): boolean {
  if (filter.status !== undefined && row.status !== filter.status) return false;
  if (filter.host !== undefined && row.host.toLowerCase() !== filter.host) return false;
  if (filter.rail !== undefined && row.rail !== filter.rail) return false;
  if (filter.tag !== undefined && !row.tags.includes(filter.tag)) return false;
  if (filter.from !== undefined && row.createdAt < filter.from) return false;
  if (filter.to !== undefined && row.createdAt >= filter.to) return false;
  return true;
}

/** The ledger part of the console's state. */
export interface LedgerView {
  /** Newest first, at most `limit`. */
  readonly rows: readonly (LedgerRow | InvalidRow)[];
  /** Rows that pass the filter (before the limit). */
  readonly matching: number;
  /** All records, readable or not. */
  readonly total: number;
  readonly invalid: number;
  /** The values the filters can take. */
  readonly facets: {
    readonly hosts: readonly string[];
    readonly rails: readonly string[];
    readonly tags: readonly string[];
  };
}

/**
 * Builds the ledger table: newest first, filtered; invalid rows show only when no filter is
 * set or the `invalid` status is asked for.
 *
 * @example
 * ```ts
 * import { checkRecord, ledgerView } from './ledger.js';
 * const view = ledgerView((await ledger.list()).map(checkRecord), {}, 200);
 * ```
 */
export function ledgerView(
  checked: readonly (CheckedRecord | InvalidRow)[],
  filter: LedgerFilter,
  limit: number,
): LedgerView {
  const hosts = new Set<string>();
  const rails = new Set<string>();
  const tags = new Set<string>();
  const rows: (LedgerRow | InvalidRow)[] = [];
  let invalid = 0;
  const onlyInvalid = filter.status === 'invalid';
  const { status: _status, ...rest } = filter;
  const showInvalid = onlyInvalid ? !isFiltered(rest) : !isFiltered(filter);
  for (let index = checked.length - 1; index >= 0; index--) {
    const entry = checked[index]!;
    if ('invalid' in entry && entry.invalid) {
      invalid++;
      if (showInvalid) rows.push(entry);
      continue;
    }
    const { row } = entry as CheckedRecord;
    hosts.add(row.host);
    rails.add(row.rail);
    for (const tag of row.tags) tags.add(tag);
    if (!onlyInvalid && matches(row, filter)) rows.push(row);
  }
  return {
    rows: rows.slice(0, limit),
    matching: rows.length,
    total: checked.length,
    invalid,
    facets: {
      hosts: [...hosts].sort(),
      rails: [...rails].sort(),
      tags: [...tags].sort(),
    },
  };
}
