import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StipendError } from '../errors/base.js';
import type { BudgetWindow } from './store.js';
import type { WindowSpec } from './window.js';
import { parseWindowSpec, windowKey, windowStart } from './window.js';

const DAY = 86_400_000;
const day: BudgetWindow = { kind: 'calendar', unit: 'day' };
const week: BudgetWindow = { kind: 'calendar', unit: 'week' };
const month: BudgetWindow = { kind: 'calendar', unit: 'month' };

function errorOf(fn: () => unknown): StipendError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StipendError);
    return error as StipendError;
  }
  throw new Error('expected a throw');
}

describe('windowStart', () => {
  it('rolling windows start ms before now', () => {
    expect(windowStart({ kind: 'rolling', ms: 3_600_000 }, 10_000_000)).toBe(6_400_000);
    expect(windowStart({ kind: 'rolling', ms: 1 }, 0)).toBe(-1);
  });

  it('total windows start at -Infinity', () => {
    expect(windowStart({ kind: 'total' }, Date.UTC(2024, 0, 1))).toBe(Number.NEGATIVE_INFINITY);
  });

  it('calendar days start at UTC midnight', () => {
    expect(windowStart(day, Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe(Date.UTC(2024, 1, 29));
    expect(windowStart(day, Date.UTC(2024, 1, 29))).toBe(Date.UTC(2024, 1, 29));
    expect(windowStart(day, Date.UTC(2024, 1, 29) - 1)).toBe(Date.UTC(2024, 1, 28));
    expect(windowStart(day, Date.UTC(2023, 11, 31, 12))).toBe(Date.UTC(2023, 11, 31));
    expect(windowStart(day, Date.UTC(1969, 11, 31, 13))).toBe(Date.UTC(1969, 11, 31));
  });

  it('calendar weeks start on Monday 00:00 UTC (ISO weeks)', () => {
    // Thursday 29 Feb 2024 -> Monday 26 Feb.
    expect(windowStart(week, Date.UTC(2024, 1, 29, 15, 30))).toBe(Date.UTC(2024, 1, 26));
    // Sunday 3 March 2024, last ms -> still the week of 26 Feb.
    expect(windowStart(week, Date.UTC(2024, 2, 4) - 1)).toBe(Date.UTC(2024, 1, 26));
    // Monday 4 March 2024 00:00 -> itself.
    expect(windowStart(week, Date.UTC(2024, 2, 4))).toBe(Date.UTC(2024, 2, 4));
    // Friday 1 Jan 2021 -> Monday 28 Dec 2020 (year boundary).
    expect(windowStart(week, Date.UTC(2021, 0, 1, 8))).toBe(Date.UTC(2020, 11, 28));
    // Wednesday 1 Jan 2025 -> Monday 30 Dec 2024.
    expect(windowStart(week, Date.UTC(2025, 0, 1))).toBe(Date.UTC(2024, 11, 30));
    // The epoch was a Thursday; before the epoch works too.
    expect(windowStart(week, 0)).toBe(Date.UTC(1969, 11, 29));
    expect(windowStart(week, Date.UTC(1969, 11, 28, 23))).toBe(Date.UTC(1969, 11, 22));
  });

  it('calendar months start on the 1st at 00:00 UTC', () => {
    expect(windowStart(month, Date.UTC(2024, 1, 29, 23))).toBe(Date.UTC(2024, 1, 1));
    expect(windowStart(month, Date.UTC(2024, 2, 1) - 1)).toBe(Date.UTC(2024, 1, 1));
    expect(windowStart(month, Date.UTC(2024, 2, 1))).toBe(Date.UTC(2024, 2, 1));
    expect(windowStart(month, Date.UTC(2023, 2, 1) - 1)).toBe(Date.UTC(2023, 1, 1));
    expect(windowStart(month, Date.UTC(2024, 0, 1) - 1)).toBe(Date.UTC(2023, 11, 1));
    expect(windowStart(month, Date.UTC(2024, 0, 1))).toBe(Date.UTC(2024, 0, 1));
    expect(windowStart(month, Date.UTC(2000, 1, 29, 12))).toBe(Date.UTC(2000, 1, 1));
    expect(windowStart(month, Date.UTC(1900, 2, 1) - 1)).toBe(Date.UTC(1900, 1, 1));
    expect(windowStart(month, Date.UTC(1969, 11, 15))).toBe(Date.UTC(1969, 11, 1));
  });

  it('every calendar start is the right boundary at or before now (property)', () => {
    const time = fc.integer({ min: Date.UTC(1800, 0, 1), max: Date.UTC(2300, 0, 1) });
    fc.assert(
      fc.property(time, (now) => {
        const d = windowStart(day, now);
        expect(d % DAY === 0 || d % DAY === 0).toBe(true);
        expect(d <= now && now < d + DAY).toBe(true);

        const w = windowStart(week, now);
        expect(new Date(w).getUTCDay()).toBe(1);
        expect(w % DAY === 0 || w % DAY === 0).toBe(true);
        expect(w <= now && now < w + 7 * DAY).toBe(true);

        const m = windowStart(month, now);
        const date = new Date(now);
        const start = new Date(m);
        expect(start.getUTCDate()).toBe(1);
        expect(m % DAY === 0 || m % DAY === 0).toBe(true);
        expect(start.getUTCFullYear()).toBe(date.getUTCFullYear());
        expect(start.getUTCMonth()).toBe(date.getUTCMonth());
        expect(m <= now).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a non-finite now and malformed windows', () => {
    expect(errorOf(() => windowStart(day, Number.NaN)).code).toBe('BUDGET_INVALID');
    expect(errorOf(() => windowStart(day, Number.POSITIVE_INFINITY)).code).toBe('BUDGET_INVALID');
    expect(errorOf(() => windowStart({ kind: 'rolling', ms: 0 }, 1)).code).toBe('BUDGET_INVALID');
    expect(errorOf(() => windowStart({ kind: 'rolling', ms: 1.5 }, 1)).code).toBe('BUDGET_INVALID');
    const year = { kind: 'calendar', unit: 'year' } as unknown as BudgetWindow;
    const error = errorOf(() => windowStart(year, 1));
    expect(error.code).toBe('BUDGET_INVALID');
    expect(error.message).toContain('"year"');
    expect(errorOf(() => windowStart({ kind: 'forever' } as unknown as BudgetWindow, 1)).code).toBe(
      'BUDGET_INVALID',
    );
  });
});

describe('windowKey', () => {
  it('names each window stably', () => {
    expect(windowKey({ kind: 'rolling', ms: 86_400_000 })).toBe('rolling:86400000');
    expect(windowKey(day)).toBe('calendar:day');
    expect(windowKey(week)).toBe('calendar:week');
    expect(windowKey(month)).toBe('calendar:month');
    expect(windowKey({ kind: 'total' })).toBe('total');
  });

  it('rejects malformed windows', () => {
    expect(errorOf(() => windowKey({ kind: 'rolling', ms: -5 })).code).toBe('BUDGET_INVALID');
    const bad = { kind: 'calendar', unit: 'hour' } as unknown as BudgetWindow;
    expect(errorOf(() => windowKey(bad)).code).toBe('BUDGET_INVALID');
    expect(errorOf(() => windowKey(undefined as unknown as BudgetWindow)).code).toBe(
      'BUDGET_INVALID',
    );
  });
});

describe('parseWindowSpec', () => {
  it('parses rolling durations in every unit', () => {
    expect(parseWindowSpec({ rolling: '90s' })).toEqual({ kind: 'rolling', ms: 90_000 });
    expect(parseWindowSpec({ rolling: '30m' })).toEqual({ kind: 'rolling', ms: 1_800_000 });
    expect(parseWindowSpec({ rolling: '24h' })).toEqual({ kind: 'rolling', ms: 86_400_000 });
    expect(parseWindowSpec({ rolling: '7d' })).toEqual({ kind: 'rolling', ms: 604_800_000 });
    expect(parseWindowSpec({ rolling: '2w' })).toEqual({ kind: 'rolling', ms: 1_209_600_000 });
    expect(parseWindowSpec({ rolling: '1s' })).toEqual({ kind: 'rolling', ms: 1_000 });
  });

  it('parses calendar and total specs', () => {
    expect(parseWindowSpec({ calendar: 'day' })).toEqual(day);
    expect(parseWindowSpec({ calendar: 'week' })).toEqual(week);
    expect(parseWindowSpec({ calendar: 'month' })).toEqual(month);
    expect(parseWindowSpec({ total: true })).toEqual({ kind: 'total' });
  });

  it.each([
    ['0s'],
    ['24'],
    ['h'],
    ['1.5h'],
    [' 24h'],
    ['24h '],
    ['24H'],
    ['-1h'],
    ['+1h'],
    ['01h'],
    ['24hr'],
    ['1y'],
    [''],
    ['99999999999999999999w'],
  ])('rejects the rolling duration %j, naming it and the accepted forms', (text) => {
    const error = errorOf(() => parseWindowSpec({ rolling: text }));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(JSON.stringify(text));
    expect(error.message).toContain("'24h'");
    expect(error.message).toContain("calendar: 'day' | 'week' | 'month'");
  });

  it('rejects a duration too long to count in ms exactly', () => {
    const error = errorOf(() => parseWindowSpec({ rolling: '9007199254740993s' }));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain('too long');
  });

  it.each([
    [{ rolling: 24 }],
    [{ calendar: 'year' }],
    [{ calendar: 'Day' }],
    [{ total: false }],
    [{ total: 'yes' }],
    [{}],
    [{ rolling: '1h', calendar: 'day' }],
    [null],
    ['24h'],
  ])('rejects the spec %j', (spec) => {
    const error = errorOf(() => parseWindowSpec(spec as unknown as WindowSpec));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.message).toContain(JSON.stringify(spec));
    expect(error.message).toContain('{ total: true }');
  });
});
