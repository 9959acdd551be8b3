/**
 * The one ranking rule for offers: cheapest in USD (maximum fee included) first; then the
 * policy's `prefer` order (protocol or `protocol:scheme`); then the order the server gave.
 *
 * @module
 */

/** What ranking needs to know about an item. */
export interface Rankable {
  readonly usdMicros: bigint;
  /** Lower-case protocol name. */
  readonly protocol: string;
  /** Lower-case `protocol:scheme`. */
  readonly rail: string;
}

/**
 * Sorts items by the ranking rule (stable: equal items keep the order given).
 *
 * @example
 * ```ts
 * import { rankOffers } from './rank.js';
 * rankOffers(evaluations, ['l402'], (e) => ({ usdMicros: e.usdMicros!, protocol: 'x402', rail: 'x402:exact' }));
 * ```
 */
export function rankOffers<T>(
  items: readonly T[],
  prefer: readonly string[],
  view: (item: T) => Rankable,
): T[] {
  const keyed = items.map((item) => {
    const { usdMicros, protocol, rail } = view(item);
    const at = prefer.findIndex((entry) => entry === protocol || entry === rail);
    return { item, usdMicros, preference: at === -1 ? prefer.length : at };
  });
  keyed.sort((a, b) =>
    a.usdMicros !== b.usdMicros
      ? a.usdMicros < b.usdMicros
        ? -1
        : 1
      : a.preference - b.preference,
  );
  return keyed.map((entry) => entry.item);
}
