/**
 * Reading untrusted store values: every field a page shows passes through here, so a hostile
 * or corrupt record yields a short string or nothing, never an object, markup that runs, or a
 * megabyte of text.
 *
 * @module
 */
import { formatUsd } from '@stipend/client';

/** Longest text shown for one field (longer text is cut with an ellipsis). */
export const MAX_FIELD_CHARS = 300;

/**
 * A string field cut to {@link MAX_FIELD_CHARS}, or `undefined` when it is not a string.
 *
 * @example
 * ```ts
 * import { shortText } from './text.js';
 * shortText('<b>x</b>'); // '<b>x</b>' (shown with textContent, never as HTML)
 * shortText(42); // undefined
 * ```
 */
export function shortText(value: unknown, max = MAX_FIELD_CHARS): string | undefined {
  if (typeof value !== 'string') return undefined;
  // Control characters (other than tab) are dropped: they only ever hide what a line says.
  let clean = '';
  // A megabyte-long field is cut before it is scanned.
  const head = value.length > max * 4 ? value.slice(0, max * 4) : value;
  for (const char of head) {
    const code = char.charCodeAt(0);
    const control =
      (code < 0x20 && code !== 0x09) ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 ||
      code === 0x2029;
    if (!control) clean += char;
  }
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * A finite time in ms since the epoch, or `undefined`.
 *
 * @example
 * ```ts
 * import { timeOf } from './text.js';
 * timeOf(Date.now()); // the number
 * timeOf('yesterday'); // undefined
 * ```
 */
export function timeOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A non-negative bigint, or `undefined`.
 *
 * @example
 * ```ts
 * import { microsOf } from './text.js';
 * microsOf(5n); // 5n
 * microsOf(5); // undefined: money is never a JavaScript number
 * ```
 */
export function microsOf(value: unknown): bigint | undefined {
  return typeof value === 'bigint' && value >= 0n ? value : undefined;
}

/**
 * USD micro-units as text (`$0.05`).
 *
 * @example
 * ```ts
 * import { usd } from './text.js';
 * usd(50_000n); // '$0.05'
 * ```
 */
export function usd(micros: bigint): string {
  return formatUsd(micros);
}

/**
 * The hostname of an origin, or `undefined` when it is not an `http(s)` URL.
 *
 * @example
 * ```ts
 * import { hostOf } from './text.js';
 * hostOf('https://api.example.com:8443'); // 'api.example.com'
 * ```
 */
export function hostOf(origin: unknown): string | undefined {
  if (typeof origin !== 'string') return undefined;
  try {
    const url = new URL(origin);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) return undefined;
    return shortText(url.hostname);
  } catch {
    return undefined;
  }
}

/**
 * Tags as short strings (at most 20), or `undefined` when it is not an array of strings.
 *
 * @example
 * ```ts
 * import { tagsOf } from './text.js';
 * tagsOf(['research']); // ['research']
 * ```
 */
export function tagsOf(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length > 20) return undefined;
  const out: string[] = [];
  for (const tag of value) {
    const text = shortText(tag, 80);
    if (text === undefined) return undefined;
    out.push(text);
  }
  return out;
}

/**
 * How a rolling, calendar or total window reads in a table.
 *
 * @example
 * ```ts
 * import { windowText } from './text.js';
 * windowText({ kind: 'calendar', unit: 'day' }); // 'per UTC day'
 * windowText({ kind: 'rolling', ms: 3_600_000 }); // 'last 1h'
 * ```
 */
export function windowText(window: unknown): string {
  const w = window as { kind?: unknown; unit?: unknown; ms?: unknown } | null;
  if (w?.kind === 'total') return 'in total';
  if (w?.kind === 'calendar' && typeof w.unit === 'string')
    return `per UTC ${shortText(w.unit, 10)}`;
  if (w?.kind === 'rolling' && typeof w.ms === 'number' && w.ms > 0) {
    const units: [number, string][] = [
      [7 * 86_400_000, 'w'],
      [86_400_000, 'd'],
      [3_600_000, 'h'],
      [60_000, 'm'],
      [1000, 's'],
    ];
    for (const [size, name] of units) if (w.ms % size === 0) return `last ${w.ms / size}${name}`;
    return `last ${w.ms}ms`;
  }
  return 'unknown window';
}
