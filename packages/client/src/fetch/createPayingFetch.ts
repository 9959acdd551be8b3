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
import { PaymentFailedError } from '../errors/payment.js';
import { randomId } from '../internal/ids.js';
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
import { l402Adapter } from '../protocols/l402/adapter.js';
import { mppAdapter } from '../protocols/mpp/adapter.js';
import { x402Adapter } from '../protocols/x402/adapter.js';
import type { Wallet } from '../wallet/wallet.js';
import { type PreparedRequest, prepareRequest } from './body.js';
import { sendAndConclude } from './conclude.js';
import { type Core, reported } from './core.js';
import { readOffers } from './offers.js';
import { attachCredentialUse } from './outcome.js';
import { installFetch, uninstallFetch } from './polyfill.js';
import { type Purchase, purchase } from './purchase.js';
import { reconcileExpired } from './reconcile.js';
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
   * Protocol adapters. Default: x402, L402 and MPP with their default options. Pass your own
   * list to configure them (`x402Adapter({ assets })`, `l402Adapter({ credentials })`…) or to
   * add a dialect.
   */
  readonly adapters?: readonly ProtocolAdapter[];
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
  /** Asks the wallets about held payments whose authorization has expired. */
  reconcile(): Promise<{ committed: number; released: number; pending: number }>;
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
  const adapters = config.adapters ?? defaultAdapters();
  const now = config.now ?? Date.now;
  const budget = config.budget ?? createMemoryBudgetStore();
  let installedOver: typeof fetch | undefined;
  let children = 0;
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
    held: new Map(),
    inflight: new Map(),
    purchasing: new Map(),
    paidKeys: new Set(),
  };
  const usesCredentials = adapters.some((adapter) => adapter.heldCredential);
  const advertise = acceptPaymentRule(config, adapters, core.engine.policy.prefer);
  const usesPreauthorization =
    core.preauthorize && adapters.some((adapter) => adapter.preauthorize);

  const payingFetch = (async (input: RequestInfo | URL, init?: PayingRequestInit) => {
    const prepared = await prepareRequest(input, init, core.maxBodyBytes);
    // A fresh object per call: it carries the call's idempotency key once one is needed.
    return run(prepared, { ...init?.payment }, 0);
  }) as PayingFetch;

  /** One attempt at the request; `waits` counts the other calls' purchases it waited for. */
  async function run(
    prepared: PreparedRequest,
    options: PaymentInit,
    waits: number,
  ): Promise<Response> {
    if (advertise) prepared = advertise(prepared);
    const mayPay = options.pay !== false;
    if (mayPay && (usesCredentials || usesPreauthorization)) {
      const retry = retryRequest(prepared, options);
      if (usesCredentials) {
        for (const adapter of adapters) {
          const credential = adapter.heldCredential?.(retry, now());
          if (!credential) continue;
          const response = await core.send(prepared.url, withHeaders(prepared, credential.headers));
          if (response.status !== 402) {
            return attachCredentialUse(response, {
              protocol: adapter.protocol,
              reference: credential.reference,
            });
          }
          // The credential was refused: forget it; the new challenge is a new decision.
          adapter.dropCredential?.(credential);
          return handleChallenge(prepared, options, response, waits);
        }
      }
      if (usesPreauthorization && prepared.replayable) {
        const early = await preauthorized(prepared, options, retry);
        if (early) return early;
      }
    }
    const response = await core.send(prepared.firstInput, prepared.firstInit);
    if (response.status !== 402 && response.status !== 412) return response;
    if (!mayPay) return response;
    return handleChallenge(prepared, options, response, waits);
  }

  /**
   * Pre-authorization: pays remembered terms with the first send. Returns the response when
   * that settled the call, `undefined` to go on with the normal flow (nothing was paid, or the
   * proof was refused and provably nothing moved).
   */
  async function preauthorized(
    prepared: PreparedRequest,
    options: PaymentInit,
    retry: RetryRequest,
  ): Promise<Response | undefined> {
    for (const adapter of adapters) {
      const offers = adapter.preauthorize?.(retry, now());
      if (!offers || offers.length === 0) continue;
      let bought: Purchase;
      try {
        const outcome = await purchase(core, {
          prepared,
          retry,
          purchaseKey: purchaseKeyOf(options, retry),
          offers,
          tags: tagsOf(options),
          override: callRule(options),
        });
        // A pre-authorization that needs a person is not pre-paid: ask the server as usual.
        if ('awaiting' in outcome) return undefined;
        bought = outcome;
      } catch (error) {
        // Refused before any money (policy, approval): fall back to asking the server.
        if (error instanceof PaymentFailedError && error.paid !== false) throw error;
        return undefined;
      }
      const concluded = await sendAndConclude(core, bought, prepared);
      if (concluded.nothingMoved && concluded.response.status === 402) {
        return handleChallenge(prepared, options, concluded.response, MAX_WAITS);
      }
      return concluded.response;
    }
    return undefined;
  }

  async function handleChallenge(
    prepared: PreparedRequest,
    options: PaymentInit,
    response: Response,
    waits: number,
  ): Promise<Response> {
    const read = await readOffers(core, response, prepared.url, prepared.method);
    if (!read) return response;
    const { input, offers } = read;

    // Single flight: one purchase per reusable credential; the others wait and reuse it.
    const keys = reuseKeys(offers);
    if (keys.length > 0 && waits < MAX_WAITS && prepared.replayable) {
      const waiting = keys
        .map((key) => core.inflight.get(key))
        .find((promise) => promise !== undefined);
      if (waiting) {
        await waiting;
        return run(prepared, options, waits + 1);
      }
      // Our 402 may have crossed a purchase that has just finished: if a credential is held
      // now, use it instead of buying another. (A credential this call sent was dropped.)
      const view = retryRequest(prepared, options);
      if (adapters.some((adapter) => adapter.heldCredential?.(view, now()))) {
        return run(prepared, options, waits + 1);
      }
    }
    let done = () => {};
    if (keys.length > 0) {
      const flight = new Promise<void>((resolve) => {
        done = resolve;
      });
      for (const key of keys) if (!core.inflight.has(key)) core.inflight.set(key, flight);
      const finish = done;
      done = () => {
        for (const key of keys) if (core.inflight.get(key) === flight) core.inflight.delete(key);
        finish();
      };
    }
    const exclusive = await oneAtATime(options.idempotencyKey, input.url.href);
    try {
      const retry = retryRequest(prepared, options, input.url);
      const bought = await purchase(core, {
        prepared,
        retry,
        purchaseKey: purchaseKeyOf(options, retry),
        offers,
        tags: tagsOf(options),
        override: callRule(options),
      });
      if ('awaiting' in bought) return bought.awaiting;
      return (await sendAndConclude(core, bought, prepared)).response;
    } finally {
      exclusive();
      done();
    }
  }

  /**
   * With a caller-supplied idempotency key, one purchase at a time: a concurrent call waits
   * for the first to end, and a key already paid is never paid again (`ALREADY_PAID`).
   * Returns the function that lets the next one in.
   */
  async function oneAtATime(key: string | undefined, url: string): Promise<() => void> {
    if (key === undefined) return () => {};
    for (let busy = core.purchasing.get(key); busy; busy = core.purchasing.get(key)) await busy;
    if (core.paidKeys.has(key)) {
      throw reported(
        core,
        url,
        new PaymentFailedError({
          code: 'ALREADY_PAID',
          reason: 'already_paid',
          paid: true,
          message: `The purchase with idempotency key "${key}" was already paid; it is not paid again. Use a new key for a new purchase.`,
          resume: { idempotencyKey: key },
        }),
      );
    }
    let release = () => {};
    core.purchasing.set(key, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      core.purchasing.delete(key);
      release();
    };
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

  function tagsOf(options: PaymentInit): readonly string[] {
    return options.tags ? [...core.tags, ...options.tags] : core.tags;
  }

  Object.defineProperties(payingFetch, {
    rawFetch: { value: core.send, enumerable: true },
    on: { value: core.emitter.on, enumerable: true },
    ledger: { value: core.ledger, enumerable: true },
    budget: { value: budget, enumerable: true },
    engine: { value: core.engine, enumerable: true },
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
    reconcile: { value: () => reconcileExpired(core) },
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
        return createPayingFetch({
          ...config,
          policy: { ...policy, tags: { ...policy.tags, [tag]: rule } },
          budget,
          ledger: core.ledger,
          tags: [...core.tags, tag],
          fetch: core.send,
        });
      },
    },
  });
  return payingFetch;
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

/** x402, L402 and MPP, each with its default options (a new instance per paying fetch). */
function defaultAdapters(): ProtocolAdapter[] {
  return [x402Adapter(), l402Adapter(), mppAdapter()];
}

/** How many other calls' purchases one call waits for before it pays for itself. */
const MAX_WAITS = 3;

/** A call's options, with the idempotency key it gets once one is needed. */
type CallOptions = PaymentInit & { callKey?: string };

/**
 * The request as adapters and the paid retry see it. Its idempotency key is the caller's, or
 * one made for this call (the same across this call's retries, never shared with another).
 */
function retryRequest(prepared: PreparedRequest, options: CallOptions, issuer?: URL): RetryRequest {
  const url = issuer ?? absoluteUrl(prepared.url);
  let headers: Headers | undefined;
  // Lazy: every request is looked at for held credentials, but only a payment needs these.
  return {
    method: prepared.method,
    url,
    get headers() {
      headers ??= new Headers(prepared.init.headers);
      return headers;
    },
    get idempotencyKey() {
      options.callKey ??= options.idempotencyKey ?? randomId('k_');
      return options.callKey;
    },
  };
}

/** What held outcomes and pending approvals are scoped to: the caller's key, else `METHOD url`. */
function purchaseKeyOf(options: PaymentInit, retry: RetryRequest): string {
  return options.idempotencyKey ?? `${retry.method} ${retry.url.href}`;
}

/** Resolves a relative URL against the page (browsers); absolute URLs pass as they are. */
function absoluteUrl(url: string): URL {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(url, page);
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
