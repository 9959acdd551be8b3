/**
 * What `discover` returns: the priced endpoints a seller publishes, and what was read (or
 * skipped, and why) to find them.
 *
 * @module
 */
import type { Amount } from '../money/unit.js';

/** Where an endpoint was found. */
export type DiscoverySource =
  /** `GET /openapi.json`, per-operation `x-payment-info` (the MPP discovery draft). */
  | 'openapi'
  /** `GET /.well-known/x402` (the DNS + well-known manifest proposal). */
  | 'x402-manifest'
  /** `GET /.well-known/x402.json` (the middleware-served manifest proposal). */
  | 'x402-json'
  /** An unpaid `GET` of a listed resource: its 402 terms and `extensions.bazaar`. */
  | 'x402-402';

/** One way to pay for an endpoint, as published. Advisory: the 402 challenge decides. */
export interface DiscoveredOffer {
  readonly protocol: 'mpp' | 'x402';
  /** MPP `<method>.<intent>` (`stripe.charge`), x402 scheme (`exact`). */
  readonly scheme: string;
  /** The price in atomic units with client-known decimals, when it could be read. */
  readonly amount?: Amount;
  readonly payee?: string;
  readonly network?: string;
  readonly asset?: string;
  /** The cost in USD micro-units (rounded up) through the price source. */
  readonly usdMicros?: bigint;
  /** Why there is no USD cost (dynamic price, unknown asset, a claim that does not add up…). */
  readonly unpriced?: string;
  /** The publisher's note (truncated, control characters removed). */
  readonly description?: string;
}

/** One priced (or unpriced) endpoint. */
export interface DiscoveredEndpoint {
  /** Upper-case HTTP method (`GET`), or `MCP` for an MCP tool. */
  readonly method: string;
  /** The path on the origin (`/v1/search`, `/weather/:city`). */
  readonly path: string;
  /** The MCP tool name, for MCP tools. */
  readonly tool?: string;
  readonly source: DiscoverySource;
  readonly description?: string;
  readonly offers: readonly DiscoveredOffer[];
  /** The cheapest priced offer's USD cost, when one is priced. */
  readonly cheapestUsdMicros?: bigint;
  /** Why the endpoint has no offers (listed without terms, and not asked for its 402). */
  readonly unpriced?: string;
}

/** One document (or probe) `discover` looked at. */
export interface DiscoveryDocument {
  /** The URL, query string removed. */
  readonly url: string;
  /** `read`: used. `absent`: not published (404, 410…). `skipped`: refused, with a reason. */
  readonly outcome: 'read' | 'absent' | 'skipped';
  /** Stable code when skipped: `DISCOVERY_TOO_LARGE`, `DISCOVERY_INVALID`, `TIMEOUT`… */
  readonly code?: string;
  readonly reason?: string;
  /** Endpoints taken from it. */
  readonly endpoints?: number;
}

/** The answer of `discover`. */
export interface Discovery {
  /** The origin asked about. */
  readonly origin: string;
  readonly endpoints: readonly DiscoveredEndpoint[];
  readonly documents: readonly DiscoveryDocument[];
  /** Endpoints or offers left out of a document that was read, with the reason. */
  readonly skipped: readonly { readonly where: string; readonly reason: string }[];
}
