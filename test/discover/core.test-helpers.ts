/**
 * A paying fetch's `Core` for quoting against real peers, until `payingFetch.quote` is wired:
 * the parts `createPayingFetch` builds, with real adapters and wallets, and a fetch that
 * records every request that leaves the client.
 */
import {
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemoryPurchaseJournal,
  type PriceSource,
  type ProtocolAdapter,
  pegPriceSource,
  type SpendPolicy,
  type Wallet,
} from '@stipend/client';
// Not exported from @stipend/client's index (the request flow's internals); the source is used.
import { prepareRequest } from '../../packages/client/src/fetch/body.js';
import type { Core } from '../../packages/client/src/fetch/core.js';
import type { Call } from '../../packages/client/src/fetch/purchase.js';
import { withDeadline } from '../../packages/client/src/internal/deadline.js';
import { createEmitter } from '../../packages/client/src/ledger/events.js';
import { createPolicyEngine } from '../../packages/client/src/policy/engine.js';
import { createKeyedLock } from '../../packages/client/src/purchase/lock.js';
import { quote } from '../../packages/client/src/quote/quote.js';

export interface Sent {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
}

/** What a quote touched: requests sent, budget reservations, records, purchases. */
export function quoting(options: {
  adapters: readonly ProtocolAdapter[];
  wallets: readonly Wallet[];
  policy: SpendPolicy;
  prices?: PriceSource;
}) {
  const sent: Sent[] = [];
  const budget = createMemoryBudgetStore();
  const reservations: string[] = [];
  const counted = {
    ...budget,
    reserve: (request: Parameters<typeof budget.reserve>[0]) => {
      reservations.push(request.id);
      return budget.reserve(request);
    },
    usage: budget.usage.bind(budget),
  } as typeof budget;
  const ledger = createMemoryLedger();
  const journal = createMemoryPurchaseJournal();
  const send: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push({ url: request.url, method: request.method, headers: new Headers(request.headers) });
    return fetch(input, init);
  };
  const core: Core = {
    adapters: options.adapters,
    wallets: options.wallets,
    budget: counted,
    ledger,
    emitter: createEmitter(),
    now: Date.now,
    send,
    tags: [],
    maxBodyBytes: 1024 * 1024,
    maxChallengeBytes: 64 * 1024,
    allowHttp: 'loopback',
    payTimeoutMs: 30_000,
    timeoutMs: 10_000,
    preauthorize: false,
    approvals: { mode: 'block', store: undefined as never, ttlMs: 60_000 },
    engine: createPolicyEngine({
      policy: options.policy,
      budget: counted,
      prices: options.prices ?? pegPriceSource(),
      protocols: options.adapters.map((adapter) => adapter.protocol),
    }),
    shared: {
      journal,
      locks: createKeyedLock(),
      hands: new Map(),
      inflight: new Map(),
      refusedPreauth: new Set(),
      owner: 'p_quote',
      orphansChecked: true,
    },
  };
  /** `payingFetch.quote(url, init)` as the lead wires it: an unpaid send, then `quote`. */
  async function quoteOf(url: string, init: RequestInit = {}) {
    const prepared = await prepareRequest(url, init, core.maxBodyBytes);
    const call: Call = {
      prepared,
      key: `${prepared.method} ${prepared.url}`,
      exclusive: false,
      tags: [],
      override: undefined,
      timeoutMs: core.timeoutMs,
      mayPay: true,
    };
    const response = await withDeadline(
      ({ signal }) => core.send(prepared.firstInput, { ...prepared.firstInit, signal }),
      call.timeoutMs,
      'The seller',
    );
    return quote(core, call, response);
  }
  /** Payment credentials that left the client. */
  const credentialsSent = () =>
    sent.filter((request) =>
      ['authorization', 'payment-authorization', 'payment-signature', 'x-payment'].some((name) => {
        const value = request.headers.get(name);
        return value !== null && !/^Bearer /.test(value);
      }),
    );
  return { core, quoteOf, sent, reservations, ledger, journal, credentialsSent };
}
