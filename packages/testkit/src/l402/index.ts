/**
 * `@stipend/testkit/l402`: an L402 server equivalent to Lightning Labs' aperture for our
 * purposes, plus the Lightning pieces it needs (re-exported from `../lightning`, which has no
 * package subpath of its own).
 *
 * What is real: v2 macaroons made with the `macaroon` package (location `lsat`, 66-byte
 * identifier version ‖ payment hash ‖ token id, one root key per token, HMAC chain verified
 * with it), serialised with our libmacaroons v2 encoder as standard padded base64; caveat
 * checks with aperture's rules; BOLT 11 invoices signed by a secp256k1 node key; preimages
 * that hash to the payment hash.
 *
 * What is a stand-in: the Lightning network. Invoices are "paid" through
 * {@link createLightningNetwork}, a simulator shared by the server and the wallets under
 * test; no real node, channel or route is involved.
 *
 * @packageDocumentation
 */

export * from '../lightning/index.js';
export { attenuateL402Macaroon } from './attenuate.js';
export { type L402Authorization, parseL402Authorization } from './authorization.js';
export {
  CAPABILITIES_SUFFIX,
  type Caveat,
  type CaveatContext,
  decodeCaveat,
  decodeServices,
  SERVICES_CONDITION,
  type ServiceEntry,
  servicesCaveat,
  VALID_UNTIL_SUFFIX,
  verifyL402Caveats,
} from './caveats.js';
export {
  type ChallengeParts,
  type ChallengeRenderer,
  type L402ChallengeStyle,
  mppLightningChallenge,
  renderL402Challenge,
} from './challenge.js';
export {
  decodeL402Identifier,
  encodeL402Identifier,
  L402_IDENTIFIER_LENGTH,
  L402_IDENTIFIER_VERSION,
  type L402Identifier,
} from './identifier.js';
export {
  DEFAULT_L402_ROUTES,
  type L402Handler,
  type L402Reply,
  type L402Request,
  type L402Route,
  QUOTES_PRICE_MSAT,
  REPORTS_PRICE_MSAT,
} from './routes.js';
export {
  type CredentialRejection,
  type IssuedChallenge,
  type L402Server,
  type L402ServerOptions,
  type L402ServerStats,
  startL402Server,
} from './server.js';
export {
  type CredentialVerdict,
  L402_MACAROON_LOCATION,
  type MintedMacaroon,
  mintL402Macaroon,
  RootKeyStore,
  verifyL402Credential,
} from './token.js';
