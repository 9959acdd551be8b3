/**
 * `@stipend/wallet-evm`: x402 `exact`/`upto` (EIP-3009, Permit2) and MPP `evm.charge`
 * payments with any viem account that signs typed data, or a Coinbase CDP server wallet.
 *
 * It depends on `@stipend/client` for types and errors only; the client never imports it.
 *
 * @module
 */
export { type CdpAccountOptions, cdpAccount } from './cdp.js';
export {
  EXACT_PERMIT2_TYPES,
  PERMIT2_ADDRESS,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  UPTO_PERMIT2_TYPES,
  X402_EXACT_PERMIT2_PROXY,
  X402_UPTO_PERMIT2_PROXY,
} from './constants.js';
export { formatReference, type PaymentReference, parseReference } from './reference.js';
export type { EvmSigner, SignedEip3009, SignedPermit2 } from './sign.js';
export {
  type EvmReader,
  type EvmWalletOptions,
  evmWallet,
  type TokenDomain,
} from './wallet.js';
