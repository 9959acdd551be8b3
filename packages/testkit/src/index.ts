/**
 * `@stipend/testkit`: local 402 servers and simulators for Stipend's tests, demo and benches.
 * Import the part you need from its subpath:
 *
 * - `@stipend/testkit/core`: the `stipend-test` stand-in rail (adapter, wallet, paywall);
 * - `@stipend/testkit/server`: serve a fetch-style handler on 127.0.0.1;
 * - `@stipend/testkit/chain`: a real local EVM node (anvil) with an EIP-3009 USDC token;
 * - `@stipend/testkit/x402`: the official x402 server middleware and facilitator on that chain;
 * - `@stipend/testkit/lightning`, `@stipend/testkit/l402`: real macaroons and BOLT11 invoices,
 *   an aperture-equivalent L402 server, and a Lightning network simulator (a stand-in);
 * - `@stipend/testkit/lnbtc`: an x402 `exact`-on-Lightning seller written from the spec, over
 *   that simulator, and the spec's test vectors (`src/lnbtc/index.ts`, Node-only);
 * - `@stipend/testkit/mpp`, `@stipend/testkit/stripe`: the real mppx server and local
 *   stand-ins for Stripe's HTTP API.
 *
 * The root entry re-exports the browser-safe core only.
 *
 * @module
 */
export * from './core/index.js';
