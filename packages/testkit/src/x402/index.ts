/**
 * `@stipend/testkit/x402` — x402 peers that take REAL payments on a local chain:
 *
 * - **Chain and token are real**: anvil plus the testkit's EIP-3009 "USDC" token and
 *   Multicall3 (see `@stipend/testkit/chain`). Every paid request is an on-chain
 *   `transferWithAuthorization` whose balances tests can read.
 * - **v2 server is the reference implementation**: Hono + `@x402/hono` `paymentMiddleware`
 *   (through `x402HTTPResourceServer`) + `x402ResourceServer` + `@x402/evm` exact server
 *   scheme — the same code sellers deploy — served by `@hono/node-server` on 127.0.0.1.
 * - **Facilitator is the reference implementation**: `x402Facilitator` from `@x402/core` with
 *   the `@x402/evm` exact (EIP-3009) facilitator scheme, called in-process (no HTTP) and
 *   settling from an anvil dev key. Every settlement and refusal is recorded.
 * - **v1 mode**: the installed `@x402/*` server packages speak only v2, so `version: 1` uses
 *   the testkit's own small v1 HTTP layer (JSON 402 body, `X-PAYMENT`, `X-PAYMENT-RESPONSE`)
 *   over the reference facilitator's v1 path (`registerV1` + `ExactEvmSchemeV1`). v1 names
 *   networks, so it runs on a local chain with id 84532 posing as `base-sepolia`.
 *
 * Caveats for clients (see protocols/x402.md §3.6): the reference `@x402/fetch` refuses the
 * local token unless `spendControls.allowedAssets` lists it; the facilitator compares
 * `validAfter`/`validBefore` with the wall clock, so don't time-travel the chain.
 *
 * @example
 * ```ts
 * import { startX402Server } from '@stipend/testkit/x402';
 * import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
 * import { ExactEvmScheme } from '@x402/evm/exact/client';
 * import { devAccount } from '@stipend/testkit/chain';
 *
 * const server = await startX402Server();
 * const payer = devAccount(4);
 * await server.chain.mint(payer.address, 1_000_000n);
 * const client = new x402Client()
 *   .register(server.token.network, new ExactEvmScheme(payer))
 *   .setSpendControls({ allowedAssets: [{ network: server.token.network, asset: server.token.address }] });
 * const res = await wrapFetchWithPayment(fetch, client)(`${server.url}/weather`); // 200
 * console.log(server.settlements[0]?.amount); // 1000n
 * await server.close();
 * ```
 *
 * @packageDocumentation
 */

export * from '../lnbtc/vectors.js';
export {
  createLocalFacilitator,
  type LocalFacilitator,
  type LocalFacilitatorOptions,
  type RejectionRecord,
  type SettlementRecord,
  v1NetworkForChainId,
} from './facilitator.js';
export {
  type DefaultRouteParams,
  defaultX402Routes,
  TWO_OFFERS_PRICES,
  WEATHER_PRICE,
  WEATHER_REPORT,
  type X402Method,
  type X402Offer,
  type X402Route,
} from './routes.js';
export {
  startX402Server,
  type X402RequestRecord,
  type X402ServerHandle,
  type X402ServerOptions,
} from './server.js';
export {
  type PaymentRequiredBodyV1,
  type X402V1MiddlewareOptions,
  x402V1Middleware,
} from './v1-middleware.js';
