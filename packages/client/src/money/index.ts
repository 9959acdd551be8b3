/**
 * Money: units, amounts, strict decimal parsing and conversion into USD micro-units.
 */

export {
  formatDecimal,
  formatUsd,
  MAX_DECIMAL_TEXT_LENGTH,
  MAX_DECIMALS,
  MAX_INTEGER_DIGITS,
  parseDecimal,
  parseDecimalFraction,
  parseUsd,
  USD_MICROS_DECIMALS,
} from './decimal.js';
export type { MoneyErrorCode, PriceUnavailableReason } from './errors.js';
export {
  AmountError,
  MoneyError,
  PriceUnavailableError,
  UnitMismatchError,
} from './errors.js';
export { type FeeCapOptions, feeCapOf } from './fee-cap.js';
export { iso4217Codes, iso4217Exponent } from './iso4217.js';
export type {
  FixedPriceSourceOptions,
  KnownPeg,
  PegPriceSourceOptions,
  PriceSource,
  Rate,
  ToUsdMicrosOptions,
  UsdConversion,
} from './price.js';
export {
  applyRate,
  chainPriceSources,
  fixedPriceSource,
  pegPriceSource,
  rateFromUsdPrice,
  toUsdMicros,
} from './price.js';
export type { Amount, FiatUnit, LightningUnit, TokenUnit, Unit, UsdMicros } from './unit.js';
export {
  addAmounts,
  amount,
  fiatUnit,
  formatAmount,
  MSAT_PER_BTC,
  MSAT_PER_SAT,
  msat,
  msatUnit,
  sameUnit,
  sats,
  tokenKey,
  unitKey,
} from './unit.js';
