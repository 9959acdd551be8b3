/**
 * `createPayingFetch`: a drop-in `fetch` that pays HTTP 402 challenges under a spend policy.
 *
 * The way of one request: prepare once (replayable body) → send → not a challenge: return
 * untouched → every adapter reads the 402 into offers → the policy picks one, reserves its
 * cost and asks a person when it must → a pending spend record is written → the wallet pays
 * → the adapter builds the proof → the same request is sent once more, to the origin that
 * issued the challenge only → commit, release or hold per what the server answered.
 *
 * @module
 */
import { decideApproval, expireApprovals } from '../approvals/pending.js';
import {
  type ApprovalStore,
  createMemoryApprovalStore,
  type PendingApproval,
} from '../approvals/store.js';
import { createMemoryBudgetStore } from '../budget/memory.js';
import type { BudgetStore } from '../budget/store.js';
import { StipendError } from '../errors/base.js';
import { withDeadline } from '../internal/deadline.js';
import { randomId } from '../internal/ids.js';
import { redactUrl } from '../internal/redact.js';
import { createEmitter, type Emitter } from '../ledger/events.js';
import { createMemoryLedger } from '../ledger/memory.js';
import type { Ledger } from '../ledger/record.js';
import type { PriceSource } from '../money/price.js';
import { pegPriceSource } from '../money/price.js';
import type { PaymentOffer } from '../offer.js';
import { createPolicyEngine, type PolicyEngine } from '../policy/engine.js';
import { matchHost } from '../policy/hosts.js';
import type { Approver, Rule, SpendPolicy, Usd } from '../policy/types.js';
import type { ProtocolAdapter, RetryRequest } from '../protocols/adapter.js';
import {
  createMemoryPurchaseJournal,
  type PurchaseJournal,
  type PurchaseRecord,
} from '../purchase/journal.js';
import { createKeyedLock } from '../purchase/lock.js';
import type { PurchaseState } from '../purchase/state.js';
import { type Quote, quote } from '../quote/quote.js';
import { NO_SESSIONS, sessionHooksFor } from '../session/plug.js';
import type { SessionsApi, SessionsConfig } from '../session/types.js';
import type { Wallet } from '../wallet/wallet.js';
import { type PreparedRequest, prepareRequest } from './body.js';
import { sendAndConclude } from './conclude.js';
import { type Core, reported, type Shared } from './core.js';
import { readOffers } from './offers.js';
import { attachCredentialUse } from './outcome.js';
import { installFetch, uninstallFetch } from './polyfill.js';
import { settlePrior } from './prior.js';
import { type Bought, type Call, purchase } from './purchase.js';
import { type ReconcileOptions, type ReconcileResult, reconcileAll } from './reconcile.js';
import { retryHeadersFor } from './redirected.js';
import type { HttpRule } from './transport.js';

/** Options for one call, passed as `init.payment`. They can only tighten the policy. */
export interface PaymentInit {
  /** Tags that select tag rules and budgets (`'research'`, an MCP tool name…). */
  readonly tags?: readonly string[];
  /** A per-call cap in USD (`'0.05'`); tighten-only. */
  readonly maxUsd?: Usd;
  /** A whole extra rule for this call; tighten-only (it is intersected with the policy). */
  readonly rule?: Rule;
  /** One key per logical purchase: pass the same key to resume a purchase without paying twice. */
  readonly idempotencyKey?: string;
  /** `false` returns 402 responses untouched, without paying. */
  readonly pay?: boolean;
  /** The deadline of each request to the seller and of each body read, for this call (ms). */
  readonly timeoutMs?: number;
}

/** `RequestInit` plus the optional `payment` options. */
export type PayingRequestInit = RequestInit & { payment?: PaymentInit };

/** What a child paying fetch may spend: one more rule (tighten-only) and its name. */
export interface ChildLimits extends Rule {
  /** The child's name: its budget scope is `tag:<name>`. Default: `child-<n>`. */
  readonly name?: string;
}

/** Configuration of {@link createPayingFetch}. */
export interface PayingFetchConfig {
  /** Wallets that can pay; the first whose rails and `canPay` accept an offer pays it. */
  readonly wallets: readonly Wallet[];
  /**
   * Protocol adapters. Default: x402, L402 and MPP with their default options. The ones you
   * pass replace the default of their protocol (`x402Adapter({ assets })`,
   * `l402Adapter({ credentials })`…) or add a dialect; the other defaults stay on unless
   * `defaultAdapters: false`.
   */
  readonly adapters?: readonly ProtocolAdapter[];
  /** `false`: use only `adapters` (no default for the protocols they leave out). Default `true`. */
  readonly defaultAdapters?: boolean;
  /**
   * Where purchases are journaled: the lifecycle state of every purchase, shared by this
   * paying fetch and its children. Default: in memory. Use the persistent journals of
   * `@stipend/stores` (file, IndexedDB, Redis) beside the budget store they share, so that
   * idempotency keys and unsettled purchases hold across processes and restarts.
   */
  readonly journal?: PurchaseJournal;
  /** The spend policy. Without one, fail-closed defaults apply ($0.10 per request, $1 per day). */
  readonly policy?: SpendPolicy;
  /** Where budgets are counted. Default: in memory. */
  readonly budget?: BudgetStore;
  /** Prices for converting offers into USD. Default: USD stablecoins and USD at par. */
  readonly prices?: PriceSource;
  /** Asked when the policy says a person must approve. */
  readonly approver?: Approver;
  /** Where spend records go. Default: in memory. */
  readonly ledger?: Ledger;
  /** The fetch to send with. Default: `globalThis.fetch`, resolved at call time. */
  readonly fetch?: typeof fetch;
  /** Tags added to every call. */
  readonly tags?: readonly string[];
  /** Largest stream body kept for the paid retry, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Largest 402 body read, in bytes. Default 64 KiB. */
  readonly maxChallengeBytes?: number;
  /** Plain `http:` payments: `'loopback'` (default) allows only loopback hosts. */
  readonly allowHttp?: HttpRule;
  /** How long a wallet may take before the outcome counts as unknown. Default 60 s. */
  readonly payTimeoutMs?: number;
  /**
   * The deadline of each request to a seller (until its response headers arrive) and of each
   * body Stipend reads (402 terms, receipts), in ms. Default 30 s. Per call:
   * `init.payment.timeoutMs`. When it passes the call ends with a `TIMEOUT` error. Requests
   * carry only your own `signal` (none of Stipend's: that keeps a pass-through as cheap as
   * plain fetch), so a connection that never answers is closed by the HTTP client's own
   * timeouts (undici: 300 s) and an answer that comes later has its body cancelled; pass
   * `signal: AbortSignal.timeout(ms)` to cut connections sooner. Bodies Stipend reads are
   * cancelled at the deadline.
   */
  readonly timeoutMs?: number;
  /**
   * Opt-in: pay the terms a route asked for last time together with the first send, so the
   * steady state is one round trip (adapters that support it: x402). The policy decides
   * exactly as for a 402; if the server still answers 402, the normal flow follows.
   */
  readonly preauthorize?: boolean;
  /**
   * How approvals are asked. `block` (default): the approver is awaited during the call.
   * `pending`: the call answers a synthetic `202 Accepted` describing the approval (id, amount,
   * payee, expiry) with the budget held; `payingFetch.approvals.approve(id)` / `deny(id)` decide,
   * and the next call with the same idempotency key pays if approved and the terms still stand.
   */
  readonly approvals?: {
    readonly mode?: 'block' | 'pending';
    readonly store?: ApprovalStore;
    /** How long a pending approval stays valid. Default 15 minutes. */
    readonly ttlMs?: number;
  };
  /**
   * Where to advertise payable rails (MPP `Accept-Payment`) on every request:
   * `'same-origin'` (the page's own origin; the default in browsers, where another origin
   * would need a CORS preflight), `'never'` (the default outside browsers), or host patterns.
   */
  readonly acceptPayment?: 'same-origin' | 'never' | readonly string[];
  /** The clock (ms since epoch). */
  readonly now?: () => number;
  /**
   * MPP sessions (pay once, call many times): the methods to open them with
   * (`lightningSessionMethod()`), where they are kept, idle closing. Off by default.
   */
  readonly sessions?: SessionsConfig;
}

/** A fetch that pays. Same call signature as `fetch`, plus helpers. */
export interface PayingFetch {
  (input: RequestInfo | URL, init?: PayingRequestInit): Promise<Response>;
  /** The underlying fetch, never paying. */
  readonly rawFetch: typeof fetch;
  /** Subscribes to an event; returns the unsubscribe function. */
  readonly on: Emitter['on'];
  /** Replaces `globalThis.fetch` with this paying fetch (idempotent). */
  polyfill(): void;
  /** Puts the previous `globalThis.fetch` back, unless someone else replaced ours since. */
  restore(): boolean;
  /**
   * Settles what is unsettled in the whole purchase journal (every process sharing it): asks
   * the rail about unknown outcomes and expired live authorizations, settles orphans of
   * crashed processes, redoes failed bookings. `resolve` records a person's decision on a
   * purchase no rail can settle.
   */
  reconcile(options?: ReconcileOptions): Promise<ReconcileResult>;
  /**
   * Asks the seller without paying: the offers of its 402 (protocol, amount, USD cost with
   * fees, payee, expiry), what the policy would decide for each and why, which wallet would
   * pay, and what is left in each budget. A non-402 answer is `free`. Nothing is signed, sent,
   * paid or reserved.
   *
   * @example
   * ```ts
   * const q = await payingFetch.quote('https://api.example.com/report');
   * if (q.kind === 'priced') console.warn(q.decision.outcome, q.offers);
   * ```
   */
  quote(input: RequestInfo | URL, init?: PayingRequestInit): Promise<Quote>;
  /** The purchase journal: what is under way, held, paid but not delivered, or settled. */
  readonly purchases: {
    list(filter?: {
      readonly states?: readonly PurchaseState[];
    }): Promise<readonly PurchaseRecord[]>;
    get(id: string): Promise<PurchaseRecord | undefined>;
  };
  /**
   * A paying fetch for a sub-agent: the same wallets, budget store and ledger, with one more
   * rule that every one of its calls must also satisfy, and its own budget scope. Its spend
   * counts against both budgets; it can only be narrower than this one.
   */
  child(limits: ChildLimits): PayingFetch;
  /** Pending approvals (pending mode): list them and decide. */
  readonly approvals: {
    list(): Promise<readonly PendingApproval[]>;
    approve(id: string): Promise<PendingApproval>;
    deny(id: string): Promise<PendingApproval>;
    /** Releases the budget held by expired approvals; returns how many expired. */
    expire(): Promise<number>;
  };
  readonly ledger: Ledger;
  readonly budget: BudgetStore;
  readonly engine: PolicyEngine;
  /** Open sessions (MPP): list them, close one or all (refunds accounted), reconcile. */
  readonly sessions: SessionsApi;
}

/**
 * Creates a `fetch` that pays HTTP 402 challenges under a spend policy.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [evmWallet({ account })],
 *   policy: {
 *     global: { maxPerRequest: { usd: '0.05' }, limits: [{ usd: '2.00', window: { calendar: 'day' } }] },
 *     hosts: { 'api.example.com': { approveAbove: '0.01' } },
 *   },
 *   approver: async (req) => confirm(`Pay ${req.usdMicros} µUSD to ${req.origin}?`),
 * });
 * const res = await payingFetch('https://api.example.com/report');
 * ```
 */
export function createPayingFetch(config: PayingFetchConfig): PayingFetch {
  const inherited = (config as Inherited)[INHERIT];
  const adapters = inherited?.adapters ?? adaptersOf(config);
  const now = config.now ?? Date.now;
  const budget = config.budget ?? createMemoryBudgetStore();
  let installedOver: typeof fetch | undefined;
  let children = 0;
  const shared: Shared = inherited?.shared ?? {
    journal: config.journal ?? createMemoryPurchaseJournal(),
    locks: createKeyedLock(),
    hands: new Map(),
    inflight: new Map(),
    refusedPreauth: new Set(),
    owner: randomId('p_'),
    orphansChecked: false,
  };
  const core: Core = {
    adapters,
    wallets: config.wallets,
    budget,
    ledger: config.ledger ?? createMemoryLedger(),
    emitter: createEmitter(),
    now,
    send: (input, init) => (config.fetch ?? installedOver ?? globalThis.fetch)(input, init),
    tags: config.tags ?? [],
    maxBodyBytes: config.maxBodyBytes ?? 1024 * 1024,
    maxChallengeBytes: config.maxChallengeBytes ?? 64 * 1024,
    allowHttp: config.allowHttp ?? 'loopback',
    payTimeoutMs: config.payTimeoutMs ?? 60_000,
    timeoutMs: config.timeoutMs ?? 30_000,
    preauthorize: config.preauthorize ?? false,
    approvals: {
      mode: config.approvals?.mode ?? 'block',
      store: config.approvals?.store ?? createMemoryApprovalStore(),
      ttlMs: config.approvals?.ttlMs ?? 15 * 60_000,
    },
    engine: createPolicyEngine({
      policy: config.policy,
      budget,
      prices: config.prices ?? pegPriceSource(),
      approver: config.approver,
      now,
      protocols: adapters.map((adapter) => adapter.protocol),
    }),
    shared,
  };
  const sessions = sessionHooksFor(core, config.sessions);
  const usesCredentials = adapters.some((adapter) => adapter.heldCredential);
  const advertise = acceptPaymentRule(config, adapters, core.engine.policy.prefer);
  const usesPreauthorization =
    core.preauthorize && adapters.some((adapter) => adapter.preauthorize);

  const payingFetch = (async (input: RequestInfo | URL, init?: PayingRequestInit) => {
    let prepared = await prepareRequest(input, init, core.maxBodyBytes);
    if (advertise) prepared = advertise(prepared);
    return run(callOf(prepared, init?.payment), 0);
  }) as PayingFetch;

  /** One call's view of its options; its purchase key is decided once. */
  function callOf(prepared: PreparedRequest, options: PaymentInit = {}): Call {
    return new CallView(
      prepared,
      options.idempotencyKey,
      options.tags ? [...core.tags, ...options.tags] : core.tags,
      callRule(options),
      options.timeoutMs ?? core.timeoutMs,
      options.pay !== false,
    );
  }

  /** One attempt at the request; `waits` counts the other calls' purchases it waited for. */
  async function run(call: Call, waits: number): Promise<Response> {
    const { prepared } = call;
    if (call.mayPay && sessions) {
      const held = await sessions.attach(
        sessions.callOf(prepared, call, (i, o) => send(call, i, o)),
      );
      if (held?.kind === 'response') return held.response;
      if (held) return handleChallenge(call, held.response, waits);
    }
    if (call.mayPay && usesCredentials) {
      const view = retryRequest(call);
      for (const adapter of adapters) {
        const credential = adapter.heldCredential?.(view, now());
        if (!credential) continue;
        const response = await send(call, prepared.url, withHeaders(prepared, credential.headers));
        if (response.status !== 402) {
          return attachCredentialUse(response, {
            protocol: adapter.protocol,
            reference: credential.reference,
          });
        }
        // Refused where it answered: the adapter keeps it unless its own scope refused it.
        adapter.dropCredential?.(credential, new URL(response.url || prepared.url, pageHref()));
        return handleChallenge(call, response, waits);
      }
    }
    if (call.mayPay && usesPreauthorization && prepared.replayable) {
      const early = await exclusively(call, () => preauthorized(call));
      if (early) return early;
    }
    const response = await send(call, prepared.firstInput, prepared.firstInit);
    if (response.status !== 402 && response.status !== 412) return response;
    if (!call.mayPay) return response;
    if (sessions && response.status === 402) {
      const opened = await sessions.challenge(
        sessions.callOf(prepared, call, (i, o) => send(call, i, o)),
        response,
      );
      if (opened?.kind === 'response') return opened.response;
      if (opened) return handleChallenge(call, opened.response, waits);
    }
    return handleChallenge(call, response, waits);
  }

  /**
   * A request to the seller, with the call's deadline until its response headers arrive. The
   * first send carries only the caller's own signal (no `AbortSignal` of ours: one costs more
   * than the rest of a pass-through); when the deadline passes the call ends with `TIMEOUT` and
   * a late response's body is cancelled, which lets its connection go.
   */
  function send(call: Call, input: RequestInfo | URL, init: RequestInit | undefined) {
    const parent = init?.signal ?? call.prepared.init.signal ?? undefined;
    return withDeadline(
      () => core.send(input, init),
      call.timeoutMs,
      () => `The server at ${originOf(call.prepared.url)}`,
      parent,
    );
  }

  /**
   * Pre-authorization: pays remembered terms with the first send. Returns the response when
   * that settled the call, `undefined` to go on with the normal flow (nothing was paid). A
   * refused pre-paid proof that can still move money ends the call: a purchase never has two
   * live authorizations.
   */
  async function preauthorized(call: Call): Promise<Response | undefined> {
    const retry = retryRequest(call);
    for (const adapter of adapters) {
      const offers = adapter
        .preauthorize?.(retry, now())
        ?.filter((offer) => !shared.refusedPreauth.has(offer.id));
      if (!offers || offers.length === 0) continue;
      const prior = await settlePrior(core, call, (bought) => deliver(call, bought));
      if (prior) return prior;
      let bought: Awaited<ReturnType<typeof purchase>>;
      try {
        bought = await purchase(core, { call, retry, offers });
      } catch (error) {
        // Refused before any money (policy, approval): ask the server as usual.
        if ((error as { paid?: unknown }).paid === false || !('paid' in (error as object)))
          return undefined;
        throw error;
      }
      // A pre-authorization that needs a person is not pre-paid: ask the server as usual.
      if ('awaiting' in bought) return undefined;
      const concluded = await sendAndConclude(core, bought, call);
      if (concluded.outcome.status !== 'paid') rememberRefused(bought.hands.offer.id);
      if (concluded.nothingMoved && concluded.response.status === 402) {
        return handleChallenge(call, concluded.response, MAX_WAITS, true);
      }
      // Refused while it can still move money: no second authorization in this call.
      return concluded.response;
    }
    return undefined;
  }

  function rememberRefused(offerId: string): void {
    shared.refusedPreauth.add(offerId);
    if (shared.refusedPreauth.size > 1000) {
      shared.refusedPreauth.delete(shared.refusedPreauth.values().next().value!);
    }
  }

  async function handleChallenge(
    call: Call,
    response: Response,
    waits: number,
    locked = false,
  ): Promise<Response> {
    const { prepared } = call;
    const read = await readOffers(core, response, prepared.url, prepared.method, {
      prepared,
      deadlineMs: call.timeoutMs,
      ...(prepared.init.signal ? { signal: prepared.init.signal } : {}),
    });
    if (!read) return response;
    // The 402 is never returned from here on: let its connection go.
    response.body?.cancel().catch(() => {});
    const { input, offers } = read;
    // The 402 may come from another origin than the one called (a redirect): the paid retry
    // carries only what fetch itself sent there, or nothing is paid.
    const allowed = retryHeadersFor(
      urlOfCall(call),
      input.url,
      new Headers(prepared.init.headers),
      prepared.method,
      response.redirected,
    );
    if (!allowed.ok) throw reported(core, redactUrl(input.url), allowed.error);

    // Single flight: one purchase per reusable credential; the others wait and reuse it.
    const keys = reuseKeys(offers);
    if (keys.length > 0 && waits < MAX_WAITS && prepared.replayable && !locked) {
      const waiting = keys
        .map((key) => shared.inflight.get(key))
        .find((promise) => promise !== undefined);
      if (waiting) {
        await waiting;
        return run(call, waits + 1);
      }
      // Our 402 may have crossed a purchase that has just finished: if a credential is held
      // now, use it instead of buying another.
      const view = retryRequest(call);
      if (adapters.some((adapter) => adapter.heldCredential?.(view, now()))) {
        return run(call, waits + 1);
      }
    }
    let done = () => {};
    if (keys.length > 0) {
      const flight = new Promise<void>((resolve) => {
        done = resolve;
      });
      for (const key of keys) if (!shared.inflight.has(key)) shared.inflight.set(key, flight);
      const finish = done;
      done = () => {
        for (const key of keys)
          if (shared.inflight.get(key) === flight) shared.inflight.delete(key);
        finish();
      };
    }
    try {
      const buy = async () => {
        const retry = retryRequest(call, input.url, allowed.headers);
        const prior = await settlePrior(core, call, (bought) => deliver(call, bought));
        if (prior) return prior;
        const bought = await purchase(core, { call, retry, offers });
        if ('awaiting' in bought) return bought.awaiting;
        return (await sendAndConclude(core, bought, call)).response;
      };
      return locked ? await buy() : await exclusively(call, buy);
    } finally {
      done();
    }
  }

  /** Sends a purchase paid but not delivered with its stored proof. */
  async function deliver(call: Call, bought: Bought): Promise<Response> {
    return (await sendAndConclude(core, bought, call)).response;
  }

  /**
   * Runs `work` holding the call's purchase lock: one purchase at a time per idempotency key
   * across this paying fetch and all its children. Orphans of crashed processes sharing the
   * journal are settled once, before the first purchase.
   */
  async function exclusively<T>(call: Call, work: () => Promise<T>): Promise<T> {
    if (!shared.orphansChecked) {
      shared.orphansChecked = true;
      await reconcileAll(core).catch(() => {});
    }
    if (!call.exclusive) return work();
    const release = await shared.locks.acquire(call.key);
    try {
      return await work();
    } finally {
      release();
    }
  }

  function reuseKeys(offers: readonly PaymentOffer[]): string[] {
    const keys: string[] = [];
    for (const offer of offers) {
      if (!offer.reusable) continue;
      const key = adapters
        .find((adapter) => adapter.protocol === offer.protocol)
        ?.reuseKey?.(offer);
      if (key) keys.push(key);
    }
    return keys;
  }

  Object.defineProperties(payingFetch, {
    rawFetch: { value: core.send, enumerable: true },
    on: { value: core.emitter.on, enumerable: true },
    ledger: { value: core.ledger, enumerable: true },
    budget: { value: budget, enumerable: true },
    engine: { value: core.engine, enumerable: true },
    sessions: { value: sessions?.api ?? NO_SESSIONS, enumerable: true },
    polyfill: {
      value: () => {
        const previous = installFetch(payingFetch);
        if (previous) installedOver = previous;
      },
    },
    restore: {
      value: () => {
        const restored = uninstallFetch(payingFetch);
        if (restored) installedOver = undefined;
        return restored;
      },
    },
    reconcile: { value: (options?: ReconcileOptions) => reconcileAll(core, options) },
    quote: {
      value: async (input: RequestInfo | URL, init?: PayingRequestInit) => {
        let prepared = await prepareRequest(input, init, core.maxBodyBytes);
        if (advertise) prepared = advertise(prepared);
        const call = callOf(prepared, init?.payment);
        return quote(core, call, await send(call, prepared.firstInput, prepared.firstInit));
      },
    },
    purchases: {
      enumerable: true,
      value: Object.freeze({
        list: (filter?: { readonly states?: readonly PurchaseState[] }) =>
          shared.journal.list(filter),
        get: (id: string) => shared.journal.get(id),
      }),
    },
    approvals: {
      enumerable: true,
      value: Object.freeze({
        list: async () => {
          await expireApprovals(core.approvals.store, budget, now());
          return core.approvals.store.list();
        },
        approve: (id: string) =>
          decideApproval(core.approvals.store, budget, id, 'approved', now()),
        deny: (id: string) => decideApproval(core.approvals.store, budget, id, 'denied', now()),
        expire: () => expireApprovals(core.approvals.store, budget, now()),
      }),
    },
    child: {
      value: (limits: ChildLimits) => {
        const { name, ...rule } = limits;
        const tag = name ?? `child-${++children}`;
        const policy = core.engine.policy.policy;
        if (policy.tags?.[tag]) {
          throw new StipendError(
            'POLICY_INVALID',
            `A rule for tag "${tag}" exists already; give the child another name.`,
          );
        }
        // The child shares everything that decides whether money may move: the journal, the
        // locks, purchases under way, the adapters (held credentials), the approval store.
        const childConfig: PayingFetchConfig & Inherited = {
          ...config,
          policy: { ...policy, tags: { ...policy.tags, [tag]: rule } },
          budget,
          ledger: core.ledger,
          tags: [...core.tags, tag],
          fetch: core.send,
          approvals: { ...config.approvals, store: core.approvals.store },
          [INHERIT]: { shared, adapters },
        };
        return createPayingFetch(childConfig);
      },
    },
  });
  return payingFetch;
}

/** How a child receives its parent's shared state (not part of the public config). */
const INHERIT = Symbol('stipend.inherit');
interface Inherited {
  readonly [INHERIT]?: { readonly shared: Shared; readonly adapters: readonly ProtocolAdapter[] };
}

/**
 * The adapters in force: the given ones, plus the defaults of the protocols they leave out.
 * The defaults come from the entry that created this paying fetch: `@stipend/client` brings
 * x402, L402 and MPP (`drop-in.ts`); `@stipend/client/core` brings none, so an app ships only
 * the protocols it imports.
 */
function adaptersOf(config: PayingFetchConfig): readonly ProtocolAdapter[] {
  const given = config.adapters ?? [];
  const defaults = (config as WithDefaults)[DEFAULT_ADAPTERS];
  if (config.defaultAdapters === false || !defaults) return given;
  const named = new Set(given.map((adapter) => adapter.protocol));
  return [...given, ...defaults().filter((adapter) => !named.has(adapter.protocol))];
}

/**
 * How an entry gives its default adapters (not part of the public config): the drop-in
 * `@stipend/client` sets it; the core entry does not, so it imports no adapter.
 */
export const DEFAULT_ADAPTERS: unique symbol = Symbol('stipend.defaultAdapters');
/** A config with the entry's default adapters. */
export interface WithDefaults {
  readonly [DEFAULT_ADAPTERS]?: () => readonly ProtocolAdapter[];
}

/**
 * Builds the step that adds the adapters' `acceptHeaders` to requests the rule allows, or
 * `undefined` when nothing is ever advertised (the common case costs nothing).
 */
function acceptPaymentRule(
  config: PayingFetchConfig,
  adapters: readonly ProtocolAdapter[],
  prefer: readonly string[],
): ((prepared: PreparedRequest) => PreparedRequest) | undefined {
  const page = (globalThis as { location?: { origin?: string } }).location?.origin;
  const rule = config.acceptPayment ?? (page ? 'same-origin' : 'never');
  if (rule === 'never' || (Array.isArray(rule) && rule.length === 0)) return undefined;
  const rails = [...new Set(config.wallets.flatMap((wallet) => wallet.rails))];
  const headers: Record<string, string> = {};
  for (const adapter of adapters) Object.assign(headers, adapter.acceptHeaders?.(rails, prefer));
  if (Object.keys(headers).length === 0) return undefined;
  const allowed = (url: URL) =>
    rule === 'same-origin'
      ? url.origin === page
      : (rule as readonly string[]).some((pattern) => matchHost(pattern, url.hostname));
  return (prepared) => {
    if (!allowed(absoluteUrl(prepared.url))) return prepared;
    const init = withHeaders(prepared, headers);
    const withAccept = new Headers(prepared.init.headers);
    for (const [name, value] of Object.entries(headers)) withAccept.set(name, value);
    return {
      ...prepared,
      firstInput: prepared.url,
      firstInit: init,
      init: { ...prepared.init, headers: withAccept },
    };
  };
}

/** How many other calls' purchases one call waits for before it pays for itself. */
const MAX_WAITS = 3;

/**
 * A call (see `Call`). A class, not an object literal with getters: one is made per request,
 * and its purchase key and idempotency key are made only once a payment needs them.
 */
class CallView implements Call {
  private scope: string | undefined;
  /** This call's own idempotency key when the caller gave none (never shared between calls). */
  ownKey: string | undefined;
  readonly exclusive: boolean;

  constructor(
    readonly prepared: PreparedRequest,
    private readonly callerKey: string | undefined,
    readonly tags: readonly string[],
    readonly override: Call['override'],
    readonly timeoutMs: number,
    readonly mayPay: boolean,
  ) {
    this.exclusive = callerKey !== undefined;
  }

  private absoluteUrl: URL | undefined;

  /** The caller's key, else `METHOD url` (query tagged). */
  get key(): string {
    this.scope ??= this.callerKey ?? `${this.prepared.method} ${redactUrl(this.url)}`;
    return this.scope;
  }

  /** The request's absolute URL, parsed once. */
  get url(): URL {
    this.absoluteUrl ??= absoluteUrl(this.prepared.url);
    return this.absoluteUrl;
  }
}

/** A call's absolute URL (parsed once per call). */
function urlOfCall(call: Call): URL {
  return call instanceof CallView ? call.url : absoluteUrl(call.prepared.url);
}

/**
 * The request as adapters and the paid retry see it. Its idempotency key is the caller's, or
 * one made for this call (the same across this call's retries, never shared with another).
 * `headers` are what the retry may carry to `issuer` (see `retryHeadersFor`); without them
 * they are made from the caller's on first read (every request is looked at for held
 * credentials, but only a payment needs these).
 */
class RetryView implements RetryRequest {
  readonly method: string;
  readonly url: URL;

  constructor(
    private readonly call: Call,
    issuer: URL | undefined,
    private view: Headers | undefined,
  ) {
    this.method = call.prepared.method;
    // Its own URL object: adapters get it, and the call's parsed URL (its purchase key, the
    // redirect rules) must not change if one of them writes to it.
    this.url = issuer ?? absoluteUrl(call.prepared.url);
  }

  get headers(): Headers {
    this.view ??= new Headers(this.call.prepared.init.headers);
    return this.view;
  }

  get idempotencyKey(): string {
    const call = this.call as CallView;
    if (call.exclusive) return call.key;
    // Sent to sellers and wallets (Stripe idempotency, EVM nonce derivation): unguessable.
    call.ownKey ??= randomId('k_');
    return call.ownKey;
  }
}

function retryRequest(call: Call, issuer?: URL, headers?: Headers): RetryRequest {
  return new RetryView(call, issuer, headers);
}

function pageHref(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

/** Resolves a relative URL against the page (browsers); absolute URLs pass as they are. */
function absoluteUrl(url: string): URL {
  return new URL(url, pageHref());
}

function originOf(url: string): string {
  try {
    return absoluteUrl(url).origin;
  } catch {
    return 'the seller';
  }
}

/** The first send with extra headers (a held credential). */
function withHeaders(
  prepared: PreparedRequest,
  extra: Readonly<Record<string, string>>,
): RequestInit {
  const init = prepared.firstInit ?? prepared.init;
  const headers = new Headers(init.headers ?? prepared.init.headers);
  for (const [name, value] of Object.entries(extra)) headers.set(name, value);
  return { ...init, headers };
}

function callRule(options: PaymentInit): Rule | undefined {
  if (options.rule === undefined && options.maxUsd === undefined) return undefined;
  const rule = options.rule ?? {};
  if (options.maxUsd === undefined) return rule;
  return { ...rule, maxPerRequest: { ...rule.maxPerRequest, usd: options.maxUsd } };
}
