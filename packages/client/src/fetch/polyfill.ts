/**
 * Installing a paying fetch as `globalThis.fetch`, without ever clobbering a fetch that
 * someone else installed after us.
 *
 * @module
 */

const previousFetch = new WeakMap<object, typeof fetch>();

/**
 * Installs `payingFetch` as `globalThis.fetch`. Idempotent. Returns the fetch it replaced
 * (which the paying fetch then sends with), or `undefined` when nothing changed: already
 * installed, or another wrapper was installed over ours since (it is left alone).
 */
export function installFetch(payingFetch: typeof fetch): typeof fetch | undefined {
  const current = globalThis.fetch;
  if (current === payingFetch) return previousFetch.get(payingFetch);
  if (previousFetch.has(payingFetch)) return undefined;
  previousFetch.set(payingFetch, current);
  globalThis.fetch = payingFetch;
  return current;
}

/**
 * Puts back the fetch that {@link installFetch} replaced. Returns `false` (and changes
 * nothing) when another library replaced `globalThis.fetch` after us; `true` otherwise.
 */
export function uninstallFetch(payingFetch: typeof fetch): boolean {
  const previous = previousFetch.get(payingFetch);
  if (previous === undefined) return true;
  if (globalThis.fetch !== payingFetch) return false;
  globalThis.fetch = previous;
  previousFetch.delete(payingFetch);
  return true;
}

/**
 * Replaces `globalThis.fetch` with a paying fetch.
 *
 * @example
 * ```ts
 * import { createPayingFetch, polyfill, restore } from '@stipend/client';
 *
 * const payingFetch = createPayingFetch({ wallets: [] });
 * polyfill(payingFetch);
 * await fetch('https://api.example.com/paid'); // pays under the policy
 * restore(payingFetch);
 * ```
 */
export function polyfill(payingFetch: { polyfill(): void }): void {
  payingFetch.polyfill();
}

/**
 * Restores the `globalThis.fetch` that {@link polyfill} replaced; `false` if another wrapper
 * now sits on top (it is left in place).
 *
 * @example
 * ```ts
 * import { restore } from '@stipend/client';
 * restore(payingFetch);
 * ```
 */
export function restore(payingFetch: { restore(): boolean }): boolean {
  return payingFetch.restore();
}
