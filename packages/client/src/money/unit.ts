/**
 * Units and amounts. An amount is always an integer count of atomic units (`bigint`) of one
 * unit: a token on a CAIP-2 network, an ISO 4217 fiat currency, or Lightning millisatoshi.
 */

import { formatDecimal, MAX_DECIMALS } from './decimal.js';
import { AmountError, UnitMismatchError } from './errors.js';
import { iso4217Exponent } from './iso4217.js';

/** A token (ERC-20, SPL...) on a CAIP-2 network, counted in its smallest unit. */
export type TokenUnit = {
  readonly kind: 'token';
  /** CAIP-2 chain id, e.g. `'eip155:8453'`. */
  readonly network: string;
  /** Contract address or asset id on that network. */
  readonly asset: string;
  /**
   * Decimals of the token (USDC: 6). Never guessed, and never taken from a server: the
   * known-asset registry or the user's configuration says them.
   */
  readonly decimals: number;
  /** Display symbol, e.g. `'USDC'`. */
  readonly symbol?: string;
  /**
   * ISO 4217 code the token is pegged to, e.g. `'USD'`. Set only by client knowledge (the
   * registry or the user's configuration), together with decimals from the same source:
   * `pegPriceSource` prices a unit by it.
   */
  readonly peg?: string;
};

/** A fiat currency counted in its ISO 4217 minor unit (cents for USD, yen for JPY). */
export type FiatUnit = {
  readonly kind: 'fiat';
  /** ISO 4217 code, upper-case. */
  readonly currency: string;
  /** Minor-unit exponent (USD 2, JPY 0, KWD 3). */
  readonly exponent: number;
};

/** Lightning amounts, always in millisatoshi (1 sat = 1000 msat, 1 BTC = 1e11 msat). */
export type LightningUnit = { readonly kind: 'msat' };

/** Any unit an amount can be counted in. */
export type Unit = TokenUnit | FiatUnit | LightningUnit;

/** An integer number of atomic units of one unit. */
export interface Amount {
  readonly value: bigint;
  readonly unit: Unit;
}

/** Budget currency: integer micro-dollars (1e-6 USD). */
export type UsdMicros = bigint;

/** Millisatoshi per satoshi. */
export const MSAT_PER_SAT = 1000n;

/** Millisatoshi per bitcoin (1e11). */
export const MSAT_PER_BTC = 100_000_000_000n;

/** The Lightning millisatoshi unit. */
export const msatUnit: LightningUnit = Object.freeze({ kind: 'msat' });

const CAIP2 = /^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/;
const ISO_CODE = /^[A-Z]{3}$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const MAX_FIAT_EXPONENT = 18;
/** Visible ASCII without spaces: `!` to `~`. */
const PRINTABLE_ASCII = /^[!-~]+$/;

function describeUnit(unit: unknown): string {
  if (typeof unit !== 'object' || unit === null) return String(unit);
  const kind = (unit as { kind?: unknown }).kind;
  return `kind ${JSON.stringify(kind) ?? 'undefined'}`;
}

/** Validates a unit and returns a frozen shallow copy of it. */
function checkUnit(unit: Unit): Unit {
  if (typeof unit !== 'object' || unit === null) {
    throw new AmountError(`unit must be an object, got ${describeUnit(unit)}`);
  }
  switch (unit.kind) {
    case 'token': {
      if (typeof unit.network !== 'string' || !CAIP2.test(unit.network)) {
        throw new AmountError(
          `token network must be a CAIP-2 chain id such as "eip155:8453", got ${JSON.stringify(unit.network)}`,
        );
      }
      if (
        typeof unit.asset !== 'string' ||
        unit.asset.length > 256 ||
        !PRINTABLE_ASCII.test(unit.asset)
      ) {
        throw new AmountError(
          'token asset must be a non-empty contract address or asset id of visible ASCII characters (no spaces), at most 256 long',
        );
      }
      if (!Number.isInteger(unit.decimals) || unit.decimals < 0 || unit.decimals > MAX_DECIMALS) {
        throw new AmountError(
          `token decimals must be an integer from 0 to ${MAX_DECIMALS}, got ${String(unit.decimals)}; ` +
            'unknown decimals must be looked up, never assumed',
        );
      }
      if (unit.symbol !== undefined && typeof unit.symbol !== 'string') {
        throw new AmountError('token symbol must be a string when present');
      }
      if (unit.peg !== undefined && (typeof unit.peg !== 'string' || !ISO_CODE.test(unit.peg))) {
        throw new AmountError(
          `token peg must be an upper-case ISO 4217 code such as "USD", got ${JSON.stringify(unit.peg)}`,
        );
      }
      const copy: TokenUnit = {
        kind: 'token',
        network: unit.network,
        asset: unit.asset,
        decimals: unit.decimals,
        ...(unit.symbol !== undefined ? { symbol: unit.symbol } : {}),
        ...(unit.peg !== undefined ? { peg: unit.peg } : {}),
      };
      return Object.freeze(copy);
    }
    case 'fiat': {
      if (typeof unit.currency !== 'string' || !ISO_CODE.test(unit.currency)) {
        throw new AmountError(
          `fiat currency must be an upper-case ISO 4217 code such as "USD", got ${JSON.stringify(unit.currency)}`,
        );
      }
      if (
        !Number.isInteger(unit.exponent) ||
        unit.exponent < 0 ||
        unit.exponent > MAX_FIAT_EXPONENT
      ) {
        throw new AmountError(
          `fiat exponent must be an integer from 0 to ${MAX_FIAT_EXPONENT}, got ${String(unit.exponent)}; ` +
            'use fiatUnit(currency) to take it from the ISO 4217 table',
        );
      }
      return Object.freeze({ kind: 'fiat', currency: unit.currency, exponent: unit.exponent });
    }
    case 'msat':
      return msatUnit;
    default:
      throw new AmountError(
        `unknown unit ${describeUnit(unit)}; expected "token", "fiat" or "msat"`,
      );
  }
}

/**
 * Creates a frozen amount of `value` atomic units of `unit`. The unit is validated and copied.
 *
 * @throws {AmountError} when `value` is not a bigint, is negative, or the unit is malformed.
 * @example
 * ```ts
 * import { amount } from '@stipend/client';
 * const usdc = { kind: 'token', network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6, symbol: 'USDC', peg: 'USD' } as const;
 * const price = amount(10_000n, usdc); // 0.01 USDC
 * ```
 */
export function amount(value: bigint, unit: Unit): Amount {
  if (typeof value !== 'bigint') {
    throw new AmountError(
      `amount value must be a bigint of atomic units (e.g. 10000n), got ${typeof value}`,
    );
  }
  if (value < 0n) {
    throw new AmountError(`amount value must not be negative, got ${value}n`);
  }
  return Object.freeze({ value, unit: checkUnit(unit) });
}

/**
 * Canonical string id of a unit: `network/asset` for tokens (EVM `0x` addresses lower-cased),
 * `iso4217:USD` for fiat, `lightning:msat` for Lightning. Two units with the same key denote
 * the same asset.
 *
 * @throws {AmountError} when the unit is malformed.
 * @example
 * ```ts
 * import { unitKey, fiatUnit, msatUnit } from '@stipend/client';
 * unitKey({ kind: 'token', network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', decimals: 6 });
 * // 'eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913'
 * unitKey(fiatUnit('EUR')); // 'iso4217:EUR'
 * unitKey(msatUnit); // 'lightning:msat'
 * ```
 */
export function unitKey(unit: Unit): string {
  const checked = checkUnit(unit);
  switch (checked.kind) {
    case 'token':
      return tokenKey(checked.network, checked.asset);
    case 'fiat':
      return `iso4217:${checked.currency}`;
    case 'msat':
      return 'lightning:msat';
  }
}

/**
 * Canonical key of a token from its network and asset (see {@link unitKey}).
 *
 * @example
 * ```ts
 * import { tokenKey } from '@stipend/client';
 * tokenKey('eip155:1', '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48');
 * // 'eip155:1/0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
 * ```
 */
export function tokenKey(network: string, asset: string): string {
  const normalised =
    network.startsWith('eip155:') && EVM_ADDRESS.test(asset) ? asset.toLowerCase() : asset;
  return `${network}/${normalised}`;
}

/**
 * Whether two units denote the same asset with the same scale (same key, and same decimals or
 * exponent). Units that share a key but disagree on decimals are not the same.
 *
 * @example
 * ```ts
 * import { sameUnit, fiatUnit, msatUnit } from '@stipend/client';
 * sameUnit(fiatUnit('USD'), fiatUnit('usd')); // true
 * sameUnit(fiatUnit('USD'), msatUnit); // false
 * ```
 */
export function sameUnit(a: Unit, b: Unit): boolean {
  if (unitKey(a) !== unitKey(b)) return false;
  if (a.kind === 'token' && b.kind === 'token') return a.decimals === b.decimals;
  if (a.kind === 'fiat' && b.kind === 'fiat') return a.exponent === b.exponent;
  return true;
}

/**
 * Adds two amounts of the same unit.
 *
 * @throws {UnitMismatchError} when the units differ: convert to USD micro-units to combine assets.
 * @example
 * ```ts
 * import { addAmounts, sats } from '@stipend/client';
 * addAmounts(sats(1n), sats(2n)).value; // 3000n (msat)
 * ```
 */
export function addAmounts(a: Amount, b: Amount): Amount {
  if (!sameUnit(a.unit, b.unit)) {
    const left = unitKey(a.unit);
    const right = unitKey(b.unit);
    throw new UnitMismatchError(
      left,
      right,
      `cannot add amounts in different units (${left} and ${right}); ` +
        'convert both to USD micro-units (toUsdMicros) before combining them',
    );
  }
  return amount(a.value + b.value, a.unit);
}

/**
 * Fiat unit of an ISO 4217 currency, with the exponent taken from the ISO 4217 table. The code
 * is upper-cased. Unknown codes throw: the exponent is never assumed to be 2.
 *
 * @throws {AmountError} when the code is not in the table.
 * @example
 * ```ts
 * import { fiatUnit } from '@stipend/client';
 * fiatUnit('USD'); // { kind: 'fiat', currency: 'USD', exponent: 2 }
 * fiatUnit('JPY').exponent; // 0
 * ```
 */
export function fiatUnit(currency: string): FiatUnit {
  const code = typeof currency === 'string' ? currency.toUpperCase() : '';
  const exponent = ISO_CODE.test(code) ? iso4217Exponent(code) : undefined;
  if (exponent === undefined) {
    throw new AmountError(
      `unknown ISO 4217 currency ${JSON.stringify(currency)}; use an active three-letter code ` +
        'such as "USD", "EUR" or "JPY", or build the FiatUnit with its exponent explicitly',
    );
  }
  return Object.freeze({ kind: 'fiat', currency: code, exponent });
}

/**
 * A Lightning amount in millisatoshi.
 *
 * @throws {AmountError} when `value` is not a non-negative bigint.
 * @example
 * ```ts
 * import { msat } from '@stipend/client';
 * msat(1_500_500n); // 1500.5 sat
 * ```
 */
export function msat(value: bigint): Amount {
  return amount(value, msatUnit);
}

/**
 * A Lightning amount given in satoshi, stored in millisatoshi.
 *
 * @throws {AmountError} when `value` is not a non-negative bigint.
 * @example
 * ```ts
 * import { sats } from '@stipend/client';
 * sats(1500n).value; // 1500000n (msat)
 * ```
 */
export function sats(value: bigint): Amount {
  if (typeof value !== 'bigint') {
    throw new AmountError(`sats value must be a bigint (e.g. 1500n), got ${typeof value}`);
  }
  return amount(value * MSAT_PER_SAT, msatUnit);
}

/**
 * Human-readable amount for display: `'0.01 USDC'`, `'1500 sat'`, `'1500.5 sat'`, `'$0.50'`,
 * `'0.50 EUR'`, `'100 JPY'`. Tokens without a symbol show their unit key. Exact (bigint only).
 *
 * @throws {AmountError} when the amount is malformed.
 * @example
 * ```ts
 * import { formatAmount, sats, amount, fiatUnit } from '@stipend/client';
 * formatAmount(sats(1500n)); // '1500 sat'
 * formatAmount(amount(50n, fiatUnit('USD'))); // '$0.50'
 * ```
 */
export function formatAmount(a: Amount): string {
  const { value, unit } = amount(a.value, a.unit);
  switch (unit.kind) {
    case 'token':
      return `${formatDecimal(value, unit.decimals)} ${unit.symbol ?? unitKey(unit)}`;
    case 'msat':
      return `${formatDecimal(value, 3)} sat`;
    case 'fiat': {
      const text = fixedDecimal(value, unit.exponent);
      return unit.currency === 'USD' ? `$${text}` : `${text} ${unit.currency}`;
    }
  }
}

/** Formats with exactly `decimals` fractional digits (fiat display keeps all minor digits). */
function fixedDecimal(value: bigint, decimals: number): string {
  if (decimals === 0) return value.toString();
  const digits = value.toString().padStart(decimals + 1, '0');
  return `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}
