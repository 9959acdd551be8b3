/**
 * A `Core` and a `Call` for quote tests, in front of the `stipend-test` stand-in rail: the same
 * parts `createPayingFetch` builds, so what a quote touches can be counted (rail payments,
 * wallet calls, budget reservations, ledger records, journal entries).
 */
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  type TestRoute,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { createMemoryBudgetStore } from '../budget/memory.js';
import type { BudgetStore } from '../budget/store.js';
import { prepareRequest } from '../fetch/body.js';
import type { Core } from '../fetch/core.js';
import type { Call } from '../fetch/purchase.js';
import { createEmitter } from '../ledger/events.js';
import { createMemoryLedger } from '../ledger/memory.js';
import { pegPriceSource } from '../money/price.js';
import type { Unit } from '../money/unit.js';
import { createPolicyEngine } from '../policy/engine.js';
import type { Approver, SpendPolicy } from '../policy/types.js';
import { createMemoryPurchaseJournal } from '../purchase/journal.js';
import { createKeyedLock } from '../purchase/lock.js';
import type { Wallet } from '../wallet/wallet.js';

export const ORIGIN = 'https://api.example.com';

/** A USDC offer (6 decimals: 1 atomic unit = 1 µUSD). */
export const usdc = (atomic: bigint, extra: Partial<TestRoute['offers'][number]> = {}) => ({
  amount: atomic,
  unit: TEST_USDC,
  ...extra,
});

/** USDC on another network: same price, another unit (to have two rails' worth of offers). */
export const OTHER_USDC: Unit = Object.freeze({
  kind: 'token',
  network: 'eip155:10',
  asset: '0x0b2c639c533813f4aa9d7837caf62653d097ff85',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
});

export const DEFAULT_POLICY: SpendPolicy = {
  global: { maxPerRequest: { usd: '1.00' }, limits: [{ usd: '10', window: { calendar: 'day' } }] },
};

/** Everything a quote could touch, built as `createPayingFetch` builds it. */
export function quoteSetup(
  routes: Record<string, TestRoute>,
  options: {
    policy?: SpendPolicy;
    wallets?: (rail: ReturnType<typeof createTestRail>) => Wallet[];
    budget?: BudgetStore;
    adapters?: Core['adapters'];
    approver?: Approver;
  } = {},
) {
  const rail = createTestRail();
  const paywall = createTestPaywall({ rail, routes });
  const wallet = testWallet({ rail });
  const wallets = options.wallets?.(rail) ?? [wallet];
  const budget = options.budget ?? createMemoryBudgetStore();
  const ledger = createMemoryLedger();
  const journal = createMemoryPurchaseJournal();
  const reservations: string[] = [];
  const counted: BudgetStore = {
    ...budget,
    reserve: (request) => {
      reservations.push(request.id);
      return budget.reserve(request);
    },
    usage: (limit, now) => budget.usage(limit, now),
    commit: (id, value) => budget.commit(id, value),
    release: (id) => budget.release(id),
    get: (id) => budget.get(id),
    expired: (now) => budget.expired(now),
  };
  const adapter = testAdapter();
  const adapters = options.adapters ?? [adapter];
  const core: Core = {
    adapters,
    wallets,
    budget: counted,
    ledger,
    emitter: createEmitter(),
    now: Date.now,
    send: (input, init) => paywall(new Request(input as RequestInfo, init)),
    tags: [],
    maxBodyBytes: 1024 * 1024,
    maxChallengeBytes: 64 * 1024,
    allowHttp: 'loopback',
    payTimeoutMs: 5_000,
    timeoutMs: 5_000,
    preauthorize: false,
    approvals: {
      mode: 'block',
      store: undefined as never,
      ttlMs: 60_000,
    },
    engine: createPolicyEngine({
      policy: options.policy ?? DEFAULT_POLICY,
      budget: counted,
      prices: pegPriceSource(),
      ...(options.approver ? { approver: options.approver } : {}),
      protocols: adapters.map((one) => one.protocol),
    }),
    shared: {
      journal,
      locks: createKeyedLock(),
      hands: new Map(),
      inflight: new Map(),
      refusedPreauth: new Set(),
      owner: 'p_test',
      orphansChecked: true,
    },
  };
  /** The unpaid send and its call, as the paying fetch would make them. */
  async function ask(path: string, init: RequestInit = {}, extra: Partial<Call> = {}) {
    const prepared = await prepareRequest(`${ORIGIN}${path}`, init, core.maxBodyBytes);
    const call: Call = {
      prepared,
      key: `${prepared.method} ${prepared.url}`,
      exclusive: false,
      tags: [],
      override: undefined,
      timeoutMs: 5_000,
      mayPay: true,
      ...extra,
    };
    const response = await core.send(prepared.firstInput, prepared.firstInit);
    return { call, response };
  }
  return { rail, paywall, wallet, wallets, core, ledger, journal, reservations, ask };
}
