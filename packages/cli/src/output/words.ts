/**
 * Short, readable renderings shared by the command's outputs.
 *
 * @module
 */

/**
 * Shortens a long id (an address, a node key, a profile id) to its head and tail.
 *
 * @example
 * ```ts
 * import { shortId } from './words.js';
 * shortId('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'); // '0x3C44…93BC'
 * ```
 */
export function shortId(id: string): string {
  return id.length > 16 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;
}

/**
 * A budget window key (`calendar:day`, `rolling:3600000`, `total`) in words.
 *
 * @example
 * ```ts
 * import { windowWords } from './words.js';
 * windowWords('calendar:day'); // 'UTC day'
 * windowWords('rolling:3600000'); // 'rolling 1 h'
 * ```
 */
export function windowWords(key: string): string {
  if (key.startsWith('calendar:')) return `UTC ${key.slice('calendar:'.length)}`;
  if (key.startsWith('rolling:')) {
    const ms = Number(key.slice('rolling:'.length));
    if (ms % 86_400_000 === 0) return `rolling ${ms / 86_400_000} d`;
    if (ms % 3_600_000 === 0) return `rolling ${ms / 3_600_000} h`;
    if (ms % 60_000 === 0) return `rolling ${ms / 60_000} min`;
    return `rolling ${ms / 1000} s`;
  }
  return key === 'total' ? 'all time' : key;
}

/**
 * Text a server chose, made safe for a terminal: control characters (ANSI escapes, carriage
 * returns, bidirectional overrides) become `�`, and it is cut to `max` characters.
 *
 * @example
 * ```ts
 * import { printable } from './words.js';
 * printable('acme\u001b[2J'); // 'acme�[2J'
 * ```
 */
export function printable(text: string, max = 200): string {
  const chars = [...text].map((char) =>
    isTerminalControl(char.codePointAt(0)!) ? '\ufffd' : char,
  );
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

/**
 * Whether a code point can steer a terminal: C0 and C1 controls, DEL, and the Unicode
 * bidirectional controls that reorder what is shown.
 *
 * @example
 * ```ts
 * import { isTerminalControl } from './words.js';
 * isTerminalControl(0x1b); // true (ESC)
 * isTerminalControl(0x41); // false ('A')
 * ```
 */
export function isTerminalControl(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}
