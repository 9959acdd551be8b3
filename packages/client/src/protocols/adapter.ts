/**
 * The contract every 402 dialect (x402, L402, MPP) implements so that it plugs into the
 * core without the core knowing its wire format. Adapters never import each other.
 *
 * @module
 */
import type { Amount } from '../money/unit.js';
import type { PaymentOffer, Protocol } from '../offer.js';
import type { Proof } from '../wallet/wallet.js';
import type { Challenge } from './www-authenticate.js';

/** What an adapter may read of a 402 response. Shared by all adapters; read once. */
export interface ChallengeInput {
  /** HTTP status of the response (402, or 412 for x402 Permit2 approval). */
  readonly status: number;
  /** The response headers. */
  readonly headers: Headers;
  /** The URL that answered (after redirects); offers are bound to its origin. */
  readonly url: URL;
  /** The method of the request that was answered. */
  readonly method: string;
  /** Every `WWW-Authenticate` challenge, parsed once leniently (bad ones skipped). */
  readonly challenges: readonly Challenge[];
  /** The body as text, read once and bounded in size; `undefined` if absent or too big. */
  bodyText(): Promise<string | undefined>;
  /** The core's clock (ms since epoch). */
  readonly now: number;
  /**
   * The request the paid retry will send, for offers that bind the request itself (x402
   * `lnbtc`: the invoice commits to method, URL, headers and body bytes). A function, computed
   * on first call and kept: a 402 that does not need it costs nothing. Resolves `undefined`
   * when the core cannot resend the request as it is (a body that cannot be replayed, a
   * redirected challenge the paid retry would refuse). Absent when the caller did not say.
   */
  readonly request?: () => Promise<SentRequest | undefined>;
}

/** The exact request a paid retry sends (see {@link ChallengeInput.request}). */
export interface SentRequest {
  /** The method as it goes on the wire. */
  readonly method: string;
  /** The absolute URL the retry goes to, without fragment. */
  readonly url: string;
  /** Every header the retry sends that fetch lets the app or the core decide, implicit ones included. */
  readonly headers: Headers;
  /** The body bytes the retry sends; absent for no body. */
  readonly body?: Uint8Array;
  /** Set when the request is an MCP `tools/call` (x402 `lnbtc` then accepts only `mcp:1`). */
  readonly mcp?: {
    readonly server: string;
    readonly name: string;
    readonly arguments?: unknown;
    readonly meta?: unknown;
  };
}

/** The request the paid retry will send, as the adapter may see it. */
export interface RetryRequest {
  readonly method: string;
  readonly url: URL;
  /** The application's own headers (read-only view). */
  readonly headers: Headers;
  /** The purchase's idempotency key. */
  readonly idempotencyKey: string;
}

/** A reusable credential an adapter holds (a paid L402 token), attached without paying. */
export interface HeldCredential {
  /** The adapter's key for it (e.g. origin + macaroon services); passed back on drop. */
  readonly key: string;
  /** The headers that carry it. */
  readonly headers: Readonly<Record<string, string>>;
  /** Secret-free reference (the payment hash), for the outcome. */
  readonly reference: string;
}

/** A server's statement about a payment. A claim, not proof. */
export interface Receipt {
  readonly protocol: Protocol;
  /** A secret-free reference (transaction hash, receipt id). */
  readonly reference?: string;
  /** The amount the server says it settled, when it says so. */
  readonly settled?: Amount;
  /** The decoded receipt, unknown fields kept. */
  readonly raw: unknown;
}

/** How a paid retry ended, as the adapter reads the response. */
export type PaidOutcome =
  | { readonly kind: 'accepted'; readonly receipt?: Receipt; readonly settled?: Amount }
  | {
      readonly kind: 'rejected';
      /** Open-ended; the well-known ones are listed. */
      readonly reason:
        | 'verification_failed'
        | 'settlement_failed'
        | 'settlement_pending'
        | 'expired'
        | 'refused'
        | 'unknown'
        | (string & {});
      /** Whether money moved: `no` releases the budget, `yes` commits, `unknown` holds. */
      readonly moneyMoved: 'no' | 'yes' | 'unknown';
      /** Secret-free text from the server, for the error. */
      readonly message: string;
      readonly receipt?: Receipt;
    };

/**
 * A 402 dialect.
 *
 * @example
 * ```ts
 * import { createPayingFetch, type ProtocolAdapter } from '@stipend/client';
 *
 * declare const myAdapter: ProtocolAdapter;
 * const payingFetch = createPayingFetch({ wallets: [], adapters: [myAdapter] });
 * ```
 */
export interface ProtocolAdapter {
  readonly protocol: Protocol;
  /** A cheap look at status and headers: does this response carry my challenge? */
  detect(input: ChallengeInput): boolean;
  /**
   * Reads the challenge into frozen offers. Throws a `ChallengeParseError` when the
   * challenge is present but invalid; the core then pays nothing from this adapter.
   */
  parse(input: ChallengeInput): readonly PaymentOffer[] | Promise<readonly PaymentOffer[]>;
  /** The headers that carry the proof on the paid retry (names are case-insensitive). */
  proofHeaders(offer: PaymentOffer, proof: Proof, request: RetryRequest): Record<string, string>;
  /** Reads the response to the paid retry: accepted (with receipt) or why not. */
  settle(offer: PaymentOffer, proof: Proof, response: Response): PaidOutcome | Promise<PaidOutcome>;

  /**
   * Optional. A credential this adapter already holds for the request (a paid L402 token for
   * this origin and path prefix), attached to the first send. It was paid before, so no policy
   * decision and no payment happen. Return `undefined` when none applies (or it has expired).
   */
  heldCredential?(request: RetryRequest, now: number): HeldCredential | undefined;
  /**
   * Optional. A held credential was answered with a 402 at `refusedAt` (the URL that answered,
   * after any redirect). The adapter forgets it only when the origin and scope it was issued
   * for refused it; a refusal elsewhere (another route, another origin) is remembered for that
   * place so the credential is not sent there again, and the credential is kept.
   */
  dropCredential?(credential: HeldCredential, refusedAt: URL): void;
  /**
   * Optional. The paid retry was accepted: keep what may be reused later (an L402 token and
   * the path prefix it was accepted on; the terms of a route, for pre-authorization).
   */
  remember?(offer: PaymentOffer, proof: Proof, request: RetryRequest, response: Response): void;
  /**
   * Optional. For reusable offers: the key under which concurrent purchases are paid once
   * (single flight), e.g. origin + macaroon services. Other calls with the same key wait for
   * that payment and then use the held credential.
   */
  reuseKey?(offer: PaymentOffer): string | undefined;
  /**
   * Optional, used only when the paying fetch is created with `preauthorize: true`: offers
   * remembered for this route, to be decided on and paid before the first send so that the
   * steady state is one round trip. If the server still answers 402, the normal flow follows.
   */
  preauthorize?(request: RetryRequest, now: number): readonly PaymentOffer[] | undefined;
  /**
   * Optional. Request headers that advertise what this client can pay (MPP's
   * `Accept-Payment`), built from the wallets' rails and the policy's preference order. The
   * core sends them only where `acceptPayment` allows (same-origin by default in browsers).
   */
  acceptHeaders?(
    rails: readonly string[],
    prefer: readonly string[],
  ): Readonly<Record<string, string>> | undefined;
}
