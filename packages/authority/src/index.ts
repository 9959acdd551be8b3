/**
 * `@stipend/authority`: a spend authority (Node) that holds the wallets, the policy and the
 * budget, mints capped delegation tokens (macaroons) for sub-agents, and pays for them over
 * plain HTTP + JSON. Sub-agents use `@stipend/authority/remote` (browser-safe).
 *
 * @module
 */
export {
  createSpendAuthority,
  type MintCaps,
  type PayRequest,
  type SpendAuthority,
  type SpendAuthorityConfig,
} from './authority/authority.js';
export {
  type AuthorityServer,
  type AuthorityServerOptions,
  startAuthorityServer,
} from './authority/server.js';
export type { TokenScope, VerifiedToken } from './authority/tokens.js';
export * from './remote/index.js';
