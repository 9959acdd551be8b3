/**
 * Conversion of amounts into the budget currency, USD micro-units (1e-6 USD), through price
 * sources with an explicit staleness bound. Rates are exact rationals of bigints; no floats.
 */

import { isStipendError } from '../errors/base.js';
import { builtInAsset } from './assets.js';
import { MAX_DECIMALS, parseDecimalFraction } from './decimal.js';
import { AmountError, PriceUnavailableError } from './errors.js';
import { iso4217Exponent } from './iso4217.js';
import type { Amount, Unit, UsdMicros } from './unit.js';
import { amount as checkedAmount, tokenKey, unitKey } from './unit.js';

/**
 * Price of one atomic unit in USD micro-units, as an exact fraction:
 * `usdMicros = ceil(atomicValue * usdMicrosPerUnitNumerator / denominator)`.
 *
 * Example: USDC (6 decimals) is `1 / 1` (1 atomic unit = 1 µUSD); msat at $100,000/BTC is
 * `1 / 1`; a 18-decimal USD stablecoin is `1 / 10^12`; USD cents are `10000 / 1`.
 */
export interface Rate {
  /** Numerator of the µUSD price of one atomic unit; positive. */
  readonly usdMicrosPerUnitNumerator: bigint;
  /** Denominator of the µUSD price of one atomic unit; positive. */
  readonly denominator: bigint;
  /** When the rate was observed, in milliseconds since the epoch. */
  readonly asOf: number;
  /** Where the rate came from (recorded with the spend), e.g. `'peg'`, `'fixed'`. */
  readonly source: string;
}

/**
 * Gives the USD rate of a unit, or `undefined` when it does not know the unit. It may throw
 * or reject on failure. Staleness is judged by the caller ({@link toUsdMicros}) from `asOf`.
 */
export interface PriceSource {
  rate(unit: Unit, now: number): Rate | undefined | Promise<Rate | undefined>;
}

const USD_MICROS_PER_DOLLAR = 1_000_000n;

/** Decimals of msat relative to one bitcoin (1 BTC = 1e11 msat). */
const MSAT_DECIMALS_PER_BTC = 11;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    [x, y] = [y, x % y];
  }
  return x;
}

/**
 * Builds a rate from a decimal USD price of one WHOLE unit (`'1'` for a USD stablecoin,
 * `'97123.45'` for one BTC) and the number of decimals of the atomic unit (6 for USDC, 11 for
 * msat per BTC, 2 for EUR cents). The fraction is exact and reduced.
 *
 * @throws {AmountError} when the price is malformed or zero, or `decimals` is invalid.
 * @example
 * ```ts
 * import { rateFromUsdPrice } from '@stipend/client';
 * // msat at $100,000 per BTC: 1 msat = 1 µUSD
 * rateFromUsdPrice('100000', 11, Date.now(), 'my-oracle'); // numerator 1n, denominator 1n
 * ```
 */
export function rateFromUsdPrice(
  usdPerWholeUnit: string,
  decimals: number,
  asOf: number,
  source: string,
): Rate {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new AmountError(
      `decimals must be an integer from 0 to ${MAX_DECIMALS}, got ${String(decimals)}`,
    );
  }
  const price = parseDecimalFraction(usdPerWholeUnit);
  if (price.numerator === 0n) {
    throw new AmountError(
      `USD price ${JSON.stringify(usdPerWholeUnit)} is zero; a zero price would make every cost free`,
    );
  }
  const numerator = price.numerator * USD_MICROS_PER_DOLLAR;
  const denominator = price.denominator * 10n ** BigInt(decimals);
  const divisor = gcd(numerator, denominator);
  return Object.freeze({
    usdMicrosPerUnitNumerator: numerator / divisor,
    denominator: denominator / divisor,
    asOf,
    source,
  });
}

/**
 * Applies a rate to a number of atomic units, rounding UP: any non-zero remainder adds one µUSD,
 * so a converted cost is never under-counted.
 *
 * @throws {AmountError} when `value` is negative or the rate is not positive.
 * @example
 * ```ts
 * import { applyRate } from '@stipend/client';
 * const rate = { usdMicrosPerUnitNumerator: 1n, denominator: 1000n, asOf: 0, source: 'x' };
 * applyRate(1001n, rate); // 2n
 * ```
 */
export function applyRate(value: bigint, rate: Rate): UsdMicros {
  if (typeof value !== 'bigint' || value < 0n) {
    throw new AmountError('value must be a non-negative bigint of atomic units');
  }
  const problem = rateProblem(rate);
  if (problem !== undefined) throw new AmountError(`invalid rate: ${problem}`);
  const scaled = value * rate.usdMicrosPerUnitNumerator;
  const quotient = scaled / rate.denominator;
  return scaled % rate.denominator === 0n ? quotient : quotient + 1n;
}

function rateProblem(rate: unknown): string | undefined {
  if (typeof rate !== 'object' || rate === null) return 'it is not an object';
  const r = rate as Partial<Record<keyof Rate, unknown>>;
  if (typeof r.usdMicrosPerUnitNumerator !== 'bigint' || r.usdMicrosPerUnitNumerator <= 0n) {
    return 'usdMicrosPerUnitNumerator must be a positive bigint';
  }
  if (typeof r.denominator !== 'bigint' || r.denominator <= 0n) {
    return 'denominator must be a positive bigint';
  }
  if (typeof r.asOf !== 'number' || !Number.isFinite(r.asOf)) {
    return 'asOf must be a finite millisecond timestamp';
  }
  if (typeof r.source !== 'string') return 'source must be a string';
  return undefined;
}

/** A peg with the decimals the client knows for that token. */
export interface KnownPeg {
  /** ISO 4217 code the token is pegged to (`'USD'`). */
  readonly peg: string;
  /** The token's decimals, as its contract says (`decimals()`), never as a server says. */
  readonly decimals: number;
}

/** Options of {@link pegPriceSource}. */
export interface PegPriceSourceOptions {
  /**
   * Peg table by token unit key (`network/asset`, see `unitKey`): `{ peg, decimals }` for a
   * token, the bare ISO 4217 code (`'USD'`) for a token of the known-asset registry (its
   * decimals are known), or `null` to ignore a peg the unit itself declares (e.g. during a
   * depeg). Entries here override the unit's own `peg`. Only `'USD'` pegs are priced.
   */
  readonly pegs?: Readonly<Record<string, string | KnownPeg | null>>;
  /** Name recorded in the rates; default `'peg'`. */
  readonly source?: string;
}

/**
 * Prices USD-pegged stablecoins at exactly 1 USD per whole token and fiat USD exactly by its
 * exponent. Everything else yields `undefined`. Peg rates carry `asOf = now`, so they never go
 * stale. A depeg skews caps: remove the peg (`null`) to stop.
 *
 * Decimals come only from the client: the `pegs` table, the known-asset registry, or (for a
 * unit that declares its own `peg`) the adapter that built the unit from the user's
 * configuration. A unit whose decimals differ from the known ones was scaled by a server:
 * it is refused with a `PriceUnavailableError` (`untrusted_decimals`), never priced.
 *
 * @throws {AmountError} when a `pegs` key is not a `network/asset` token key, a peg is not an
 *   upper-case ISO 4217 code or `null`, or a bare peg names a token whose decimals are unknown.
 * @example
 * ```ts
 * import { pegPriceSource, toUsdMicros, amount } from '@stipend/client';
 * const usdc = { kind: 'token', network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6, peg: 'USD' } as const;
 * const { usdMicros } = await toUsdMicros(amount(10_000n, usdc), pegPriceSource(), { now: Date.now(), maxAgeMs: 60_000 });
 * // usdMicros === 10000n ($0.01)
 * // A token outside the registry: say its decimals too.
 * pegPriceSource({ pegs: { 'eip155:10/0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85': { peg: 'USD', decimals: 6 } } });
 * ```
 */
export function pegPriceSource(options: PegPriceSourceOptions = {}): PriceSource {
  const source = options.source ?? 'peg';
  const pegs = new Map<string, KnownPeg | null>();
  for (const [key, entry] of Object.entries(options.pegs ?? {})) {
    const slash = key.indexOf('/');
    if (slash <= 0 || slash === key.length - 1) {
      throw new AmountError(
        `pegPriceSource pegs key ${JSON.stringify(key)} must be a token unit key "network/asset", e.g. "eip155:8453/0x…"`,
      );
    }
    const network = key.slice(0, slash);
    const asset = key.slice(slash + 1);
    pegs.set(tokenKey(network, asset), readPeg(key, entry, builtInAsset(network, asset)));
  }
  return {
    rate(unit, now) {
      if (unit.kind === 'fiat') {
        return unit.currency === 'USD'
          ? rateFromUsdPrice('1', unit.exponent, now, source)
          : undefined;
      }
      if (unit.kind !== 'token') return undefined;
      const key = unitKey(unit);
      const listed = pegs.get(key);
      const peg = pegs.has(key) ? listed?.peg : unit.peg;
      if (peg !== 'USD') return undefined;
      const known = listed?.decimals ?? builtInAsset(unit.network, unit.asset)?.decimals;
      if (known !== undefined && known !== unit.decimals) {
        throw new PriceUnavailableError(
          key,
          'untrusted_decimals',
          `${key} is priced with ${unit.decimals} decimals, but the token has ${known}; ` +
            'decimals a server states are never used to price a payment',
        );
      }
      return rateFromUsdPrice('1', unit.decimals, now, source);
    },
  };
}

function readPeg(
  key: string,
  entry: string | KnownPeg | null,
  builtIn: { readonly decimals: number } | undefined,
): KnownPeg | null {
  if (entry === null) return null;
  const where = `pegPriceSource pegs[${JSON.stringify(key)}]`;
  const peg = typeof entry === 'string' ? entry : (entry as KnownPeg | undefined)?.peg;
  if (typeof peg !== 'string' || !/^[A-Z]{3}$/.test(peg)) {
    throw new AmountError(
      `${where} must be { peg: "USD", decimals } with an upper-case ISO 4217 code, or null`,
    );
  }
  const decimals = typeof entry === 'string' ? builtIn?.decimals : entry.decimals;
  if (decimals === undefined) {
    throw new AmountError(
      `${where} gives a peg but no decimals, and the token is not a known asset: write ` +
        `{ peg: "${peg}", decimals: <the token's decimals()> }; decimals are never taken from a server`,
    );
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new AmountError(`${where}.decimals must be an integer from 0 to ${MAX_DECIMALS}`);
  }
  return { peg, decimals };
}

/** Options of {@link fixedPriceSource}. All prices are decimal strings, never numbers. */
export interface FixedPriceSourceOptions {
  /** Dollars per bitcoin, e.g. `'97123.45'`; prices Lightning msat. */
  readonly btcUsd?: string;
  /** Dollars per one whole unit of other fiat currencies, e.g. `{ EUR: '1.08' }`. */
  readonly fiatUsd?: Readonly<Record<string, string>>;
  /**
   * When these prices were observed (ms epoch). When set, the rates age and eventually fail the
   * staleness check; when omitted, rates are dated `now` and never go stale (configured constants).
   */
  readonly asOf?: number;
  /** Name recorded in the rates; default `'fixed'`. */
  readonly source?: string;
  /**
   * USD stablecoins and USD itself at par, through {@link pegPriceSource} (its options may be
   * given here), for what the fixed prices do not cover. Default `true`; `false` prices only
   * what is listed here.
   */
  readonly peg?: boolean | PegPriceSourceOptions;
}

/**
 * A price source with fixed prices: msat from a BTC/USD price, and fiat currencies from USD
 * prices per whole unit. Prices are parsed once into exact rationals (bigint). Units it has no
 * fixed price for (USD stablecoins, USD) are priced at their peg by {@link pegPriceSource}
 * unless `peg: false`, so `fixedPriceSource({ btcUsd })` alone prices every default rail.
 *
 * @throws {AmountError} when a price is malformed or zero, or a currency code is unknown.
 * @example
 * ```ts
 * import { fixedPriceSource, toUsdMicros, sats } from '@stipend/client';
 * const prices = fixedPriceSource({ btcUsd: '100000' });
 * const { usdMicros } = await toUsdMicros(sats(1n), prices, { now: Date.now(), maxAgeMs: 60_000 });
 * // usdMicros === 1000n (1 sat = $0.001 at $100,000/BTC); USDC and USD are priced at par too
 * const onlyBitcoin = fixedPriceSource({ btcUsd: '100000', peg: false });
 * ```
 */
export function fixedPriceSource(options: FixedPriceSourceOptions): PriceSource {
  const source = options.source ?? 'fixed';
  if (options.asOf !== undefined && !Number.isFinite(options.asOf)) {
    throw new AmountError('asOf must be a finite millisecond timestamp');
  }
  // Validate every price up front so that a typo fails at configuration time.
  const btc =
    options.btcUsd === undefined
      ? undefined
      : rateFromUsdPrice(options.btcUsd, MSAT_DECIMALS_PER_BTC, 0, source);
  const fiat = new Map<string, string>();
  for (const [code, price] of Object.entries(options.fiatUsd ?? {})) {
    const exponent = iso4217Exponent(code);
    if (exponent === undefined) {
      throw new AmountError(
        `unknown ISO 4217 currency ${JSON.stringify(code)} in fiatUsd; use upper-case codes such as "EUR"`,
      );
    }
    rateFromUsdPrice(price, exponent, 0, source);
    fiat.set(code, price);
  }
  const peg =
    options.peg === false
      ? undefined
      : pegPriceSource(options.peg === true || options.peg === undefined ? {} : options.peg);
  return {
    rate(unit, now) {
      const asOf = options.asOf ?? now;
      if (unit.kind === 'msat') {
        return btc === undefined ? undefined : Object.freeze({ ...btc, asOf });
      }
      if (unit.kind === 'fiat') {
        const price = fiat.get(unit.currency);
        if (price !== undefined) return rateFromUsdPrice(price, unit.exponent, asOf, source);
      }
      return peg?.rate(unit, now);
    },
  };
}

/**
 * Tries price sources in order and returns the first rate found. A source that throws is
 * skipped; when no source gives a rate and one or more threw, the (first, or aggregated) error
 * is rethrown. A source that refuses a unit's decimals (`untrusted_decimals`) ends the search:
 * no later source may price what was scaled by a server. Staleness is not judged here: the
 * first rate found is returned even if old.
 *
 * @example
 * ```ts
 * import { chainPriceSources, pegPriceSource, fixedPriceSource } from '@stipend/client';
 * const prices = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '97000' }));
 * ```
 */
export function chainPriceSources(...sources: readonly PriceSource[]): PriceSource {
  return {
    async rate(unit, now) {
      const errors: unknown[] = [];
      for (const candidate of sources) {
        try {
          const rate = await candidate.rate(unit, now);
          if (rate !== undefined) return rate;
        } catch (error) {
          if (untrustedDecimals(error)) throw error;
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, 'every price source failed');
      return undefined;
    },
  };
}

/** Options of {@link toUsdMicros}. */
export interface ToUsdMicrosOptions {
  /** Current time, ms epoch. */
  readonly now: number;
  /** Oldest acceptable rate age in ms; older rates are rejected as stale. */
  readonly maxAgeMs: number;
}

/** Result of {@link toUsdMicros}: the cost in µUSD and the rate snapshot used (to record). */
export interface UsdConversion {
  readonly usdMicros: UsdMicros;
  readonly rate: Rate;
}

/**
 * Converts an amount into USD micro-units through a price source, rounding UP (any sub-µUSD
 * remainder counts as one µUSD). A missing, malformed, failing, future-dated or stale rate
 * throws: a cost that cannot be priced must be denied, not guessed.
 *
 * @throws {PriceUnavailableError} with `reason` `'no_rate' | 'stale' | 'invalid_rate' | 'source_failed' | 'untrusted_decimals'`.
 * @throws {AmountError} when the amount is malformed.
 * @example
 * ```ts
 * import { toUsdMicros, fixedPriceSource, msat } from '@stipend/client';
 * const { usdMicros, rate } = await toUsdMicros(msat(1500n), fixedPriceSource({ btcUsd: '100000' }), {
 *   now: Date.now(),
 *   maxAgeMs: 5 * 60_000,
 * });
 * // usdMicros === 1500n; record `rate` with the spend
 * ```
 */
export async function toUsdMicros(
  amount: Amount,
  source: PriceSource,
  options: ToUsdMicrosOptions,
): Promise<UsdConversion> {
  const { now, maxAgeMs } = options;
  if (typeof now !== 'number' || !Number.isFinite(now)) {
    throw new TypeError('toUsdMicros: options.now must be a finite millisecond timestamp');
  }
  if (typeof maxAgeMs !== 'number' || !(maxAgeMs >= 0)) {
    throw new TypeError('toUsdMicros: options.maxAgeMs must be a non-negative number of ms');
  }
  const checked = checkedAmount(amount.value, amount.unit);
  const key = unitKey(checked.unit);
  let rate: Rate | undefined;
  try {
    rate = await source.rate(checked.unit, now);
  } catch (error) {
    if (untrustedDecimals(error)) throw error;
    throw new PriceUnavailableError(
      key,
      'source_failed',
      `the price source failed for ${key}; check its configuration or add a fallback source`,
      { cause: error },
    );
  }
  if (rate === undefined) {
    throw new PriceUnavailableError(
      key,
      'no_rate',
      `no price source knows ${key}; add a rate for it (e.g. fixedPriceSource or a peg) or pay in a priced unit`,
    );
  }
  const problem = rateProblem(rate);
  if (problem !== undefined) {
    throw new PriceUnavailableError(key, 'invalid_rate', `invalid rate for ${key}: ${problem}`);
  }
  const age = now - rate.asOf;
  if (age < -maxAgeMs) {
    throw new PriceUnavailableError(
      key,
      'invalid_rate',
      `the rate for ${key} from ${rate.source} is dated ${-age} ms in the future; check the source's clock`,
    );
  }
  if (age > maxAgeMs) {
    throw new PriceUnavailableError(
      key,
      'stale',
      `the rate for ${key} from ${rate.source} is ${age} ms old, older than maxAgeMs ${maxAgeMs}; refresh the price source`,
    );
  }
  return Object.freeze({ usdMicros: applyRate(checked.value, rate), rate });
}

/** A source's refusal of a unit's decimals (checked by code, not `instanceof`: copies differ). */
function untrustedDecimals(error: unknown): boolean {
  return (
    isStipendError(error) &&
    error.code === 'PRICE_UNAVAILABLE' &&
    (error as { reason?: unknown }).reason === 'untrusted_decimals'
  );
}
