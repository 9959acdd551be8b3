/**
 * What the marketplace sells: its sellers, their extra routes and prices, and a readable
 * catalogue of every paid route.
 *
 * @module
 */
import type { L402Route } from '../l402/routes.js';
import type { X402Route } from '../x402/routes.js';

/** x402 price of `GET /bundle/forecast` at the gateway: 2000 atomic units = $0.002. */
export const FORECAST_X402_PRICE = 2000n;
/** L402 price of `GET /bundle/forecast` at the gateway: 3 sat = $0.003 at $100,000/BTC. */
export const FORECAST_L402_PRICE_MSAT = 3_000n;
/** L402 price of `GET /dataset`: 1000 sat = $1.00 at $100,000/BTC. */
export const DATASET_PRICE_MSAT = 1_000_000n;
/** The BTC price the marketplace's wallet settings suggest (a fixed, stated assumption). */
export const MARKET_BTC_USD = '100000';
/** The Stripe seller profile (network business profile) of the article seller. */
export const ARTICLE_SELLER_PROFILE = 'profile_demo_daily_article';

/** The forecast both the x402 and the L402 seller deliver. */
export const FORECAST = {
  city: 'Testville',
  days: [
    { day: 'Mon', weather: 'sunny', highC: 22 },
    { day: 'Tue', weather: 'cloudy', highC: 19 },
    { day: 'Wed', weather: 'rain', highC: 16 },
  ],
} as const;

/** One paid route of the marketplace, described for people. */
export interface MarketItem {
  /** Short name, e.g. `weather`. */
  readonly key: string;
  readonly method: 'GET' | 'POST';
  /** Full URL. */
  readonly url: string;
  readonly seller: string;
  /** How it can be paid, e.g. `x402 exact: 0.001 USDC`. */
  readonly terms: string;
}

/**
 * The x402 seller's extra route: the forecast at {@link FORECAST_X402_PRICE}, sold at the
 * gateway next to L402.
 *
 * @example
 * ```ts
 * import { startX402Server } from '@stipend/testkit/x402';
 * import { forecastX402Route } from './catalogue.js';
 * const server = await startX402Server({ extraRoutes: [forecastX402Route('0x90F79bf6EB2c4f870365E785982E1f101E93b906')] });
 * ```
 */
export function forecastX402Route(payTo: `0x${string}`): X402Route {
  return {
    method: 'GET',
    path: '/bundle/forecast',
    description: 'Three-day forecast',
    mimeType: 'application/json',
    accepts: [{ amount: FORECAST_X402_PRICE, payTo }],
    handler: (c) => c.json({ forecast: FORECAST, soldBy: 'x402' }),
  };
}

/** The L402 seller's extra routes: an expensive dataset and the forecast (sold at the gateway). */
export const MARKET_L402_ROUTES: readonly L402Route[] = [
  {
    method: 'GET',
    path: '/dataset',
    service: 'datasets',
    priceMsat: DATASET_PRICE_MSAT,
    handler: () => ({ body: { dataset: 'tick-history', rows: 1_000_000 } }),
  },
  {
    method: 'GET',
    path: '/bundle/forecast',
    service: 'forecast',
    priceMsat: FORECAST_L402_PRICE_MSAT,
    handler: () => ({ body: { forecast: FORECAST, soldBy: 'l402' } }),
  },
];
