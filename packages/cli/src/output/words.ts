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
