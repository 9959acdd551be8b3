/**
 * Budget window arithmetic: where the window containing a moment starts, a stable key per
 * window, and parsing of the window specs people write in a policy (`{ rolling: '24h' }`).
 *
 * Every calendar period is UTC. A spend counts in a window when its time is at or after the
 * window's start (see {@link windowStart}).
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type { BudgetWindow } from './store.js';

/**
 * A budget window as written in a policy. Its home is the budget (which counts in windows);
 * the policy re-exports it for its rules.
 */
export type WindowSpec =
  /** `'1h'`, `'24h'`, `'7d'`, `'30m'`, `'90s'`: a sliding window. */
  | { readonly rolling: string }
  /** The current UTC day, ISO week or month. */
  | { readonly calendar: 'day' | 'week' | 'month' }
  /** Forever. */
  | { readonly total: true };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/** Milliseconds per rolling-window suffix. */
const ROLLING_UNITS: Readonly<Record<string, number>> = {
  s: SECOND,
  m: MINUTE,
  h: HOUR,
  d: DAY,
  w: WEEK,
};

const ROLLING_PATTERN = /^([1-9][0-9]*)([smhdw])$/;
const ACCEPTED_FORMS =
  "{ rolling: '<positive integer><s|m|h|d|w>' } (e.g. '90s', '30m', '24h', '7d', '2w'), " +
  "{ calendar: 'day' | 'week' | 'month' } or { total: true }";

/**
 * The start (ms since epoch, inclusive) of the window that contains `now`.
 *
 * - rolling: `now - ms`;
 * - calendar day: 00:00 UTC of `now`'s day;
 * - calendar week: Monday 00:00 UTC of `now`'s ISO week;
 * - calendar month: the 1st of `now`'s month, 00:00 UTC;
 * - total: `-Infinity` (every finite time is inside it).
 *
 * @param window - The window.
 * @param now - The moment, in ms since the epoch.
 * @returns The window's first millisecond.
 * @throws {StipendError} `BUDGET_INVALID` when `now` is not a finite number or the window is malformed.
 *
 * @example
 * ```ts
 * import { windowStart } from '@stipend/client';
 *
 * const now = Date.UTC(2024, 1, 29, 15, 30); // Thursday 29 February 2024
 * windowStart({ kind: 'calendar', unit: 'week' }, now); // Date.UTC(2024, 1, 26): Monday
 * windowStart({ kind: 'rolling', ms: 3_600_000 }, now); // now - 3_600_000
 * ```
 */
export function windowStart(window: BudgetWindow, now: number): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new StipendError('BUDGET_INVALID', `Invalid time ${String(now)}: pass ms since epoch.`, {
      metaMessages: ['Use a finite number such as Date.now().'],
      details: { now: String(now) },
    });
  }
  switch (window?.kind) {
    case 'rolling':
      assertRollingMs(window.ms);
      return now - window.ms;
    case 'total':
      return Number.NEGATIVE_INFINITY;
    case 'calendar': {
      const dayNumber = Math.floor(now / DAY);
      if (window.unit === 'day') return dayNumber * DAY;
      if (window.unit === 'week') {
        // 1970-01-01 (day 0) was a Thursday, index 3 counting from Monday = 0.
        const mondayIndex = (((dayNumber + 3) % 7) + 7) % 7;
        return (dayNumber - mondayIndex) * DAY;
      }
      if (window.unit === 'month') {
        const date = new Date(now);
        return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
      }
      throw invalidWindow(window);
    }
    default:
      throw invalidWindow(window);
  }
}

/**
 * A stable string naming a window, for map keys and storage keys: `'rolling:86400000'`,
 * `'calendar:day'`, `'calendar:week'`, `'calendar:month'` or `'total'`.
 *
 * @param window - The window.
 * @returns Its key.
 * @throws {StipendError} `BUDGET_INVALID` when the window is malformed.
 *
 * @example
 * ```ts
 * import { windowKey } from '@stipend/client';
 *
 * windowKey({ kind: 'rolling', ms: 86_400_000 }); // 'rolling:86400000'
 * windowKey({ kind: 'calendar', unit: 'day' }); // 'calendar:day'
 * ```
 */
export function windowKey(window: BudgetWindow): string {
  switch (window?.kind) {
    case 'rolling':
      assertRollingMs(window.ms);
      return `rolling:${window.ms}`;
    case 'calendar':
      if (window.unit === 'day' || window.unit === 'week' || window.unit === 'month') {
        return `calendar:${window.unit}`;
      }
      throw invalidWindow(window);
    case 'total':
      return 'total';
    default:
      throw invalidWindow(window);
  }
}

/**
 * Turns a policy window spec into a {@link BudgetWindow}.
 *
 * Rolling durations are a positive integer followed by one unit: `s` seconds, `m` minutes,
 * `h` hours, `d` days or `w` weeks (`'90s'`, `'30m'`, `'24h'`, `'7d'`, `'2w'`). No spaces,
 * signs, decimals, leading zeros or upper-case units.
 *
 * @param spec - `{ rolling: '24h' }`, `{ calendar: 'day' | 'week' | 'month' }` or `{ total: true }`.
 * @returns The window.
 * @throws {StipendError} `POLICY_INVALID` naming the bad value and the accepted forms.
 *
 * @example
 * ```ts
 * import { parseWindowSpec } from '@stipend/client';
 *
 * parseWindowSpec({ rolling: '24h' }); // { kind: 'rolling', ms: 86_400_000 }
 * parseWindowSpec({ calendar: 'month' }); // { kind: 'calendar', unit: 'month' }
 * parseWindowSpec({ total: true }); // { kind: 'total' }
 * ```
 */
export function parseWindowSpec(spec: WindowSpec): BudgetWindow {
  if (typeof spec !== 'object' || spec === null) throw invalidSpec(spec);
  const keys = Object.keys(spec);
  if (keys.length !== 1) throw invalidSpec(spec);
  if ('rolling' in spec) {
    const text = spec.rolling;
    const match = typeof text === 'string' ? ROLLING_PATTERN.exec(text) : null;
    const unitMs = match ? ROLLING_UNITS[match[2] ?? ''] : undefined;
    if (!match || unitMs === undefined) throw invalidSpec(spec);
    const ms = Number(match[1]) * unitMs;
    if (!Number.isSafeInteger(ms)) throw invalidSpec(spec, 'the duration is too long');
    return { kind: 'rolling', ms };
  }
  if ('calendar' in spec) {
    const unit = spec.calendar;
    if (unit === 'day' || unit === 'week' || unit === 'month') return { kind: 'calendar', unit };
    throw invalidSpec(spec);
  }
  if ('total' in spec && spec.total === true) return { kind: 'total' };
  throw invalidSpec(spec);
}

function assertRollingMs(ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms <= 0) {
    throw new StipendError('BUDGET_INVALID', `Invalid rolling window length ${String(ms)} ms.`, {
      metaMessages: ['Use a positive whole number of milliseconds, e.g. 86_400_000 for a day.'],
      details: { ms: String(ms) },
    });
  }
}

function invalidWindow(window: unknown): StipendError {
  const shown = describe(window);
  return new StipendError('BUDGET_INVALID', `Invalid budget window ${shown}.`, {
    metaMessages: [
      "Use { kind: 'rolling', ms }, { kind: 'calendar', unit: 'day' | 'week' | 'month' } or { kind: 'total' }.",
    ],
    details: { window: shown },
  });
}

function invalidSpec(spec: unknown, reason?: string): StipendError {
  const shown = describe(spec);
  const suffix = reason ? ` (${reason})` : '';
  return new StipendError('POLICY_INVALID', `Invalid budget window ${shown}${suffix}.`, {
    metaMessages: [`Use ${ACCEPTED_FORMS}.`],
    details: { window: shown },
  });
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text;
  } catch {
    // Cyclic or bigint-bearing values fall through to String().
  }
  return String(value);
}
