/**
 * The L402 protocol adapter: challenges → offers, the `Authorization: L402 token:preimage`
 * proof, and reuse of paid credentials (held credentials, single flight key, drop on 402).
 *
 * @module
 */
import { StipendError } from '../../errors/base.js';
import { ChallengeParseError } from '../../errors/challenge.js';
import type { PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type {
  ChallengeInput,
  HeldCredential,
  PaidOutcome,
  ProtocolAdapter,
  RetryRequest,
} from '../adapter.js';
import { defaultFeeCap, type FeeCap, type L402OfferRaw, parseL402Challenges } from './challenge.js';
import {
  type CredentialStore,
  memoryCredentialStore,
  type StoredL402Credential,
} from './credentials.js';

/** Options of {@link l402Adapter}. */
export interface L402AdapterOptions {
  /** Where paid credentials are kept for reuse. Default: in memory. */
  readonly credentials?: CredentialStore;
  /**
   * The routing-fee cap put on each offer as `maxFee` (msat), so the budget reserves amount +
   * fee. Default: 1% of the amount + 10 sat. The wallet pays with the smaller of this and its
   * own cap.
   */
  readonly maxFeeMsat?: FeeCap;
  /**
   * Pay challenges whose token is not a macaroon (an opaque token, such as Alby's
   * JSON + HMAC tokens). Default `false`.
   *
   * Why off: a macaroon's identifier carries the payment hash of the invoice it was minted
   * with, so the adapter (and `lightningWallet`) can check, before paying, that the invoice
   * buys this very token. Nothing ties an opaque token to its invoice: a hostile or buggy
   * server can hand out an invoice for another payment, and the paid token is refused. Turn
   * it on only for servers you trust to issue opaque tokens; the token is then echoed
   * verbatim, without hash check, services or expiry.
   */
  readonly allowOpaqueTokens?: boolean;
  /** Reuse paid credentials for later requests to the same origin. Default `true`. */
  readonly reuse?: boolean;
  /** Most credentials kept per origin (oldest dropped first). Default 16. */
  readonly maxCredentialsPerOrigin?: number;
  /**
   * 402-loop guard: when an origin refuses a credential right after it was paid, and refuses
   * it again on the next request, its challenges are not paid for this long (ms). Default
   * 10 minutes.
   */
  readonly loopCooldownMs?: number;
}

/** The L402 adapter, plus a look at what it has learned. */
export interface L402Adapter extends ProtocolAdapter {
  /** The credential store in use. */
  readonly credentials: CredentialStore;
}

const MAX_LEARNED = 2048;
const MAX_PATHS = 32;
const PREIMAGE = /^[0-9a-f]{64}$/;

/**
 * Creates the L402 (and legacy LSAT) adapter.
 *
 * What it does: reads every L402/LSAT challenge into `l402:bolt11` offers priced at the
 * invoice amount (msat; amountless invoices are refused), with a `maxFee` for routing; refuses
 * a token not bound to its invoice (a macaroon without the invoice's payment hash in its
 * identifier; a token that is not a macaroon, unless `allowOpaqueTokens`); sends
 * the proof as exactly one `Authorization: L402 <token as received>:<preimage>`; keeps paid
 * credentials and attaches them to later requests of the same origin, matched by the exact
 * path where one was accepted, then by the token's `services` caveat, then (speculatively)
 * by path prefix; drops a credential whose `*_valid_until` caveat has passed, or that its
 * own scope (its origin, at a path where it was accepted) answered with a 402. A 402 at
 * another route of the origin marks that route refused for the credential (never sent there
 * again) and keeps it; a 402 from another origin (after a redirect) leaves it untouched.
 * Concurrent purchases for the same origin and services are paid once (the core
 * single-flights on {@link ProtocolAdapter.reuseKey}).
 *
 * @example
 * ```ts
 * import { createPayingFetch, l402Adapter } from '@stipend/client';
 * import { lightningWallet, lndRestBackend } from '@stipend/wallet-lightning';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [l402Adapter()],
 *   wallets: [lightningWallet({ network: 'mainnet', backend: lndRestBackend({ url, macaroon }) })],
 * });
 * const res = await payingFetch('https://api.example.com/quote'); // pays once, then reuses
 * ```
 */
export function l402Adapter(options: L402AdapterOptions = {}): L402Adapter {
  const store = options.credentials ?? memoryCredentialStore();
  const feeCap = options.maxFeeMsat ?? defaultFeeCap;
  const reuse = options.reuse ?? true;
  const allowOpaqueTokens = options.allowOpaqueTokens ?? false;
  const perOrigin = options.maxCredentialsPerOrigin ?? 16;
  /** origin + path → the services its challenges named. */
  const pathServices = new Map<string, readonly string[]>();
  const cooldown = options.loopCooldownMs ?? 10 * 60_000;
  /** origin → the credential it refused right after it was paid. */
  const suspects = new Map<string, string>();
  /** origin → until when its challenges are not paid (it refused a paid credential twice). */
  const loops = new Map<string, number>();

  function learn<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_LEARNED) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }

  const adapter: L402Adapter = {
    protocol: 'l402',
    credentials: store,

    detect(input: ChallengeInput): boolean {
      return (
        input.status === 402 &&
        input.challenges.some((c) => c.schemeLower === 'l402' || c.schemeLower === 'lsat')
      );
    },

    parse(input: ChallengeInput): readonly PaymentOffer[] {
      const origin = input.url.origin;
      const until = loops.get(origin);
      if (until !== undefined && until > Date.now()) {
        throw new ChallengeParseError({
          protocol: 'l402',
          message: `${origin} refused an L402 credential it had just been paid for, twice: its challenges are not paid until ${new Date(until).toISOString()} (a 402 loop). Check the server, then retry.`,
        });
      }
      const offers = parseL402Challenges(input, feeCap, allowOpaqueTokens);
      const services = offers.map((o) => (o.raw as L402OfferRaw).services).find((s) => s.length);
      if (services) learn(pathServices, input.url.origin + input.url.pathname, services);
      return offers;
    },

    proofHeaders(offer: PaymentOffer, proof: Proof): Record<string, string> {
      return { authorization: credentialHeader(offer, proof) };
    },

    settle(offer: PaymentOffer, proof: Proof, response: Response): PaidOutcome {
      if (response.status !== 401 && response.status !== 402) return { kind: 'accepted' };
      if (reuse) {
        // Often a settlement race: keep the paid credential so the next request tries it once
        // instead of paying again. Refused again there, the origin is in a 402 loop.
        keep(offer, proof, new URL(offer.resource).pathname);
        suspects.set(offer.origin, (offer.raw as L402OfferRaw).paymentHash);
      }
      return {
        kind: 'rejected',
        reason: 'verification_failed',
        moneyMoved: 'yes',
        message: `the server answered ${response.status} to the paid request; the invoice was paid (payment hash ${(offer.raw as L402OfferRaw).paymentHash})`,
      };
    },

    heldCredential(request: RetryRequest, now: number): HeldCredential | undefined {
      if (!reuse) return undefined;
      const origin = request.url.origin;
      const list = store.list(origin);
      // The credential store first: the request's headers are built only when one may apply.
      if (list.length === 0 || request.headers.has('authorization')) return undefined;
      const path = request.url.pathname;
      const target = pathServices.get(origin + path);
      let best: StoredL402Credential | undefined;
      let rank = 0;
      for (const credential of list) {
        if (credential.expiresAt !== undefined && credential.expiresAt <= now) {
          store.delete(credential.id);
          continue;
        }
        // A route that refused it never gets it again (its own 402 is bought separately).
        if (credential.refused?.includes(path)) continue;
        let fit = 0;
        if (credential.paths.includes(path)) fit = 3;
        else if (target) fit = covers(credential, target) ? 2 : 0;
        else if (underPrefix(credential, path)) fit = 1;
        // Later entries are newer: on a tie, the newest credential wins.
        if (fit > 0 && fit >= rank) {
          best = credential;
          rank = fit;
        }
      }
      if (!best) return undefined;
      const kind = rank === 3 ? 'path' : rank === 2 ? 'service' : 'prefix';
      return {
        key: `${kind} ${best.id} ${origin}${path}`,
        headers: { authorization: `L402 ${best.token}:${best.preimage}` },
        reference: best.id,
      };
    },

    dropCredential(credential: HeldCredential, refusedAt?: URL): void {
      const [, id, where] = credential.key.split(' ');
      if (!id || !where) return;
      let attachedAt: URL;
      try {
        attachedAt = new URL(where);
      } catch {
        return;
      }
      const at = refusedAt ?? attachedAt;
      // Another origin (after a redirect) never saw it: fetch drops Authorization across
      // origins. Its 402 says nothing about the credential.
      if (at.origin !== attachedAt.origin) return;
      const stored = store.list(at.origin).find((c) => c.id === id);
      if (!stored) return;
      const path = at.pathname;
      if (stored.paths.includes(path)) {
        // Its own scope refused it: expired, revoked or used up.
        if (suspects.get(at.origin) === id) {
          suspects.delete(at.origin);
          loops.set(at.origin, Date.now() + cooldown);
        }
        store.delete(id);
        return;
      }
      // Another route (another tier or service): keep it for the routes that accept it.
      const refused = [...(stored.refused ?? []).filter((p) => p !== path), path];
      store.put({ ...stored, refused: refused.slice(-MAX_PATHS) });
    },

    remember(offer: PaymentOffer, proof: Proof, request: RetryRequest): void {
      suspects.delete(offer.origin);
      loops.delete(offer.origin);
      if (reuse) keep(offer, proof, request.url.pathname);
    },

    reuseKey(offer: PaymentOffer): string | undefined {
      if (!reuse) return undefined;
      const services = [...(offer.raw as L402OfferRaw).services].sort().join(',');
      return `l402 ${offer.origin} ${services}`;
    },
  };

  function keep(offer: PaymentOffer, proof: Proof, path: string): void {
    const raw = offer.raw as L402OfferRaw;
    const preimage = preimageOf(proof);
    const list = store.list(offer.origin);
    const previous = list.find((c) => c.id === raw.paymentHash);
    const paths = [...(previous?.paths ?? []).filter((p) => p !== path), path].slice(-MAX_PATHS);
    const credential: { -readonly [K in keyof StoredL402Credential]: StoredL402Credential[K] } = {
      id: raw.paymentHash,
      origin: offer.origin,
      token: raw.token,
      preimage,
      services: raw.services,
      paths,
      createdAt: previous?.createdAt ?? Date.now(),
    };
    // Accepted here now: no longer a refused route.
    const refused = previous?.refused?.filter((p) => p !== path);
    if (refused && refused.length > 0) credential.refused = refused;
    if (raw.credentialExpiresAt !== undefined) credential.expiresAt = raw.credentialExpiresAt;
    store.put(credential);
    if (raw.services.length > 0) learn(pathServices, offer.origin + path, raw.services);
    const all = store.list(offer.origin);
    for (const old of all.slice(0, Math.max(0, all.length - perOrigin))) store.delete(old.id);
  }

  return adapter;
}

function covers(credential: StoredL402Credential, services: readonly string[]): boolean {
  return credential.services.length > 0 && services.every((s) => credential.services.includes(s));
}

/**
 * Whether `path` lies in the directory of a path where the credential was accepted. A
 * credential not yet accepted anywhere (a delegated one) is tried anywhere on its origin.
 */
function underPrefix(credential: StoredL402Credential, path: string): boolean {
  if (credential.paths.length === 0) return true;
  return credential.paths.some((p) => path.startsWith(p.slice(0, p.lastIndexOf('/') + 1)));
}

/** The `L402 <token>:<preimage>` credential for a paid offer. */
function credentialHeader(offer: PaymentOffer, proof: Proof): string {
  return `L402 ${(offer.raw as L402OfferRaw).token}:${preimageOf(proof)}`;
}

function preimageOf(proof: Proof): string {
  const preimage = (proof.secret as { preimage?: unknown } | undefined)?.preimage;
  const text = typeof preimage === 'string' ? preimage.toLowerCase() : '';
  if (!PREIMAGE.test(text)) {
    throw new StipendError(
      'L402_PREIMAGE_INVALID',
      'The wallet returned no 32-byte hex preimage for the L402 offer; a Lightning wallet must return { preimage: <64 hex> }.',
      { details: { offerId: proof.offerId, reference: proof.reference } },
    );
  }
  return text;
}
