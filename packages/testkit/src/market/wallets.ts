/**
 * The wallet configuration the marketplace hands to an agent, as JSON (the format of
 * `stipend --wallets <file>`) and as `STIPEND_*` environment variables.
 *
 * @module
 */

/** A token an agent may price x402 and MPP offers in (x402's known-asset entry). */
export interface MarketAsset {
  readonly network: string;
  readonly address: string;
  readonly symbol: string;
  readonly decimals: number;
  readonly name?: string;
  readonly version?: string;
  readonly peg?: string;
}

/** Wallet settings as JSON: the shape `stipend --wallets <file>` reads. */
export interface MarketWalletsConfig {
  /** An EVM key (a PUBLIC anvil test key here) and the chain's JSON-RPC URL. */
  readonly evm: { readonly privateKey: string; readonly rpcUrl: string };
  /** A Lightning node reached over the LND REST protocol (the stand-in over the simulator). */
  readonly lightning: {
    readonly network: 'regtest';
    readonly lndRest: { readonly url: string; readonly macaroon: string };
  };
  /** A Stripe secret key, the PaymentMethod tokens wrap, and where the (stand-in) API is. */
  readonly stripe: {
    readonly secretKey: string;
    readonly paymentMethod: string;
    readonly apiUrl: string;
  };
  /** Tokens to accept beyond the built-in list: the local test USDC. */
  readonly assets: readonly MarketAsset[];
  /** Fixed prices for units that are not USD-pegged (BTC for Lightning msat). */
  readonly prices: { readonly btcUsd: string };
}

/**
 * The same settings as `STIPEND_*` environment variables.
 *
 * @example
 * ```ts
 * import { walletsEnv } from '@stipend/testkit/market';
 * const env = walletsEnv(market.wallets); // { STIPEND_EVM_PRIVATE_KEY: '0x…', … }
 * ```
 */
export function walletsEnv(config: MarketWalletsConfig): Record<string, string> {
  return {
    STIPEND_EVM_PRIVATE_KEY: config.evm.privateKey,
    STIPEND_EVM_RPC_URL: config.evm.rpcUrl,
    STIPEND_LIGHTNING_NETWORK: config.lightning.network,
    STIPEND_LND_REST_URL: config.lightning.lndRest.url,
    STIPEND_LND_MACAROON: config.lightning.lndRest.macaroon,
    STIPEND_STRIPE_SECRET_KEY: config.stripe.secretKey,
    STIPEND_STRIPE_PAYMENT_METHOD: config.stripe.paymentMethod,
    STIPEND_STRIPE_API_URL: config.stripe.apiUrl,
    STIPEND_ASSETS: JSON.stringify(config.assets),
    STIPEND_BTC_USD: config.prices.btcUsd,
  };
}
