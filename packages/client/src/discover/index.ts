/**
 * `@stipend/client/discover`: what a seller publishes about its prices (OpenAPI
 * `x-payment-info`, the x402 manifests, llms.txt links, 402 `bazaar` metadata), read without
 * paying anything.
 *
 * @module
 */
export { type DiscoverOptions, discover } from './discover.js';
export type {
  DiscoveredEndpoint,
  DiscoveredOffer,
  Discovery,
  DiscoveryDocument,
  DiscoverySource,
} from './types.js';
