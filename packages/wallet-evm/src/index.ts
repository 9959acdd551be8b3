/**
 * `@stipend/wallet-evm`: x402 `exact`/`upto` (EIP-3009, Permit2) and MPP `evm.charge`
 * payments with any viem account that signs typed data. Browser-ready: it bundles with plain
 * esbuild, no externals. Coinbase CDP server wallets are in their own entry,
 * `@stipend/wallet-evm/cdp` (Node only, `@coinbase/cdp-sdk` is an optional peer).
 *
 * It peers on `@stipend/client` (types and errors) and `viem`; the client never imports it.
 *
 * @module
 */
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
  expiringNonceHashOf,
  type SignedChannelOpen,
  type SignedChannelTransaction,
  signTempoChannelOpen,
  signTempoChannelTopUp,
  signTempoVoucher,
  TEMPO_CHANNEL_ESCROW,
  TEMPO_VOUCHER_TYPES,
  type TempoChannelDescriptor,
  tempoChannelId,
  tempoVoucherDomain,
  UINT96_MAX,
} from './tempo-channel.js';
export {
  isTempoChannelWallet,
  TEMPO_SESSION_RAIL,
  type TempoChannel,
  type TempoChannelSigner,
  type TempoDepositTerms,
  type TempoSessionWalletOptions,
  tempoSessionWallet,
} from './tempo-wallet.js';
export {
  type EvmReader,
  type EvmWalletOptions,
  evmWallet,
  type TokenDomain,
} from './wallet.js';
