/**
 * `@stipend/wallet-lightning`: L402 and MPP `lightning` charges: BOLT11 checks, macaroons, LND / LND REST / NWC backends.
 *
 * This package is a skeleton: its wallet arrives with its protocol issue. It depends on
 * `@stipend/client` for types only; the client never imports a wallet.
 *
 * @module
 */
export {};
