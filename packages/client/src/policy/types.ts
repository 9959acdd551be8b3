/**
 * The spend policy a person writes. Plain data (JSON-friendly apart from bigint amounts), so it
 * can live in a file. USD amounts are decimal strings (`'0.10'`) or micro-USD bigints.
 *
 * @module
 */
import type { WindowSpec } from '../budget/window.js';
import type { Amount } from '../money/unit.js';
import type { Protocol } from '../offer.js';

/** Decimal US dollars (`'0.25'`, `'$1'`) or USD micro-units as a bigint (`250_000n`). */
export type Usd = string | bigint;

/** A budget window as written in a policy (its home is `budget/window.ts`). */
export type { WindowSpec };

/** An allow list and a deny list; deny wins. Entries are compared case-insensitively. */
export interface ListRule {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/** A cap in an asset's own atomic units; `unit` is a `unitKey` (`'lightning:msat'`, `'eip155:8453/0x…'`). */
export interface NativeCap {
  readonly unit: string;
  readonly max: bigint | string;
}

/**
 * One rule. Every rule that matches a request applies at once, and the most restrictive
 * value of each field wins (deny > ask > allow; the lowest cap; every limit).
 */
export interface Rule {
  /** `deny` pays nothing, `ask` asks the approver for every payment. Default `allow`. */
  readonly action?: 'allow' | 'deny' | 'ask';
  /** Caps on one payment: in USD (cost incl. maximum fee) and/or per asset in atomic units. */
  readonly maxPerRequest?: { readonly usd?: Usd; readonly native?: readonly NativeCap[] };
  /**
   * Caps on what one session (MPP `lightning`/`tempo` sessions) may lock at once: the opening
   * deposit, and what is left plus a top-up. In USD and/or per asset in atomic units; the
   * lowest of every matching rule wins. A server's suggestion never raises it: where the
   * client chooses the deposit it opens at the smaller of the two; where the server fixes it
   * (a Lightning deposit invoice) a deposit above the cap is refused. No cap by default (the
   * deposit is still reserved against `limits` like any payment).
   */
  readonly maxDeposit?: { readonly usd?: Usd; readonly native?: readonly NativeCap[] };
  /** Spend limits over windows, counted in this rule's scope. */
  readonly limits?: readonly { readonly usd: Usd; readonly window: WindowSpec }[];
  /** Limits on the number of payments over windows, counted in this rule's scope. */
  readonly maxRequests?: readonly { readonly count: number; readonly window: WindowSpec }[];
  /** Ask the approver when one payment costs more than this. */
  readonly approveAbove?: Usd;
  readonly protocols?: {
    readonly allow?: readonly Protocol[];
    readonly deny?: readonly Protocol[];
  };
  /** CAIP-2 network ids (`eip155:8453`); Lightning offers use `lightning`. */
  readonly networks?: ListRule;
  /** Unit keys (`eip155:8453/0x833…`, `lightning:msat`, `iso4217:USD`). */
  readonly assets?: ListRule;
  /** Payee addresses, node keys or merchant ids. */
  readonly payees?: ListRule;
  /** The longest a signed authorization may stay valid. Default 3600. */
  readonly maxAuthorizationTtlSec?: number;
}

/**
 * A whole policy: a global rule, rules per host pattern, rules per tag.
 *
 * Host patterns: `api.example.com` (that host), `*.example.com` (any subdomain, not the
 * apex), `*` (every host). Tags come from the call (`init.payment.tags`) or the fetch config.
 */
export interface SpendPolicy {
  readonly global?: Rule;
  readonly hosts?: Readonly<Record<string, Rule>>;
  readonly tags?: Readonly<Record<string, Rule>>;
  /**
   * Tie-break order among equally cheap offers: protocols or `protocol:scheme` rails, most
   * preferred first (`['l402', 'x402:exact']`).
   */
  readonly prefer?: readonly string[];
  /** How long the approver may take before the payment is denied. Default 120 000 ms. */
  readonly approvalTimeoutMs?: number;
  /** The oldest price a conversion may use. Default 300 000 ms. */
  readonly maxRateAgeMs?: number;
}

/** What the approver is asked. Secret-free. */
export interface ApprovalRequest {
  readonly origin: string;
  readonly resource: string;
  readonly method: string;
  readonly protocol: Protocol;
  readonly scheme: string;
  readonly payee: string;
  readonly network?: string;
  readonly amount: Amount;
  /** Cost incl. maximum fee, USD micro-units. */
  readonly usdMicros: bigint;
  /** What is left in each limit after this payment, USD micro-units. */
  readonly remaining: readonly {
    readonly scope: string;
    readonly window: string;
    readonly usdMicros: bigint;
  }[];
  readonly expiresAt?: number;
  readonly why: 'above_threshold' | 'rule_ask';
  readonly tags: readonly string[];
}

/**
 * Decides whether a person approves a payment. Resolve `true` to pay. The signal aborts when
 * the approval timeout passes (a timeout is a denial).
 */
export type Approver = (
  request: ApprovalRequest,
  options: { signal: AbortSignal },
) => Promise<boolean>;

/** The fail-closed defaults used when no policy is given: $0.10 per request, $1 per UTC day. */
export const DEFAULT_POLICY: SpendPolicy = Object.freeze({
  global: Object.freeze({
    maxPerRequest: Object.freeze({ usd: '0.10' }),
    limits: Object.freeze([
      Object.freeze({ usd: '1.00', window: Object.freeze({ calendar: 'day' as const }) }),
    ]),
  }),
});
