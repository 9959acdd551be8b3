/**
 * The demo agent's spend policy: short enough to read in the output.
 *
 * @module
 */
import type { SpendPolicy } from '@stipend/client';

/** The demo's daily budget, USD micro-units (mirrors `DEMO_POLICY.global.limits[0]`). */
export const DEMO_DAILY_BUDGET_MICROS = 2_000_000n;

/**
 * No single payment above $0.75, at most $2.00 a UTC day, and a person approves anything
 * above $0.30.
 */
export const DEMO_POLICY: SpendPolicy = {
  global: {
    maxPerRequest: { usd: '0.75' },
    limits: [{ usd: '2.00', window: { calendar: 'day' } }],
    approveAbove: '0.30',
  },
};

/** The BTC price the demo converts Lightning msat with: fixed and stated. */
export const DEMO_BTC_USD = '100000';
