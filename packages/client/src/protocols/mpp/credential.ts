/**
 * The MPP credential: `Payment <base64url JSON {challenge, payload, source?}>`, where
 * `challenge` echoes every parameter of the challenge exactly as received (the server's HMAC
 * covers them), `payload` is what the wallet produced, and `source` optionally names the payer.
 *
 * @module
 */
import { StipendError } from '../../errors/base.js';
import { encodeBase64UrlJson } from './base64url.js';
import type { MppOfferRaw } from './challenge.js';

/**
 * What a wallet paying an MPP offer returns in `Proof.secret`. (A refused authorization is
 * revoked through the wallet's `void`, which the core calls; the proof carries no callback.)
 */
export interface MppProofSecret {
  /** The method-specific `payload` of the credential (a JSON object). */
  readonly payload: unknown;
  /** The credential's `source` (a DID such as `did:pkh:eip155:1:0x…`), when the method uses one. */
  readonly source?: string;
}

/** Order of the well-known fields first (readability only; servers parse JSON). */
const FIRST = ['id', 'realm', 'method', 'intent', 'request'];

/**
 * Reads and checks a wallet's MPP proof secret.
 *
 * @throws {StipendError} code `PROOF_INVALID` when the wallet returned something else.
 * @example
 * ```ts
 * import { readProofSecret } from './credential.js';
 * readProofSecret({ payload: { spt: 'spt_123' } }).payload; // { spt: 'spt_123' }
 * ```
 */
export function readProofSecret(secret: unknown): MppProofSecret {
  const candidate = secret as Partial<MppProofSecret> | null;
  const payload = candidate?.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new StipendError(
      'PROOF_INVALID',
      'The wallet returned no MPP payload: Proof.secret must be { payload: { … }, source? }.',
    );
  }
  if (candidate!.source !== undefined && typeof candidate!.source !== 'string') {
    throw new StipendError('PROOF_INVALID', 'Proof.secret.source must be a string when present.');
  }
  return candidate as MppProofSecret;
}

/**
 * Builds the `Payment …` credential value for an offer's challenge and a wallet's proof.
 *
 * @example
 * ```ts
 * import { buildCredential } from './credential.js';
 * const value = buildCredential(offer.raw as MppOfferRaw, { payload: { spt: 'spt_123' } });
 * // 'Payment eyJjaGFsbGVuZ2UiOnsi…'
 * ```
 */
export function buildCredential(raw: MppOfferRaw, secret: MppProofSecret): string {
  const challenge: Record<string, string> = {};
  for (const name of FIRST) {
    const value = raw.challenge[name];
    if (value !== undefined) challenge[name] = value;
  }
  for (const [name, value] of Object.entries(raw.challenge)) {
    if (!FIRST.includes(name)) challenge[name] = value;
  }
  const credential = {
    challenge,
    payload: secret.payload,
    ...(secret.source !== undefined ? { source: secret.source } : {}),
  };
  return `Payment ${encodeBase64UrlJson(credential)}`;
}

/**
 * A stable, secret-free `Idempotency-Key` for a purchase key (which may hold a URL): 128 bits
 * of a non-cryptographic mix, the same for every retry of the same purchase.
 *
 * @example
 * ```ts
 * import { idempotencyKeyFor } from './credential.js';
 * idempotencyKeyFor('GET https://api.example.com/a'); // 'stipend-…' (32 hex digits)
 * ```
 */
export function idempotencyKeyFor(purchaseKey: string): string {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  let c = 0xc2b2ae35;
  let d = 0x27d4eb2f;
  for (let i = 0; i < purchaseKey.length; i++) {
    const k = purchaseKey.charCodeAt(i);
    a = Math.imul(a ^ k, 0x01000193);
    b = Math.imul(b ^ k, 0x5bd1e995);
    c = Math.imul(c ^ k, 0x1b873593);
    d = Math.imul(d ^ k, 0xcc9e2d51);
    a ^= d >>> 13;
    b ^= a >>> 11;
    c ^= b >>> 15;
    d ^= c >>> 17;
  }
  const mix = (x: number, y: number) => {
    let h = Math.imul(x ^ (y >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0).toString(16).padStart(8, '0');
  };
  return `stipend-${mix(a, d)}${mix(b, a)}${mix(c, b)}${mix(d, c)}`;
}
