/**
 * The L402 credential store of `@stipend/client`'s L402 adapter (`l402Adapter({ credentials
 * })`), under the names this package has always exported: one store, one credential shape,
 * for the adapter, the file store and delegation.
 *
 * @module
 */
import {
  type CredentialStore,
  memoryCredentialStore,
  type StoredL402Credential,
} from '@stipend/client';

/** One paid L402 credential: the client's `StoredL402Credential`. */
export type L402Credential = StoredL402Credential;

/** A synchronous credential store: the client's `CredentialStore`. */
export type L402CredentialStore = CredentialStore;

/**
 * An in-memory credential store, optionally pre-filled (for a sub-agent, see
 * `delegateL402Credential`): the client's `memoryCredentialStore`.
 *
 * @example
 * ```ts
 * import { l402Adapter } from '@stipend/client';
 * import { credentialStore } from '@stipend/wallet-lightning';
 * const adapter = l402Adapter({ credentials: credentialStore([credential]) });
 * ```
 */
export const credentialStore: (initial?: readonly L402Credential[]) => L402CredentialStore =
  memoryCredentialStore;
