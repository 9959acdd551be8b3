import { describe, expect, it } from 'vitest';
import { spendRecord } from '../fixtures.test-helpers.js';
import { spendCharts } from './chart.js';
import { checkRecord, type LedgerRow } from './ledger.js';

const HOUR = 3_600_000;
const now = Date.UTC(2026, 11, 8, 12, 30);
const row = (patch: Record<string, unknown>) => {
  const checked = checkRecord(spendRecord(patch));
  if (!('row' in checked)) throw new Error(checked.problem);
  return checked.row as LedgerRow;
};

describe('spendCharts', () => {
  it('buckets committed spend per hour and per UTC day, split by host and by rail, exactly', () => {
    const rows = [
      row({ createdAt: now, committedUsdMicros: 1n, reservedUsdMicros: 5n }),
      row({
        createdAt: now - HOUR,
        origin: 'https://b.example',
        protocol: 'l402',
        scheme: 'bolt11',
        committedUsdMicros: 9_007_199_254_740_993n,
        reservedUsdMicros: 9_007_199_254_740_993n,
      }),
      row({ createdAt: now, status: 'held', reservedUsdMicros: 7n, committedUsdMicros: undefined }),
      row({ createdAt: now - 30 * HOUR, committedUsdMicros: 3n }),
    ];
    const { hour, day } = spendCharts(rows, [], now);
    expect(hour.buckets).toHaveLength(24);
    expect(hour.buckets.at(-1)).toBe(Date.UTC(2026, 11, 8, 12));
    const a = hour.byHost.find((s) => s.key === 'api.example.com')!;
    expect(a.micros.at(-1)).toBe('1');
    const b = hour.byRail.find((s) => s.key === 'l402:bolt11')!;
    expect(b.micros.at(-2)).toBe('9007199254740993');
    expect(hour.peak).toBe('9007199254740993');
    expect(day.buckets).toHaveLength(14);
    expect(day.byHost.find((s) => s.key === 'api.example.com')!.micros.slice(-2)).toEqual([
      '3',
      '1',
    ]);
  });

  it('draws the global limits whose window is one bucket, not others', () => {
    const limits = [
      { scope: 'global', windowKey: 'calendar:day', maxUsdMicros: 1_000_000n },
      { scope: 'global', windowKey: 'rolling:3600000', maxUsdMicros: 500_000n },
      { scope: 'global', windowKey: 'total', maxUsdMicros: 9n },
      { scope: 'host:a.example', windowKey: 'calendar:day', maxUsdMicros: 7n },
    ];
    const { hour, day } = spendCharts([], limits, now);
    expect(hour.limits).toEqual([{ label: 'global last 1h', micros: '500000', usd: '$0.50' }]);
    expect(day.limits).toEqual([{ label: 'global per UTC day', micros: '1000000', usd: '$1.00' }]);
  });

  it('sums hosts beyond the sixth into other', () => {
    const rows = Array.from({ length: 8 }, (_, i) =>
      row({ origin: `https://h${i}.example`, createdAt: now, committedUsdMicros: BigInt(10 + i) }),
    );
    const series = spendCharts(rows, [], now).hour.byHost;
    expect(series.map((s) => s.key)).toEqual([
      'h7.example',
      'h6.example',
      'h5.example',
      'h4.example',
      'h3.example',
      'other',
    ]);
    expect(series.at(-1)!.micros.at(-1)).toBe(String(10 + 11 + 12));
  });
});
