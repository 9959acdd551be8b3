/**
 * The offer model: what a 402 response proposes, normalised across protocols.
 *
 * @module
 */
import type { Amount } from './money/unit.js';

/** The 402 dialects Stipend ships adapters for. */
export type KnownProtocol = 'x402' | 'l402' | 'mpp';

/**
 * A 402 dialect. The three known ones, or the name of a dialect a custom adapter brings
 * (the testkit's `stipend-test` rail, say); policies allow and deny them by this name.
 */
export type Protocol = KnownProtocol | (string & {});

/**
 * One way to pay for one resource, parsed from a 402 response. Frozen once built: the
 * offer the policy checks is exactly the offer the wallet pays (invariant 1).
 */
export interface PaymentOffer {
  /** Stable per challenge: the same terms give the same id. */
  readonly id: string;
  readonly protocol: Protocol;
  /**
   * The payment scheme inside the protocol: x402 `exact` / `upto`; L402 `bolt11`;
   * MPP `<method>.<intent>` such as `stripe.charge`.
   */
  readonly scheme: string;
  /** The price in atomic units; for `upto`, the maximum that could be charged. */
  readonly amount: Amount;
  /** The most the payer may pay on top of `amount` (a Lightning routing-fee cap, say). */
  readonly maxFee?: Amount;
  /** Who is paid: an address, a node public key, a merchant id. */
  readonly payee: string;
  /** CAIP-2 network id, when the rail has one. */
  readonly network?: string;
  /** Asset id on the network (contract address), when the rail has one. */
  readonly asset?: string;
  /** The origin that issued the challenge; proofs go only there (invariant 4). */
  readonly origin: string;
  /** The URL of the resource the challenge was for. */
  readonly resource: string;
  /** When the terms stop being payable (ms since epoch). */
  readonly expiresAt?: number;
  /** How long a signed authorization for this offer would stay valid, in seconds. */
  readonly authorizationTtlSec?: number;
  /** True when the proof can be reused for later requests (an L402 token, say). */
  readonly reusable: boolean;
  /** The protocol's own object for this offer, frozen; adapters read it back. */
  readonly raw: unknown;
}

/** The rail key a wallet advertises for an offer: `protocol:scheme`. */
export function railOf(offer: Pick<PaymentOffer, 'protocol' | 'scheme'>): string {
  return `${offer.protocol}:${offer.scheme}`;
}

/** Deep-freezes an offer (and its raw object) so no hook can change what gets paid. */
export function freezeOffer<T extends PaymentOffer>(offer: T): T {
  deepFreeze(offer);
  return offer;
}

function deepFreeze(value: unknown, depth = 0): void {
  if (depth > 16 || value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const key of Object.keys(value))
    deepFreeze((value as Record<string, unknown>)[key], depth + 1);
}
