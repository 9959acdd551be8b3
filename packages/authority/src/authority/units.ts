/**
 * The units the authority prices by. An offer arrives from a sub-agent, so what its unit
 * claims (a token's decimals and peg, a currency's exponent) is not taken on trust: a token is
 * priced with the authority's own table, a currency with ISO 4217, and anything unknown is
 * refused. Otherwise a sub-agent could claim more decimals and buy $30 for the price of $0.03.
 *
 * @module
 */
import { iso4217Exponent, StipendError, type Unit } from '@stipend/client';

/**
 * A token the authority knows: the same shape as the x402 adapter's `KnownAsset`, so its
 * table (`X402_KNOWN_ASSETS`) can be passed as is.
 */
export interface TrustedAsset {
  /** CAIP-2 network, e.g. `eip155:8453`. */
  readonly network: string;
  /** Contract address or asset id (`0x` addresses match case-insensitively). */
  readonly address: string;
  readonly decimals: number;
  /** ISO 4217 code the token is pegged to (`USD` for USDC), if any. */
  readonly peg?: string;
  readonly symbol?: string;
}

/**
 * Builds the unit check: returns the unit to price with, or throws.
 *
 * @throws {StipendError} code `AUTHORITY_UNKNOWN_ASSET` for a token not in `assets`, or
 *   `AUTHORITY_BAD_REQUEST` for a currency whose exponent is not ISO 4217's.
 * @example
 * ```ts
 * import { unitChecker } from './units.js';
 * const trusted = unitChecker([{ network: 'eip155:8453', address: '0x8335…2913', decimals: 6, peg: 'USD' }]);
 * trusted(offer.amount.unit); // the unit with the table's decimals and peg
 * ```
 */
export function unitChecker(assets: readonly TrustedAsset[]): (unit: Unit) => Unit {
  const table = new Map<string, TrustedAsset>();
  for (const asset of assets) table.set(key(asset.network, asset.address), asset);
  return (unit) => {
    if (unit.kind === 'token') {
      const known = table.get(key(unit.network, unit.asset));
      if (known === undefined) {
        throw new StipendError(
          'AUTHORITY_UNKNOWN_ASSET',
          `The authority does not know the token ${unit.asset} on ${unit.network}, so it cannot price it; add it to createSpendAuthority({ assets }).`,
          { details: { network: unit.network, asset: unit.asset } },
        );
      }
      return Object.freeze({
        kind: 'token' as const,
        network: unit.network,
        asset: unit.asset,
        decimals: known.decimals,
        // The symbol is display only: the table's, else the one sent.
        ...((known.symbol ?? unit.symbol) !== undefined
          ? { symbol: known.symbol ?? unit.symbol }
          : {}),
        ...(known.peg !== undefined ? { peg: known.peg } : {}),
      });
    }
    if (unit.kind === 'fiat' && iso4217Exponent(unit.currency) !== unit.exponent) {
      throw new StipendError(
        'AUTHORITY_BAD_REQUEST',
        `The payment request is malformed: ${unit.currency} has ISO 4217 exponent ${iso4217Exponent(unit.currency) ?? '(unknown currency)'}, not ${unit.exponent}.`,
      );
    }
    return unit;
  };
}

function key(network: string, address: string): string {
  return `${network}/${address.startsWith('0x') ? address.toLowerCase() : address}`;
}
