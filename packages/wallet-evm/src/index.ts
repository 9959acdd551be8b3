/**
 * `@stipend/wallet-evm`: x402 `exact`/`upto` (EIP-3009, Permit2) and MPP `evm` charges with viem accounts.
 *
 * This package is a skeleton: its wallet arrives with its protocol issue. It depends on
 * `@stipend/client` for types only; the client never imports a wallet.
 *
 * @module
 */
export {};
