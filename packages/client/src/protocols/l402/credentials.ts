/**
 * Where paid L402 credentials are kept for reuse. The L402 adapter reads the store on every
 * request (synchronously: it must decide before the first send), so stores are synchronous;
 * a store backed by slow storage keeps a mirror in memory.
 *
 * A credential (token + preimage) is a bearer secret: whoever holds it can use what was paid
 * for. Stores never log it; persistent stores should live where only the agent can read them.
 *
 * @module
 */

/** One paid credential. Plain JSON data (no bigints), so any store can persist it. */
export interface StoredL402Credential {
  /** Unique id: the payment hash (lowercase hex). */
  readonly id: string;
  /** The origin that issued the challenge; the credential is only ever sent there. */
  readonly origin: string;
  /** The token exactly as received (or as attenuated), sent back verbatim. */
  readonly token: string;
  /** 64 lowercase hex characters. */
  readonly preimage: string;
  /** Service names from the token's `services` caveat; `[]` for an opaque token. */
  readonly services: readonly string[];
  /** Paths where a request carrying it was accepted (most recent last): its scope. */
  readonly paths: readonly string[];
  /**
   * Paths of its origin that answered it with a 402 although they are not in its scope
   * (another route or tier): it is never sent there again, and kept for the others.
   */
  readonly refused?: readonly string[];
  /** When it stops being usable (earliest `*_valid_until` / `expiration` caveat), ms epoch. */
  readonly expiresAt?: number;
  /** When it was stored, ms epoch. */
  readonly createdAt: number;
}

/** A synchronous store of paid credentials. */
export interface CredentialStore {
  /** Every stored credential of an origin. */
  list(origin: string): readonly StoredL402Credential[];
  /** Adds or replaces (by `id`) a credential. */
  put(credential: StoredL402Credential): void;
  /** Forgets a credential. */
  delete(id: string): void;
}

/**
 * The default store: credentials live in memory for the life of the adapter.
 *
 * @example
 * ```ts
 * import { createPayingFetch, l402Adapter, memoryCredentialStore } from '@stipend/client';
 *
 * const credentials = memoryCredentialStore();
 * const payingFetch = createPayingFetch({ wallets: [wallet], adapters: [l402Adapter({ credentials })] });
 * ```
 */
export function memoryCredentialStore(
  initial: readonly StoredL402Credential[] = [],
): CredentialStore {
  const byOrigin = new Map<string, StoredL402Credential[]>();
  const store: CredentialStore = {
    list: (origin) => byOrigin.get(origin) ?? [],
    put(credential) {
      const list = (byOrigin.get(credential.origin) ?? []).filter((c) => c.id !== credential.id);
      list.push(Object.freeze({ ...credential }));
      byOrigin.set(credential.origin, list);
    },
    delete(id) {
      for (const [origin, list] of byOrigin) {
        const kept = list.filter((c) => c.id !== id);
        if (kept.length === list.length) continue;
        if (kept.length > 0) byOrigin.set(origin, kept);
        else byOrigin.delete(origin);
      }
    },
  };
  for (const credential of initial) store.put(credential);
  return store;
}

/** The part of the Web Storage API the browser store uses (`localStorage`, `sessionStorage`). */
export interface WebStorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A browser store on Web Storage (`localStorage` by default): credentials survive reloads
 * and are shared by the tabs of one origin. One entry per API origin, under
 * `<prefix><origin>`. Web Storage is readable by any script of the page: use
 * `sessionStorage`, or the memory store, when that is not acceptable.
 *
 * @example
 * ```ts
 * import { l402Adapter, webStorageCredentialStore } from '@stipend/client';
 *
 * const adapter = l402Adapter({ credentials: webStorageCredentialStore(sessionStorage) });
 * ```
 */
export function webStorageCredentialStore(
  storage: WebStorageLike = (globalThis as { localStorage?: WebStorageLike }).localStorage!,
  options: { prefix?: string } = {},
): CredentialStore {
  if (!storage) {
    throw new TypeError('No Web Storage here: pass a storage object, or use memoryCredentialStore');
  }
  const prefix = options.prefix ?? 'stipend.l402:';
  const origins = `${prefix}origins`;
  const read = (origin: string): StoredL402Credential[] => {
    try {
      const parsed: unknown = JSON.parse(storage.getItem(prefix + origin) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isCredential) : [];
    } catch {
      return [];
    }
  };
  const knownOrigins = (): string[] => {
    try {
      const parsed: unknown = JSON.parse(storage.getItem(origins) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((o) => typeof o === 'string') : [];
    } catch {
      return [];
    }
  };
  const write = (origin: string, list: readonly StoredL402Credential[]) => {
    const all = new Set(knownOrigins());
    if (list.length === 0) {
      storage.removeItem(prefix + origin);
      all.delete(origin);
    } else {
      storage.setItem(prefix + origin, JSON.stringify(list));
      all.add(origin);
    }
    storage.setItem(origins, JSON.stringify([...all]));
  };
  return {
    list: read,
    put(credential) {
      const list = read(credential.origin).filter((c) => c.id !== credential.id);
      list.push(credential);
      write(credential.origin, list);
    },
    delete(id) {
      for (const origin of knownOrigins()) {
        const list = read(origin);
        const kept = list.filter((c) => c.id !== id);
        if (kept.length !== list.length) write(origin, kept);
      }
    },
  };
}

function isCredential(value: unknown): value is StoredL402Credential {
  const c = value as StoredL402Credential;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.id === 'string' &&
    typeof c.origin === 'string' &&
    typeof c.token === 'string' &&
    typeof c.preimage === 'string' &&
    Array.isArray(c.services) &&
    Array.isArray(c.paths) &&
    (c.refused === undefined || Array.isArray(c.refused)) &&
    typeof c.createdAt === 'number'
  );
}
