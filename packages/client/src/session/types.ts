/**
 * The session contract: a session is a purchase that stays open. It is opened once (a deposit
 * paid, or a channel funded), used many times (one bearer credential or one voucher per call,
 * no payment per call), topped up, and closed (the unspent deposit refunded).
 *
 * Three parts plug together:
 * - {@link SessionRecord}: one session as stored (secret-free except its `secret` field);
 * - {@link SessionStore}: where records live (memory here; file, IndexedDB, Redis in
 *   `@stipend/stores`), a compare-and-set store that also keeps at most one live session per
 *   scope (origin, realm, method, signer);
 * - {@link SessionMethod}: the per-method plug-in (`lightning` here, `tempo` beside it) that
 *   reads a method's session challenges, builds its credentials and reads its answers. The
 *   session manager (`manager.ts`) drives them: policy, budget, wallet, locks, timers, ledger.
 *
 * Money is bigint atomic units of the session's unit (msat for Lightning, token base units
 * for Tempo). `spentAtomic` is what the CLIENT counted (unit price × uses it sent), never the
 * server's claim.
 *
 * @module
 */
import type { Amount } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import type { ChallengeInput } from '../protocols/adapter.js';
import type { PayContext, Proof, Wallet } from '../wallet/wallet.js';

/**
 * Where a session stands.
 * - `opening`: decided and reserved; the deposit may be being paid (or the process died here).
 * - `open`: the server accepted the opening; uses may be sent.
 * - `closing`: a close was sent or is being sent; no more uses.
 * - `closed`: the server closed it (or said so) and the refund is settled (confirmed, or known
 *   to be nothing). Final.
 * - `unknown`: an open, top-up or close whose outcome is not known (the deposit may have been
 *   paid, the server did not answer). Blocks a new session of the same scope until reconciled.
 */
export type SessionState = 'opening' | 'open' | 'closing' | 'closed' | 'unknown';

/** States in which a session occupies its scope (no second session of the scope may open). */
export const LIVE_SESSION_STATES: readonly SessionState[] = Object.freeze([
  'opening',
  'open',
  'closing',
  'unknown',
]);

/**
 * One budget reservation of a session: the opening deposit, or one top-up. Each is reserved
 * (held) when the payment is decided, before the wallet pays, and committed on close at what
 * was spent from it (the rest is freed); without a confirmed refund it stays fully committed.
 */
export interface SessionHold {
  /** The budget reservation id (`BudgetStore`), with `meta.kind = 'session'`. */
  readonly reservationId: string;
  /** `open` or `topUp`. */
  readonly kind: 'open' | 'topUp';
  /** The deposit this hold pays, atomic units of the session's unit. */
  readonly atomic: bigint;
  /** The routing fee or gas paid for it, once known (atomic units of `feeUnit`). */
  readonly feeAtomic?: bigint;
  /** The USD micro-units reserved (deposit + maximum fee). */
  readonly reservedUsdMicros: bigint;
  /** The rate the deposit was priced with: USD micros = ceil(atomic × numerator / denominator). */
  readonly rate: { readonly numerator: bigint; readonly denominator: bigint };
  /** The rate of the fee, when the fee is in another unit or was priced apart. */
  readonly feeRate?: { readonly numerator: bigint; readonly denominator: bigint };
  /** Secret-free reference the rail can be asked about (the deposit invoice's payment hash). */
  readonly reference?: string;
  /**
   * `paying`: the wallet was asked; `paid`: money moved (the wallet said so); `void`: provably
   * nothing moved (released); `unknown`: the wallet did not answer in time.
   */
  readonly state: 'paying' | 'paid' | 'void' | 'unknown';
  /** Once the session is closed: the committed USD micro-units of this hold. */
  readonly committedUsdMicros?: bigint;
}

/**
 * One session, as stored. Serialisable (bigint, string, number, boolean, plain objects).
 * Everything but `secret` is secret-free and may be shown, journaled and logged.
 */
export interface SessionRecord {
  /** Client-chosen, secret-free, unique (`ses_…`). Also the ledger's purchase key `session:<id>`. */
  readonly id: string;
  /** The scope: `scopeKey(origin, realm, method, signer)`. At most one live session per scope. */
  readonly scope: string;
  /** The origin the session was opened with: its credential is sent there only. */
  readonly origin: string;
  /** The payee scope the server named (MPP `realm`). */
  readonly realm: string;
  /** The payment method (`lightning`, `tempo`, …). */
  readonly method: string;
  /** The rail (`mpp:lightning.session`, `mpp:tempo.session`). */
  readonly rail: string;
  /** The wallet that opened it (its `id`): the signer part of the scope. */
  readonly walletId: string;
  /** The signer's own name when a wallet has several (an EVM address, a node key). */
  readonly signer?: string;
  /** The unit of every amount below, as a `unitKey` (`lightning:msat`, `eip155:…/0x…`). */
  readonly unit: string;
  /** The verified payee (the node key recovered from the deposit invoice, the recipient). */
  readonly payee: string;
  /** The path the session was opened on (no query string), for the close request. */
  readonly resource: string;
  /** The price of one use (the challenge's `amount`), atomic units. */
  readonly unitPriceAtomic: bigint;
  /** Every deposit the wallet paid (opening + top-ups), atomic units. */
  readonly depositAtomic: bigint;
  /** What the client counted as spent: unit price × uses it sent. Never above `depositAtomic`. */
  readonly spentAtomic: bigint;
  /** What the client confirmed refunded (its own node received it). */
  readonly refundedAtomic: bigint;
  /** How many uses were counted. */
  readonly uses: number;
  readonly state: SessionState;
  /** The budget reservations (opening deposit, top-ups), oldest first. */
  readonly holds: readonly SessionHold[];
  /** Compare-and-set version: 1 when created, +1 on every `put`. */
  readonly version: number;
  /** Which paying fetch (process) holds it, to find orphans after a crash. */
  readonly owner: string;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When the server accepted the opening. */
  readonly openedAt?: number;
  /** When the last use was sent. */
  readonly lastUsedAt?: number;
  /** When the client will close it if it stays idle (ms since epoch). */
  readonly idleCloseAt?: number;
  /** When it was closed. */
  readonly closedAt?: number;
  /** Who closed it: the client, the server (it answered "closed"), or a person. */
  readonly closedBy?: 'client' | 'server' | 'person';
  /** The last failure, secret-free. */
  readonly failure?: { readonly code: string; readonly message: string };
  /**
   * The last time the server claimed more spent than the client counted (a streamed
   * `payment-receipt`, or metered units streamed beyond the deposit the client counted).
   * Recorded for a person to see, never booked: money is what the client counted and what
   * its own node confirms refunded.
   */
  readonly disagreement?: SessionDisagreement;
  /**
   * The method's own data, secret-free JSON (the Lightning session id and the return
   * invoice's payment hash and the challenge to echo; the Tempo channel id and last voucher
   * amount). Opaque to the manager and the stores.
   */
  readonly methodData: Readonly<Record<string, unknown>>;
  /**
   * Secret material (the Lightning bearer preimage; never a private key). Stores keep it so a
   * session survives a restart; it never reaches ledger records, events, errors or
   * `payingFetch.sessions.list()` (see {@link publicSession}).
   */
  readonly secret?: Readonly<Record<string, string>>;
}

/** A server's claim of spend above the client's count, as recorded (never booked). */
export interface SessionDisagreement {
  /** `receipt`: a streamed receipt claimed more; `stream`: units streamed past the deposit. */
  readonly source: 'receipt' | 'stream';
  /** What the server claimed (or streamed) for that response, atomic units. */
  readonly claimedAtomic: bigint;
  /** What the client counted for that response, atomic units. */
  readonly countedAtomic: bigint;
  readonly at: number;
}

/** A session as shown outside the manager: the record without its `secret`. */
export type SessionInfo = Omit<SessionRecord, 'secret'>;

/**
 * The record without its secret, frozen: what `payingFetch.sessions.list()`, events and errors
 * may carry.
 *
 * @example
 * ```ts
 * import { publicSession } from '@stipend/client';
 * console.warn(publicSession(record)); // no `secret`
 * ```
 */
export function publicSession(record: SessionRecord): SessionInfo {
  const { secret: _secret, ...rest } = record;
  return Object.freeze({ ...rest, holds: Object.freeze([...rest.holds]) });
}

/**
 * The scope key of a session: at most one live session per origin, realm, method and signer.
 *
 * @example
 * ```ts
 * import { scopeKey } from '@stipend/client';
 * scopeKey('https://api.example.com', 'api.example.com', 'lightning', 'lightning-lnd');
 * ```
 */
export function scopeKey(origin: string, realm: string, method: string, signer: string): string {
  return JSON.stringify([origin, realm, method, signer]);
}

/** What {@link SessionStore.list} filters on (all given fields must match). */
export interface SessionFilter {
  readonly states?: readonly SessionState[];
  readonly origin?: string;
  readonly method?: string;
}

/** Why a `put` did not happen. */
export interface SessionPutConflict {
  readonly ok: false;
  /**
   * The record in the way: the stored version of this session (its version moved on), or
   * another live session of the same scope (a create, or a move back into a live state).
   */
  readonly current: SessionRecord | undefined;
}

/**
 * Where sessions live. A compare-and-set store: `put(record, expectedVersion)` writes only if
 * the stored version is `expectedVersion` (`0` = create: the id must be new), and never lets
 * two live sessions (`LIVE_SESSION_STATES`) share a scope. Implementations: memory (this
 * package, {@link createMemorySessionStore}); file, IndexedDB and Redis in `@stipend/stores`.
 * All pass `describeSessionStoreConformance` (`session/store.conformance.test-helpers.ts`).
 *
 * @example
 * ```ts
 * import { createMemorySessionStore } from '@stipend/client';
 * const store = createMemorySessionStore();
 * const result = await store.put(record, 0); // create
 * if (result.ok) await store.put({ ...result.record, state: 'open' }, result.record.version);
 * ```
 */
export interface SessionStore {
  get(id: string): Promise<SessionRecord | undefined>;
  /** Sessions matching `filter` (all when omitted), oldest first. */
  list(filter?: SessionFilter): Promise<readonly SessionRecord[]>;
  /**
   * Compare-and-set write. `expectedVersion` 0 creates (fails if the id exists); otherwise the
   * stored version must equal it. The stored record gets `version = expectedVersion + 1`
   * (whatever `record.version` says) and is returned. Fails, with the record in the way, when
   * the version moved on or another live session holds the scope.
   */
  put(
    record: SessionRecord,
    expectedVersion: number,
  ): Promise<{ readonly ok: true; readonly record: SessionRecord } | SessionPutConflict>;
  /** The sessions of one origin, realm and method (every signer), oldest first. */
  byScope(origin: string, realm: string, method: string): Promise<readonly SessionRecord[]>;
}

/**
 * One session a 402 offers, read by a {@link SessionMethod}. `offer` is what the policy
 * decides on: its `amount` is the UNIT PRICE (per-request caps apply to it); the deposit is
 * reserved as well (windows apply to it) and capped by the host rule's `maxDeposit`.
 */
export interface SessionOffer {
  /** The priced offer (rail `mpp:<method>.session`, amount = unit price). Frozen. */
  readonly offer: PaymentOffer;
  readonly method: string;
  readonly realm: string;
  /**
   * The deposit fixed by the challenge (a Lightning invoice's amount): the client cannot
   * choose another. Absent when the client chooses (Tempo: `suggestedDeposit` is a hint).
   */
  readonly fixedDeposit?: Amount;
  /** The server's suggested deposit, when it is only a suggestion. */
  readonly suggestedDeposit?: Amount;
  /** The server's idle timeout, ms, when it states one. */
  readonly serverIdleMs?: number;
}

/** What the wallet must pay or sign to open or top up, and how much it locks. */
export interface DepositPlan {
  /** The deposit (atomic units of the session's unit). */
  readonly amount: Amount;
  /** The most the payment may cost on top (a routing-fee cap), reserved with the deposit. */
  readonly maxFee?: Amount;
  /**
   * The offer the wallet pays or signs (frozen): for Lightning, the deposit invoice with
   * `amount` = the deposit; its rail is the session's rail.
   */
  readonly pay: PaymentOffer;
  /** The reference the payment will have, known before paying (the invoice's payment hash). */
  readonly reference?: string;
}

/** What a method needs to open a session (the manager has decided, reserved and journaled). */
export interface OpenContext {
  readonly offer: SessionOffer;
  readonly plan: DepositPlan;
  /** The session as stored (state `opening`), for its id. */
  readonly session: SessionRecord;
  readonly wallet: Wallet;
  readonly pay: PayContext;
}

/** What a method produced for the opening: the credential for the opening request. */
export interface OpenResult {
  /** The headers that carry the open credential (sent on the app's own request). */
  readonly headers: Readonly<Record<string, string>>;
  /** The wallet's proof of the deposit (kept in memory only; its secret never stored). */
  readonly proof: Proof;
  /** The method data of the new session (secret-free JSON). */
  readonly methodData: Readonly<Record<string, unknown>>;
  /** The secret to keep (the bearer preimage). */
  readonly secret?: Readonly<Record<string, string>>;
}

/** What a method needs to top a session up. */
export interface TopUpContext {
  readonly session: SessionRecord;
  /** The fresh challenge that carries the top-up terms (a new deposit invoice). */
  readonly offer: SessionOffer;
  readonly plan: DepositPlan;
  readonly wallet: Wallet;
  readonly pay: PayContext;
}

/** What a method produced for a top-up. */
export interface TopUpResult {
  /** The headers that carry the top-up credential. */
  readonly headers: Readonly<Record<string, string>>;
  readonly proof: Proof;
  /** New method data (merged over the old), e.g. the challenge to echo from now on. */
  readonly methodData?: Readonly<Record<string, unknown>>;
}

/** How a server answered a top-up request. */
export type TopUpAnswer =
  /** Credited; the call must be sent again with a use credential (spec: `{"status":"ok"}`). */
  | { readonly kind: 'credited' }
  /** Credited, and the body is the resource itself (aperture serves it on topUp). */
  | { readonly kind: 'served' }
  /** Refused: what the refusal says. */
  | { readonly kind: 'refused'; readonly refusal: SessionRefusal };

/** What a non-2xx answer to a session call means. */
export type SessionRefusal =
  /** The balance is used up: top up (with the fresh challenge, when the answer carries one). */
  | { readonly kind: 'topup'; readonly offer?: SessionOffer; readonly message: string }
  /** The session is closed or unknown to the server: it is over; open a new one. */
  | { readonly kind: 'closed'; readonly message: string }
  /** The echoed challenge is stale: send again echoing `offer`'s challenge (nothing to pay). */
  | { readonly kind: 'challenge'; readonly offer?: SessionOffer; readonly message: string }
  /** Anything else (the server's words, secret-free). */
  | { readonly kind: 'other'; readonly message: string };

/**
 * What one server-sent event of a streamed session answer means, read by
 * {@link SessionMethod.streamEvent} (events naming another session are not signals).
 */
export type StreamSignal =
  /** One metered unit delivered (a chunk the server bills). */
  | { readonly kind: 'unit' }
  /** The server paused the stream until the session is topped up (`payment-need-topup`). */
  | { readonly kind: 'topup' }
  /** The server gave up waiting for a top-up and ends the stream (`session-timeout`). */
  | { readonly kind: 'timeout' }
  /** The server's statement of what this stream cost (`payment-receipt`): a claim. */
  | { readonly kind: 'receipt'; readonly spentAtomic?: bigint; readonly units?: number };

/** The request that closes a session. */
export interface CloseRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** What the client itself can confirm of the refund (never the server's claim). */
export type RefundCheck =
  /** Its own node received `amount` (Lightning: the return invoice is settled). */
  | { readonly state: 'confirmed'; readonly amount: Amount }
  /** Nothing has arrived yet; it may still come (asked again on reconcile). */
  | { readonly state: 'pending' }
  /** It cannot come any more (the return invoice expired or was cancelled unpaid). */
  | { readonly state: 'none' };

/** A server's statement about a session call (a claim, never used for money). */
export interface SessionReceipt {
  /** The session id it names (MPP `reference`); a receipt with an empty one is discarded. */
  readonly reference: string;
  /** What the server claims was refunded on close, when it says. */
  readonly refundClaim?: Amount;
  /** `succeeded` / `failed` / `skipped` on close, when it says. */
  readonly refundStatus?: string;
  /** The decoded receipt, secrets redacted. */
  readonly raw: unknown;
}

/**
 * A session method: the per-method plug-in the session manager drives. It reads, builds and
 * classifies; it never decides (policy), counts (budget) or stores (store): the manager does.
 * Lightning's is `lightningSessionMethod()` (`protocols/mpp/session/`); Tempo's is beside it.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { lightningSessionMethod } from '@stipend/client/sessions';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [lightningWallet({ backend, network: 'mainnet' })],
 *   sessions: { methods: [lightningSessionMethod()] },
 *   policy: { hosts: { 'api.example.com': { maxDeposit: { usd: '1.00' } } } },
 * });
 * ```
 */
export interface SessionMethod {
  /** The method name in challenges (`lightning`). */
  readonly method: string;
  /** The rail wallets list for it (`mpp:lightning.session`). */
  readonly rail: string;
  /**
   * Reads this method's session challenges of a 402 into offers (frozen), leaving out (with a
   * secret-free reason in `problems`) the ones that fail a check.
   */
  offers(input: ChallengeInput): {
    readonly offers: readonly SessionOffer[];
    readonly problems: readonly string[];
  };
  /**
   * What to pay to open (or top up) under `cap` (the host rule's `maxDeposit` in the offer's
   * unit, when set): a plan, or why not (a deposit fixed above the cap is refused, never
   * "opened smaller"). For a method where the client chooses, open at min(suggested, cap).
   */
  deposit(offer: SessionOffer, cap: Amount | undefined): DepositPlan | string;
  /**
   * Whether `wallet` can run this method's sessions (beyond paying the deposit: Lightning
   * needs the wallet to create and look up its own return invoice). `true` or why not.
   */
  supports(wallet: Wallet): true | string;
  /** Pays (through the wallet) and builds the open credential. */
  open(ctx: OpenContext): Promise<OpenResult>;
  /**
   * The credential headers for one use. `session` already counts this use (`spentAtomic`
   * includes it: a Tempo voucher is cumulative). Fast: it is on every call. A method whose
   * credential is a fresh signature may answer with a promise.
   */
  use(
    session: SessionRecord,
  ): Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
  /** Pays (through the wallet) and builds the top-up credential. */
  topUp(ctx: TopUpContext): Promise<TopUpResult>;
  /** Reads the answer to a top-up request. */
  topUpAnswer(response: Response, session: SessionRecord): Promise<TopUpAnswer>;
  /**
   * The request that closes the session (the credential included; may be signed async), or
   * `undefined` when this session has no credential to close with.
   */
  closeRequest(
    session: SessionRecord,
  ): CloseRequest | undefined | Promise<CloseRequest | undefined>;
  /** What the client can confirm of the refund, by its own wallet (never the server's claim). */
  refund(session: SessionRecord, wallet: Wallet): Promise<RefundCheck>;
  /** Reads a non-2xx answer to a session call (a use, a top-up, a close). */
  refusal(response: Response, input: ChallengeInput | undefined): Promise<SessionRefusal>;
  /**
   * Reads the `Payment-Receipt` of a session call: a claim, discarded when its reference is
   * empty or names another session. `undefined` when absent or discarded.
   */
  receipt(response: Response, session: SessionRecord): SessionReceipt | undefined;
  /**
   * Reads one event of a streamed session answer (`text/event-stream`). Optional: a method
   * without it has its streamed answers counted as one use, unread.
   */
  streamEvent?(
    event: { readonly name: string; readonly data: string },
    session: SessionRecord,
  ): StreamSignal | undefined;
}

/** The `sessions` option of `createPayingFetch`. */
export interface SessionsConfig {
  /** The methods to open sessions with (`lightningSessionMethod()`). None: sessions are off. */
  readonly methods: readonly SessionMethod[];
  /** Where sessions are kept. Default: in memory. Use `@stipend/stores` to share and persist. */
  readonly store?: SessionStore;
  /**
   * Close a session after this long without a use, ms. Default 5 minutes (the spec's
   * recommended server idle timeout), or the server's stated `idleTimeout` when shorter
   * (minus a margin). `0` turns idle closing off (then close with `payingFetch.sessions`).
   */
  readonly idleCloseMs?: number;
  /**
   * Top up on the server's request when the policy allows (each top-up is reserved and
   * decided like an opening). Default `true`; `false` ends the session's use instead.
   */
  readonly topUp?: boolean;
  /** How long to wait for a refund to arrive on the client's node after a close, ms. Default 10 000. */
  readonly refundWaitMs?: number;
}

/** What `payingFetch.sessions` offers. */
export interface SessionsApi {
  /** Sessions (secret-free), all or filtered, oldest first. */
  list(filter?: SessionFilter): Promise<readonly SessionInfo[]>;
  get(id: string): Promise<SessionInfo | undefined>;
  /** Closes one session (refund accounted), or reconciles it when its state is unknown. */
  close(id: string): Promise<SessionInfo>;
  /** Closes every live session of this paying fetch; stops idle timers. */
  closeAll(): Promise<readonly SessionInfo[]>;
  /** Settles unknown and orphaned sessions with the wallets' lookups. */
  reconcile(): Promise<readonly SessionInfo[]>;
}
