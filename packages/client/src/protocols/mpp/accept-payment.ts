/**
 * The `Accept-Payment` request header (MPP, "Client Payment Preferences"): which
 * `method/intent` pairs the client can pay, with q-values for its preference, so a server can
 * send fewer and better-ordered challenges. The challenge stays authoritative either way.
 *
 * @module
 */

/**
 * Builds an `Accept-Payment` value from the wallets' rails and the policy's `prefer` order.
 * Only `mpp:<method>.<intent>` rails count. Rails named in `prefer` (by rail, or by `mpp` for
 * all) come first in that order, the rest keep their order; q falls by 0.1 per place from 1
 * (written only when below 1) down to 0.1. Returns `undefined` when no MPP rail is given.
 *
 * @example
 * ```ts
 * import { acceptPaymentHeader } from '@stipend/client';
 *
 * acceptPaymentHeader(['x402:exact', 'mpp:stripe.charge', 'mpp:evm.charge'], ['mpp:evm.charge']);
 * // 'evm/charge, stripe/charge;q=0.9'
 * ```
 */
export function acceptPaymentHeader(
  rails: readonly string[],
  prefer: readonly string[] = [],
): string | undefined {
  const pairs: { pair: string; rail: string; at: number }[] = [];
  for (const rail of rails) {
    const match = /^mpp:([a-z][a-z0-9:_-]*)\.([A-Za-z0-9-]+)$/.exec(rail.toLowerCase());
    if (!match) continue;
    const pair = `${match[1]}/${match[2]}`;
    if (pairs.some((p) => p.pair === pair)) continue;
    pairs.push({ pair, rail: rail.toLowerCase(), at: pairs.length });
  }
  if (pairs.length === 0) return undefined;
  const wanted = prefer.map((entry) => entry.toLowerCase());
  const rank = (rail: string) => {
    const exact = wanted.indexOf(rail);
    if (exact !== -1) return exact;
    const any = wanted.indexOf('mpp');
    return any !== -1 ? any : wanted.length;
  };
  pairs.sort((a, b) => rank(a.rail) - rank(b.rail) || a.at - b.at);
  return pairs
    .map(({ pair }, place) => {
      const tenths = Math.max(1, 10 - place);
      return tenths === 10 ? pair : `${pair};q=0.${tenths}`;
    })
    .join(', ');
}
