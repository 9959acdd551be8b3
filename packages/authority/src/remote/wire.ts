/**
 * The authority's HTTP API, plain JSON over HTTP so it works from Node and browsers.
 * Bigints (amounts) travel as `{"$bigint":"123"}`.
 *
 * | route | body | answer |
 * |---|---|---|
 * | `POST /v1/pay` | {@link PayRequestBody} | `200` {@link PayResponseBody} or an {@link ErrorBody} |
 * | `POST /v1/lookup` | {@link LookupRequestBody} | `200 { status }` or an {@link ErrorBody} |
 * | `POST /v1/token` | `{ token }` | `200` {@link TokenStatus} or an {@link ErrorBody} |
 *
 * Nothing in these messages is key material: the token is a bearer credential capped by its
 * caveats, offers are what the server published, and proofs are what the rail's wallet hands
 * over for the paid retry (an x402 signed authorization, an MPP Shared Payment Token id).
 *
 * @module
 */
import type { PaymentOffer, Proof } from '@stipend/client';

/** Paths of the authority's routes. */
export const ROUTES = Object.freeze({
  pay: '/v1/pay',
  lookup: '/v1/lookup',
  token: '/v1/token',
});

/** `POST /v1/pay`: pay one offer for one request. */
export interface PayRequestBody {
  readonly token: string;
  /** The request the sub-agent is paying for. */
  readonly request: { readonly method: string; readonly url: string };
  /** The offer the sub-agent's adapter parsed from the 402. */
  readonly offer: PaymentOffer;
  /**
   * One per payment attempt (the remote wallet sends `<purchase key> #<reservation id>`);
   * asking again with the same key and offer returns the same proof instead of paying twice.
   */
  readonly idempotencyKey: string;
  /** The sub-agent policy's cap on authorization lifetime; the authority may lower it. */
  readonly maxAuthorizationTtlSec: number;
}

/** The answer of a successful `POST /v1/pay`. */
export interface PayResponseBody {
  readonly proof: Proof;
}

/** `POST /v1/lookup`: what became of a payment made for this token. */
export interface LookupRequestBody {
  readonly token: string;
  /** `Proof.reference`, or `idem:<idempotency key>` when the pay call's answer was lost. */
  readonly reference: string;
}

/** What `POST /v1/token` says about a token (after verifying it). */
export interface TokenStatus {
  readonly id: string;
  readonly depth: number;
  readonly expiresAt?: number;
  /** One entry per total cap on the chain, root first. */
  readonly scopes: readonly {
    readonly scope: string;
    readonly capUsdMicros: bigint;
    readonly spentUsdMicros: bigint;
    readonly heldUsdMicros: bigint;
    readonly remainingUsdMicros: bigint;
  }[];
}

/** Every error answer. */
export interface ErrorBody {
  readonly error: {
    readonly name: string;
    readonly code: string;
    readonly message: string;
    readonly details: Record<string, unknown>;
  };
  /** Whether money may have moved: `'unknown'` means ask `/v1/lookup` before paying again. */
  readonly paid: boolean | 'unknown';
  readonly reference?: string;
}

/** Prefix of the lookup reference that names a purchase by its idempotency key. */
export const IDEMPOTENCY_REFERENCE = 'idem:';

/**
 * JSON with bigints.
 *
 * @example
 * ```ts
 * import { encodeJson } from '@stipend/authority/remote';
 * encodeJson({ value: 5n }); // '{"value":{"$bigint":"5"}}'
 * ```
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'bigint' ? { $bigint: item.toString() } : item,
  );
}

/**
 * Parses JSON written by {@link encodeJson}.
 *
 * @example
 * ```ts
 * import { decodeJson } from '@stipend/authority/remote';
 * decodeJson('{"value":{"$bigint":"5"}}'); // { value: 5n }
 * ```
 */
export function decodeJson(text: string): unknown {
  return JSON.parse(text, (_key, item: unknown) => {
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const keys = Object.keys(item);
      const tagged = (item as { $bigint?: unknown }).$bigint;
      if (keys.length === 1 && typeof tagged === 'string' && /^-?[0-9]{1,80}$/.test(tagged)) {
        return BigInt(tagged);
      }
    }
    return item;
  });
}
