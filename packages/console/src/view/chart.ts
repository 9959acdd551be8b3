/**
 * Committed spend over time, bucketed per hour (the last 24) and per UTC day (the last 14),
 * split by host and by rail, with the global limits whose window is one bucket drawn across.
 * Amounts stay bigint here and travel as decimal strings; only the page turns them into
 * pixel heights.
 *
 * @module
 */
import type { LedgerRow } from './ledger.js';
import { usd } from './text.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** One stacked series: a host or a rail. */
export interface ChartSeries {
  readonly key: string;
  /** USD micro-units per bucket, decimal strings. */
  readonly micros: readonly string[];
}

/** A limit drawn as a line. */
export interface ChartLimit {
  readonly label: string;
  readonly micros: string;
  readonly usd: string;
}

/** One chart (hourly or daily). */
export interface Chart {
  /** Start of each bucket (ms since epoch), oldest first. */
  readonly buckets: readonly number[];
  readonly byHost: readonly ChartSeries[];
  readonly byRail: readonly ChartSeries[];
  readonly limits: readonly ChartLimit[];
  /** The highest bucket total, decimal micro-units. */
  readonly peak: string;
}

/** A budget limit as the chart reads it. */
export interface LimitLine {
  readonly scope: string;
  readonly windowKey: string;
  readonly maxUsdMicros?: bigint;
}

/** Most series drawn; the rest are summed into `other`. */
const MAX_SERIES = 6;

/**
 * Builds the hourly and daily charts from readable ledger rows (committed ones count).
 *
 * @example
 * ```ts
 * import { spendCharts } from './chart.js';
 * const { hour, day } = spendCharts(rows, limits, Date.now());
 * ```
 */
export function spendCharts(
  rows: readonly LedgerRow[],
  limits: readonly LimitLine[],
  now: number,
): { readonly hour: Chart; readonly day: Chart } {
  const committed = rows.filter((row) => row.status === 'committed');
  return {
    hour: chart(committed, Math.floor(now / HOUR) * HOUR, HOUR, 24, linesFor(limits, 'hour')),
    day: chart(committed, Math.floor(now / DAY) * DAY, DAY, 14, linesFor(limits, 'day')),
  };
}

function linesFor(limits: readonly LimitLine[], size: 'hour' | 'day'): ChartLimit[] {
  const windows =
    size === 'hour' ? ['rolling:3600000'] : ['calendar:day', `rolling:${String(DAY)}`];
  return limits
    .filter(
      (limit) =>
        limit.scope === 'global' &&
        limit.maxUsdMicros !== undefined &&
        windows.includes(limit.windowKey),
    )
    .map((limit) => ({
      label: `global ${limit.windowKey === 'calendar:day' ? 'per UTC day' : size === 'hour' ? 'last 1h' : 'last 24h'}`,
      micros: limit.maxUsdMicros!.toString(),
      usd: usd(limit.maxUsdMicros!),
    }));
}

function chart(
  rows: readonly LedgerRow[],
  current: number,
  size: number,
  count: number,
  limits: ChartLimit[],
): Chart {
  const first = current - (count - 1) * size;
  const buckets = Array.from({ length: count }, (_, index) => first + index * size);
  const totals = new Array<bigint>(count).fill(0n);
  const hosts = new Map<string, bigint[]>();
  const rails = new Map<string, bigint[]>();
  const add = (map: Map<string, bigint[]>, key: string, at: number, micros: bigint) => {
    let values = map.get(key);
    if (!values) {
      values = new Array<bigint>(count).fill(0n);
      map.set(key, values);
    }
    values[at] = values[at]! + micros;
  };
  for (const row of rows) {
    if (row.createdAt < first || row.createdAt >= current + size) continue;
    const at = Math.floor((row.createdAt - first) / size);
    const micros = BigInt(row.usdMicros);
    totals[at] = totals[at]! + micros;
    add(hosts, row.host, at, micros);
    add(rails, row.rail, at, micros);
  }
  let peak = 0n;
  for (const total of totals) if (total > peak) peak = total;
  return { buckets, byHost: series(hosts), byRail: series(rails), limits, peak: peak.toString() };
}

/** The largest series first; beyond {@link MAX_SERIES}, the rest summed as `other`. */
function series(map: Map<string, bigint[]>): ChartSeries[] {
  const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
  const sorted = [...map.entries()].sort((a, b) => {
    const d = sum(b[1]) - sum(a[1]);
    return d > 0n ? 1 : d < 0n ? -1 : a[0] < b[0] ? -1 : 1;
  });
  const kept = sorted.slice(0, MAX_SERIES - 1);
  const rest = sorted.slice(MAX_SERIES - 1);
  if (rest.length === 1) kept.push(rest[0]!);
  else if (rest.length > 1) {
    const other = rest[0]![1].map((_, index) =>
      rest.reduce((a, [, values]) => a + values[index]!, 0n),
    );
    kept.push(['other', other]);
  }
  return kept.map(([key, values]) => ({ key, micros: values.map(String) }));
}
