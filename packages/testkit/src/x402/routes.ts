import type { Context } from 'hono';
import type { Address } from 'viem';

/** HTTP methods a test route can use. */
export type X402Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One way to pay for a route: an `exact` EIP-3009 payment on the local chain. */
export interface X402Offer {
  /** Price in atomic token units (1000n = 0.001 USDC). */
  readonly amount: bigint;
  /** Recipient. Default: the server's `payTo`. */
  readonly payTo?: Address;
  /** Token. Default: the chain's test token. */
  readonly asset?: Address;
  /** EIP-712 domain of `asset`. Default: the test token's `{ name: 'USDC', version: '2' }`. */
  readonly extra?: Readonly<Record<string, unknown>>;
  /** Validity window the client signs for. Default 300 (the reference default). */
  readonly maxTimeoutSeconds?: number;
}

/** A route served by the test server; without `accepts` (or with none) it is free. */
export interface X402Route {
  readonly method: X402Method;
  /** Exact path, e.g. `/weather`. */
  readonly path: string;
  /** Payment options, in the order they are advertised. */
  readonly accepts?: readonly X402Offer[];
  readonly description?: string;
  readonly mimeType?: string;
  /** Produces the paid (or free) response. */
  readonly handler: (c: Context) => Response | Promise<Response>;
}

/** Parameters of {@link defaultX402Routes}. */
export interface DefaultRouteParams {
  /** Recipient of the default prices. */
  readonly payTo: Address;
  /** Recipient of the cheaper offer on `/two-offers`. */
  readonly secondPayTo: Address;
}

/** Price of `GET /weather` and `POST /echo`: 1000 atomic units = 0.001 USDC. */
export const WEATHER_PRICE = 1000n;
/** The two prices of `GET /two-offers`, in the order the server lists them. */
export const TWO_OFFERS_PRICES = { first: 5000n, second: 2000n } as const;

/** The weather report `GET /weather` returns once paid. */
export const WEATHER_REPORT = { city: 'Testville', weather: 'sunny', temperatureC: 21 } as const;

/**
 * The default routes of the x402 test server:
 * - `GET /weather` — 1000 atomic units (0.001 USDC), one `exact` offer to `payTo`;
 * - `POST /echo` — 1000 atomic units; answers with the exact request body and content type it
 *   received, proving the body survived the paid retry;
 * - `GET /two-offers` — two offers: 5000 to `payTo` listed FIRST, 2000 to `secondPayTo` listed
 *   second, so a client that pays the cheaper one (not just `accepts[0]`) is visible on-chain;
 * - `GET /free` — no payment.
 *
 * @example
 * ```ts
 * import { defaultX402Routes } from '@stipend/testkit/x402';
 * const routes = defaultX402Routes({ payTo: '0x3C44…93BC', secondPayTo: '0x90F7…b906' });
 * ```
 */
export function defaultX402Routes(params: DefaultRouteParams): X402Route[] {
  return [
    {
      method: 'GET',
      path: '/weather',
      description: 'Weather report',
      mimeType: 'application/json',
      accepts: [{ amount: WEATHER_PRICE, payTo: params.payTo }],
      handler: (c) => c.json({ report: WEATHER_REPORT }),
    },
    {
      method: 'POST',
      path: '/echo',
      description: 'Echoes the request body',
      mimeType: 'application/octet-stream',
      accepts: [{ amount: WEATHER_PRICE, payTo: params.payTo }],
      handler: async (c) => {
        const body = await c.req.arrayBuffer();
        const type = c.req.header('content-type') ?? 'application/octet-stream';
        return c.body(body, 200, { 'content-type': type });
      },
    },
    {
      method: 'GET',
      path: '/two-offers',
      description: 'Premium data with two payment offers',
      mimeType: 'application/json',
      accepts: [
        { amount: TWO_OFFERS_PRICES.first, payTo: params.payTo },
        { amount: TWO_OFFERS_PRICES.second, payTo: params.secondPayTo },
      ],
      handler: (c) => c.json({ premium: true }),
    },
    {
      method: 'GET',
      path: '/free',
      description: 'Free content',
      handler: (c) => c.json({ free: true }),
    },
  ];
}
