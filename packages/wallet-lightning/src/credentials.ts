/**
 * The credential-store shape of `@stipend/client`'s L402 adapter (`l402Adapter({ credentials
 * })`), repeated here structurally so that this package can build stores for it (file store,
 * delegation) without importing the client's L402 module.
 *
 * @module
 */

/** One paid L402 credential (same fields as the client's `StoredL402Credential`). */
export interface L402Credential {
  /** The payment hash (lowercase hex). */
  readonly id: string;
  /** The only origin it is ever sent to. */
  readonly origin: string;
  /** The token as sent (standard padded base64 after attenuation). */
  readonly token: string;
  /** 64 lowercase hex characters. */
  readonly preimage: string;
  readonly services: readonly string[];
  /** Paths where it was accepted. */
  readonly paths: readonly string[];
  /** ms epoch. */
  readonly expiresAt?: number;
  readonly createdAt: number;
}

/** A synchronous credential store (same contract as the client's `CredentialStore`). */
export interface L402CredentialStore {
  list(origin: string): readonly L402Credential[];
  put(credential: L402Credential): void;
  delete(id: string): void;
}

/**
 * An in-memory credential store, optionally pre-filled (for a sub-agent, see
 * `delegateL402Credential`).
 *
 * @example
 * ```ts
 * import { l402Adapter } from '@stipend/client';
 * import { credentialStore } from '@stipend/wallet-lightning';
 * const adapter = l402Adapter({ credentials: credentialStore([credential]) });
 * ```
 */
export function credentialStore(initial: readonly L402Credential[] = []): L402CredentialStore {
  let all: L402Credential[] = [];
  const store: L402CredentialStore = {
    list: (origin) => all.filter((c) => c.origin === origin),
    put(credential) {
      all = [...all.filter((c) => c.id !== credential.id), Object.freeze({ ...credential })];
    },
    delete(id) {
      all = all.filter((c) => c.id !== id);
    },
  };
  for (const credential of initial) store.put(credential);
  return store;
}
