import type { IncomingHttpHeaders } from 'node:http';

/** What a route handler sees. */
export interface L402Request {
  method: string;
  /** Path without the query string. */
  path: string;
  url: URL;
  headers: IncomingHttpHeaders;
  /** The raw request body. */
  body: Uint8Array;
  /** The verified token, on a protected route; null on a free route. */
  token: {
    tokenId: string;
    paymentHash: string;
    caveats: string[];
    scheme: 'L402' | 'LSAT';
  } | null;
}

/**
 * A handler's reply. `body` may be a string (sent as text/plain unless a content-type is
 * given), bytes, or any other value (sent as JSON).
 */
export interface L402Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A route handler. */
export type L402Handler = (request: L402Request) => L402Reply | Promise<L402Reply>;

/** One route of the L402 server. */
export interface L402Route {
  /** HTTP method, upper-case. */
  method: string;
  /** Exact path, e.g. `/quote`. */
  path: string;
  /** Service name; omit for a free route. */
  service?: string;
  /** Service tier written into the `services` caveat; default 0. */
  tier?: number;
  /** Price in millisatoshis (required when `service` is set). */
  priceMsat?: bigint;
  /**
   * Lifetime of a token minted here: `<service>_valid_until = now + validForSeconds`.
   * Default 31 557 600 (one year, aperture's sample config); `null` mints no expiry caveat.
   */
  validForSeconds?: number | null;
  /** Minted as `<service>_capabilities=a,b` after the services caveat. */
  capabilities?: string[];
  /**
   * Capability this route needs: enables the capabilities satisfier, which aperture has but
   * does not wire (so by default capabilities are not enforced, as in aperture).
   */
  requiredCapability?: string;
  /**
   * Like aperture's `authskipinvoicecreationpaths`: without a valid credential answer
   * `401 unauthorized` with no challenge.
   */
  skipInvoiceCreation?: boolean;
  /** Default: a JSON body naming the route and service. */
  handler?: L402Handler;
}

/** Default price of the `quotes` service: 100 sat. */
export const QUOTES_PRICE_MSAT = 100_000n;
/** Default price of the `reports` service: 250 sat. */
export const REPORTS_PRICE_MSAT = 250_000n;

/**
 * The server's default routes: `GET /quote` and `POST /echo` (service `quotes`, 100 sat),
 * `GET /report` (service `reports`, 250 sat, to test `services` scoping) and `GET /free`.
 *
 * @example
 * ```ts
 * import { DEFAULT_L402_ROUTES, startL402Server } from '@stipend/testkit/l402';
 * const server = await startL402Server({
 *   routes: [...DEFAULT_L402_ROUTES, { method: 'GET', path: '/tip', service: 'tips', priceMsat: 1_500n }],
 * });
 * ```
 */
export const DEFAULT_L402_ROUTES: readonly L402Route[] = [
  {
    method: 'GET',
    path: '/quote',
    service: 'quotes',
    priceMsat: QUOTES_PRICE_MSAT,
    handler: () => ({ body: { symbol: 'BTCUSD', price: '97000.00', source: 'stipend-testkit' } }),
  },
  {
    method: 'POST',
    path: '/echo',
    service: 'quotes',
    priceMsat: QUOTES_PRICE_MSAT,
    handler: (request) => ({
      headers: {
        'content-type': headerValue(request.headers['content-type']) ?? 'application/octet-stream',
      },
      body: request.body,
    }),
  },
  {
    method: 'GET',
    path: '/report',
    service: 'reports',
    priceMsat: REPORTS_PRICE_MSAT,
    handler: () => ({ body: { report: 'quarterly', pages: 12 } }),
  },
  {
    method: 'GET',
    path: '/free',
    handler: () => ({ body: { free: true } }),
  },
];

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
