/**
 * `@stipend/testkit/market`: the whole local 402 marketplace in one call, for the demo, the
 * `stipend testkit serve` command and anyone testing an agent.
 *
 * What is real: the anvil chain and its EIP-3009 token, the official x402 v2 server and
 * facilitator, the mppx server, macaroons and BOLT11 invoices. What is a stand-in: the
 * Lightning network (a simulator, reachable over the LND REST protocol), Stripe's API, and
 * the gateway that sells one route through two sellers (it forwards; each seller verifies
 * its own payments).
 *
 * @module
 */
export {
  ARTICLE_SELLER_PROFILE,
  DATASET_PRICE_MSAT,
  FORECAST,
  FORECAST_L402_PRICE_MSAT,
  FORECAST_X402_PRICE,
  MARKET_BTC_USD,
  type MarketItem,
} from './catalogue.js';
export {
  credentialProtocol,
  type Gateway,
  type GatewayProtocol,
  type GatewayRequestRecord,
  type GatewayRoute,
  startGateway,
} from './gateway.js';
export {
  type MarketCounters,
  type Marketplace,
  type StartMarketplaceOptions,
  startMarketplace,
} from './marketplace.js';
export { type MarketAsset, type MarketWalletsConfig, walletsEnv } from './wallets.js';
