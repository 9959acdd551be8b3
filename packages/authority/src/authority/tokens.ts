/**
 * Minting and verifying delegation tokens with the authority's own root key, and the budget
 * scopes a token's spend counts against.
 *
 * Scopes. Attenuation cannot change a macaroon's identifier, so every token made from one
 * minted token shares its id; what tells them apart is the HMAC chain. After `k` caveats the
 * chain is at `sig_k`, and a token attenuated from a parent carries the parent's caveats first,
 * so its chain passes through the parent's final signature. The authority (the only party that
 * can compute `sig_0` — it needs the root key) therefore names one budget scope per
 * `stipend_total_usd` caveat: `delegation:<token id>:<hash of sig_k>`, capped at the lowest
 * total up to `k`. A payment reserves in every such scope on its chain at once, so:
 * - the minted token's total bounds everything attenuated from it, at any depth;
 * - each attenuation's own total bounds it and its descendants;
 * - siblings are apart: `attenuate` starts each delegation with a random `stipend_delegation`
 *   nonce, so two sub-agents given "$0.05" get two $0.05 scopes inside the parent's;
 * - copies of one token share its scopes (they are the same token).
 * Scope names hash the signatures (a prefix signature is itself a bearer credential for the
 * prefix token) so budget stores, logs and exports never hold one.
 *
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { BudgetLimit } from '@stipend/client';
import { bytesToBase64, bytesToHex } from '@stipend/client/internal';
import { type DelegationLimits, limitsOf, parseCaveat } from '../remote/caveats.js';
import { delegationError } from '../remote/errors.js';
import { encodeMacaroon } from '../remote/macaroon-v2.js';
import { chainStep, decodeToken, TOKEN_ID_PREFIX } from '../remote/token.js';
import { macaroonLib } from './macaroon-lib.js';

/** One total cap on a token's chain, as a budget scope. */
export interface TokenScope {
  /** `delegation:<token id>:<32 hex>`. */
  readonly scope: string;
  /** The cap in USD micro-units. */
  readonly capUsdMicros: bigint;
  /** How many caveats deep the cap sits. */
  readonly depth: number;
}

/** A token whose signature verified. */
export interface VerifiedToken {
  readonly id: string;
  readonly conditions: readonly string[];
  readonly limits: DelegationLimits;
  /** Every total cap on the chain, root first. */
  readonly scopes: readonly TokenScope[];
  /** A secret-free key naming this exact token (hash of its signature). */
  readonly leaf: string;
  /** Secret-free keys of this token and every prefix of it (for revocation). */
  readonly chain: readonly string[];
  /** How many `stipend_delegation` caveats it carries. */
  readonly depth: number;
}

const utf8 = new TextEncoder();
const KEY_GENERATOR = utf8.encode('macaroons-key-generator');
const SCOPE_TAG = utf8.encode('stipend-scope:');

/** The token keys of one authority. */
export interface TokenKeys {
  /** Mints a token with these caveat conditions (already validated). */
  mint(id: string, conditions: readonly string[], location?: string): string;
  /** Verifies the HMAC chain and parses every caveat strictly. */
  verify(token: string): VerifiedToken;
}

/**
 * Token minting and verification with a root key.
 *
 * @example
 * ```ts
 * import { tokenKeys } from './tokens.js';
 * const keys = tokenKeys(crypto.getRandomValues(new Uint8Array(32)));
 * const token = keys.mint('0123456789abcdef0123456789abcdef', ['stipend_total_usd=0.10']);
 * keys.verify(token).scopes; // one scope capped at 100000n
 * ```
 */
export function tokenKeys(rootKey: Uint8Array): TokenKeys {
  const key = Uint8Array.from(rootKey);
  return {
    mint(id, conditions, location) {
      const m = macaroonLib.newMacaroon({
        identifier: `${TOKEN_ID_PREFIX}${id}`,
        ...(location ? { location } : {}),
        rootKey: key,
        version: 2,
      });
      for (const condition of conditions) m.addFirstPartyCaveat(condition);
      return bytesToBase64(
        encodeMacaroon({
          ...(m.location ? { location: m.location } : {}),
          identifier: m.identifier,
          caveats: m.caveats.map((c) => ({ identifier: c.identifier })),
          signature: m.signature,
        }),
      );
    },

    verify(token) {
      const decoded = decodeToken(token);
      let lib: ReturnType<typeof macaroonLib.importMacaroon>;
      try {
        lib = macaroonLib.importMacaroon(encodeMacaroon(decoded.packets));
        lib.verify(key, () => null);
      } catch {
        throw delegationError(
          'signature',
          'The delegation token does not verify: it was altered, or minted by another authority (or with a rotated key). Ask its issuer for a fresh token.',
          { tokenId: decoded.id },
        );
      }
      const limits = limitsOf(decoded.conditions, true);
      // Walk the chain again to name the scopes (only the root key holder can).
      let signature: Uint8Array = hmac(
        sha256,
        hmac(sha256, KEY_GENERATOR, key),
        decoded.packets.identifier,
      );
      const chain: string[] = [hashKey(signature)];
      const scopes: TokenScope[] = [];
      let running: bigint | undefined;
      decoded.conditions.forEach((condition, index) => {
        signature = chainStep(signature, utf8.encode(condition));
        const name = hashKey(signature);
        chain.push(name);
        const caveat = parseCaveat(condition);
        if (caveat.kind !== 'total_usd') return;
        running = running === undefined || caveat.usdMicros < running ? caveat.usdMicros : running;
        scopes.push({
          scope: `delegation:${decoded.id}:${name}`,
          capUsdMicros: running,
          depth: index + 1,
        });
      });
      if (!sameBytes(signature, decoded.packets.signature)) {
        throw delegationError('signature', 'The delegation token does not verify.', {
          tokenId: decoded.id,
        });
      }
      return Object.freeze({
        id: decoded.id,
        conditions: decoded.conditions,
        limits,
        scopes: Object.freeze(scopes),
        leaf: chain[chain.length - 1]!,
        chain: Object.freeze(chain),
        depth: decoded.conditions.filter((c) => c.startsWith('stipend_delegation=')).length,
      });
    },
  };
}

/**
 * The budget limits a token's payment must fit in: one lifetime limit per total cap on its
 * chain.
 *
 * @example
 * ```ts
 * import { scopeLimits } from './tokens.js';
 * const limits = scopeLimits(keys.verify(token)); // [{ scope: 'delegation:…', window: { kind: 'total' }, maxUsdMicros: 100000n }]
 * ```
 */
export function scopeLimits(token: VerifiedToken): BudgetLimit[] {
  return token.scopes.map((s) => ({
    scope: s.scope,
    window: { kind: 'total' as const },
    maxUsdMicros: s.capUsdMicros,
  }));
}

function hashKey(signature: Uint8Array): string {
  const data = new Uint8Array(SCOPE_TAG.length + signature.length);
  data.set(SCOPE_TAG);
  data.set(signature, SCOPE_TAG.length);
  return bytesToHex(sha256(data).slice(0, 16));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
