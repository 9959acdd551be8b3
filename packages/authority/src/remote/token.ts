/**
 * Delegation tokens as a holder sees them: read one, and attenuate it offline.
 *
 * A token is a macaroon (libmacaroons v2 binary, standard padded base64) whose identifier is
 * `stipend:1:<token id>` and whose first-party caveats cap what it may spend. Attenuating
 * appends caveats and moves the signature along the HMAC chain
 * (`sig' = HMAC-SHA256(sig, caveat)`): no authority, no root key, no private key. Nobody can
 * remove a caveat, because that would mean inverting HMAC.
 *
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { anyBase64ToBytes, bytesToBase64, bytesToHex } from '@stipend/client/internal';
import {
  type Caveat,
  capsToCaveats,
  type DelegationCaps,
  type DelegationLimits,
  formatCaveat,
  limitsOf,
  narrowLimits,
} from './caveats.js';
import { delegationError } from './errors.js';
import { decodeMacaroon, encodeMacaroon, type MacaroonPackets } from './macaroon-v2.js';

/** The identifier prefix of delegation tokens (version 1). */
export const TOKEN_ID_PREFIX = 'stipend:1:';
/** The most caveats a token may carry. */
export const MAX_CAVEATS = 64;
const TOKEN_ID = /^[0-9a-f]{32}$/;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A decoded (not verified) delegation token. */
export interface DecodedToken {
  /** The token id from the identifier (shared by every token attenuated from it). */
  readonly id: string;
  readonly packets: MacaroonPackets;
  /** The first-party caveat conditions, in order. */
  readonly conditions: readonly string[];
}

/** What {@link readToken} tells a holder. */
export interface TokenInfo {
  /** The token id (the same for the minted token and everything attenuated from it). */
  readonly id: string;
  /** The authority's location hint, when the token carries one. */
  readonly location?: string;
  /** Every caveat condition, in order. */
  readonly caveats: readonly string[];
  /** What the caveats add up to (all apply). */
  readonly limits: DelegationLimits;
  /** How many times it was delegated onwards offline (its `stipend_delegation` caveats). */
  readonly depth: number;
}

/**
 * Decodes a token without verifying its signature (only the authority can: it holds the key).
 *
 * @throws {DelegationInvalidError} (reason `malformed`) when it is not a delegation token.
 * @example
 * ```ts
 * import { decodeToken } from '@stipend/authority/remote';
 * const { id, conditions } = decodeToken(token);
 * ```
 */
export function decodeToken(token: string): DecodedToken {
  const malformed = (why: string) =>
    delegationError('malformed', `This is not a Stipend delegation token: ${why}.`);
  if (typeof token !== 'string' || token.length === 0) throw malformed('it is empty');
  let bytes: Uint8Array;
  try {
    bytes = anyBase64ToBytes(token.trim());
  } catch {
    throw malformed('it is not base64');
  }
  let packets: MacaroonPackets;
  try {
    packets = decodeMacaroon(bytes);
  } catch (error) {
    throw malformed((error as Error).message);
  }
  let identifier: string;
  try {
    identifier = strictUtf8.decode(packets.identifier);
  } catch {
    throw malformed('its identifier is not UTF-8');
  }
  const id = identifier.startsWith(TOKEN_ID_PREFIX) ? identifier.slice(TOKEN_ID_PREFIX.length) : '';
  if (!TOKEN_ID.test(id)) throw malformed(`its identifier is not "${TOKEN_ID_PREFIX}<32 hex>"`);
  if (packets.caveats.length > MAX_CAVEATS) {
    throw malformed(
      `it carries ${packets.caveats.length} caveats, above the ${MAX_CAVEATS} allowed`,
    );
  }
  const conditions: string[] = [];
  for (const caveat of packets.caveats) {
    if (caveat.vid !== undefined || caveat.location !== undefined) {
      throw malformed('it carries a third-party caveat, which delegation tokens never use');
    }
    try {
      conditions.push(strictUtf8.decode(caveat.identifier));
    } catch {
      throw malformed('a caveat is not UTF-8');
    }
  }
  return { id, packets, conditions };
}

/**
 * Reads a delegation token: its id and what it allows. Offline; the signature is not checked
 * (only the authority can), but the caveats are parsed strictly, so a token this returns for is
 * one the authority would read the same way.
 *
 * @throws {DelegationInvalidError} for a malformed token, an unknown caveat or a widening one.
 * @example
 * ```ts
 * import { readToken } from '@stipend/authority/remote';
 *
 * const info = readToken(process.env.STIPEND_TOKEN!);
 * console.warn(info.limits.totalUsdMicros, new Date(info.limits.expiresAt!));
 * ```
 */
export function readToken(token: string): TokenInfo {
  const decoded = decodeToken(token);
  const limits = limitsOf(decoded.conditions, true);
  return Object.freeze({
    id: decoded.id,
    ...(decoded.packets.location ? { location: decoded.packets.location } : {}),
    caveats: Object.freeze([...decoded.conditions]),
    limits: Object.freeze(limits),
    depth: decoded.conditions.filter((c) => c.startsWith('stipend_delegation=')).length,
  });
}

/**
 * Attenuates a token offline for a sub-agent: appends a fresh `stipend_delegation` nonce (so
 * the new token gets its own budget scope, apart from its siblings) and one caveat per cap.
 * Each cap may only narrow: asking for more than the token allows throws instead of minting a
 * token the authority would refuse.
 *
 * @throws {DelegationInvalidError} when the token is malformed or a cap would widen it.
 * @example
 * ```ts
 * import { attenuate } from '@stipend/authority/remote';
 *
 * const forSubAgent = attenuate(myToken, {
 *   totalUsd: '0.05',
 *   expiresAt: Date.now() + 60 * 60 * 1000,
 * });
 * ```
 */
export function attenuate(token: string, caps: DelegationCaps): string {
  const decoded = decodeToken(token);
  let limits = limitsOf(decoded.conditions, true);
  const added: Caveat[] = [{ kind: 'delegation', nonce: randomHex(16) }, ...capsToCaveats(caps)];
  for (const caveat of added) limits = narrowLimits(limits, caveat, true);
  return appendConditions(decoded.packets, added.map(formatCaveat));
}

/**
 * Appends raw caveat conditions without checking them (the authority still does). For tests
 * and tools; prefer {@link attenuate}.
 *
 * @example
 * ```ts
 * import { appendCaveats } from '@stipend/authority/remote';
 * const narrower = appendCaveats(token, ['stipend_methods=GET']);
 * ```
 */
export function appendCaveats(token: string, conditions: readonly string[]): string {
  return appendConditions(decodeToken(token).packets, conditions);
}

function appendConditions(packets: MacaroonPackets, conditions: readonly string[]): string {
  let signature = packets.signature;
  const caveats = [...packets.caveats];
  for (const condition of conditions) {
    const identifier = utf8.encode(condition);
    signature = chainStep(signature, identifier);
    caveats.push({ identifier });
  }
  if (caveats.length > MAX_CAVEATS) {
    throw delegationError(
      'malformed',
      `A token may carry at most ${MAX_CAVEATS} caveats; this one would carry ${caveats.length}.`,
    );
  }
  return bytesToBase64(encodeMacaroon({ ...packets, caveats, signature }));
}

/**
 * One step of the macaroon HMAC chain: `HMAC-SHA256(previous signature, caveat)`.
 *
 * @example
 * ```ts
 * import { chainStep } from '@stipend/authority/remote';
 * const next = chainStep(signature, new TextEncoder().encode('stipend_methods=GET'));
 * ```
 */
export function chainStep(signature: Uint8Array, caveat: Uint8Array): Uint8Array {
  return hmac(sha256, signature, caveat);
}

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(buffer);
  return bytesToHex(buffer);
}
