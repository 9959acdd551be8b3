/**
 * Handing a sub-agent a narrower, already-paid L402 credential — and no wallet.
 *
 * @module
 */
import { credentialStore, type L402Credential, type L402CredentialStore } from './credentials.js';
import { type Attenuation, attenuateL402Token, MacaroonError, readL402Token } from './macaroon.js';

/** Which credential to delegate, and how to narrow it. */
export type DelegateOptions = Attenuation &
  (
    | { readonly credential: L402Credential }
    | {
        /** The parent's store (`l402Adapter().credentials`). */
        readonly from: L402CredentialStore;
        readonly origin: string;
        /** Pick a credential whose `services` include this one. */
        readonly service?: string;
      }
  );

/** What a sub-agent gets. */
export interface DelegatedCredential {
  /** The narrowed credential (same preimage, new token). */
  readonly credential: L402Credential;
  /** A store holding only it: `l402Adapter({ credentials: store })` in the sub-agent. */
  readonly store: L402CredentialStore;
  /** The header, for a sub-agent that uses plain `fetch`. */
  readonly headers: { readonly authorization: string };
}

/**
 * Attenuates a paid L402 credential for a sub-agent (fewer services, an earlier expiry, fewer
 * capabilities, custom caveats; never wider) and packages it so the sub-agent can use it
 * without any wallet: it cannot pay for anything, only use what was already bought, within
 * the narrowed caveats. The parent's credential is unchanged.
 *
 * What is enforced: aperture-style servers check `services` and `<service>_valid_until`;
 * capabilities and custom caveats only if the backend reads them; unknown caveats are
 * ignored. A sub-agent's spending is limited by giving it no wallet (or its own paying fetch
 * with a tight Stipend policy), not by caveats.
 *
 * @example
 * ```ts
 * import { createPayingFetch, l402Adapter } from '@stipend/client';
 * import { delegateL402Credential } from '@stipend/wallet-lightning';
 *
 * const parent = l402Adapter();
 * // … the parent pays for https://api.example.com/quote once …
 * const { store } = delegateL402Credential({
 *   from: parent.credentials,
 *   origin: 'https://api.example.com',
 *   services: ['quotes'],
 *   validUntil: new Date(Date.now() + 5 * 60_000),
 * });
 * const childFetch = createPayingFetch({ wallets: [], adapters: [l402Adapter({ credentials: store })] });
 * ```
 */
export function delegateL402Credential(options: DelegateOptions): DelegatedCredential {
  const parent = 'credential' in options ? options.credential : pick(options);
  const token = attenuateL402Token(parent.token, options);
  const info = readL402Token(token);
  const narrowed = options.services !== undefined;
  const expiresAt =
    info.expiresAt !== undefined && parent.expiresAt !== undefined
      ? Math.min(info.expiresAt, parent.expiresAt)
      : (info.expiresAt ?? parent.expiresAt);
  const credential: L402Credential = {
    id: parent.id,
    origin: parent.origin,
    token,
    preimage: parent.preimage,
    services: info.services.map((s) => s.name),
    // After narrowing, the parent's paths may belong to dropped services: let the sub-agent's
    // adapter learn where the narrowed token works.
    paths: narrowed ? [] : parent.paths,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    createdAt: parent.createdAt,
  };
  return {
    credential,
    store: credentialStore([credential]),
    headers: { authorization: `L402 ${token}:${parent.preimage}` },
  };
}

function pick(options: { from: L402CredentialStore; origin: string; service?: string }) {
  const list = options.from
    .list(options.origin)
    .filter((c) => options.service === undefined || c.services.includes(options.service));
  const credential = list[list.length - 1];
  if (!credential) {
    throw new MacaroonError(
      `no paid L402 credential for ${options.origin}${options.service ? ` and service ${options.service}` : ''}; pay once with the parent's paying fetch first`,
    );
  }
  return credential;
}
