/**
 * `@stipend/wallet-stripe`: MPP `stripe` charges with Shared Payment Tokens.
 *
 * This package is a skeleton: its wallet arrives with its protocol issue. It depends on
 * `@stipend/client` for types only; the client never imports a wallet.
 *
 * @module
 */
export {};
