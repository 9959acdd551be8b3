/**
 * Stripe's minimum charge amounts for card payments, in each currency's minor units (from
 * Stripe's documentation, "Minimum and maximum charge amounts"). Shared Payment Tokens wrap
 * card-like PaymentMethods, so MPP `stripe` charges below these cannot succeed.
 *
 * @module
 */

/** Minimum card charge per lower-case currency code, in minor units. */
export const CARD_MINIMUMS: Readonly<Record<string, bigint>> = Object.freeze({
  usd: 50n,
  aed: 200n,
  aud: 50n,
  bgn: 100n,
  brl: 50n,
  cad: 50n,
  chf: 50n,
  czk: 1500n,
  dkk: 250n,
  eur: 50n,
  gbp: 30n,
  hkd: 400n,
  huf: 17500n,
  inr: 50n,
  jpy: 50n,
  mxn: 1000n,
  myr: 200n,
  nok: 300n,
  nzd: 50n,
  pln: 200n,
  ron: 200n,
  sek: 300n,
  sgd: 50n,
  thb: 1000n,
});

/** Largest amount Stripe charges: eight digits of minor units. */
export const STRIPE_MAX_AMOUNT = 99_999_999n;
