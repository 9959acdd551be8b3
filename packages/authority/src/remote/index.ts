/**
 * `@stipend/authority/remote`: what a sub-agent needs, browser-safe (no Node built-ins).
 * The remote wallet that pays through a spend authority, offline token reading and
 * attenuation, the caveat vocabulary and the typed delegation errors.
 *
 * @module
 */
export {
  CAVEAT,
  type Caveat,
  capsToCaveats,
  checkScope,
  type DelegationCaps,
  type DelegationLimits,
  formatCaveat,
  hostCovers,
  hostMatches,
  limitsOf,
  narrowLimits,
  normalizeHostPattern,
  parseCaveat,
  READ_ONLY_METHODS,
  railCarriesSecret,
  type ScopeQuery,
} from './caveats.js';
export {
  DelegationError,
  type DelegationErrorCode,
  DelegationExceededError,
  DelegationExpiredError,
  DelegationInvalidError,
  DelegationRailError,
  type DelegationReason,
  DelegationScopeError,
  delegationError,
  errorFromJSON,
} from './errors.js';
export {
  appendCaveats,
  attenuate,
  chainStep,
  type DecodedToken,
  decodeToken,
  MAX_CAVEATS,
  readToken,
  TOKEN_ID_PREFIX,
  type TokenInfo,
} from './token.js';
export {
  REMOTE_RAILS,
  type RemoteWallet,
  type RemoteWalletOptions,
  remoteWallet,
} from './wallet.js';
export {
  decodeJson,
  type ErrorBody,
  encodeJson,
  IDEMPOTENCY_REFERENCE,
  type LookupRequestBody,
  type PayRequestBody,
  type PayResponseBody,
  ROUTES,
  type TokenStatus,
} from './wire.js';
