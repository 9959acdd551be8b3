/**
 * A seller on the `stipend-test` stand-in rail over real HTTP, stores shared by an agent and a
 * console, and helpers to talk to the console as a browser and as an attacker would.
 */
import {
  createMemoryApprovalStore,
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemoryPurchaseJournal,
  createPayingFetch,
  type SpendPolicy,
  type SpendRecord,
} from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  type TestRail,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { type RunningConsole, startConsole } from './start.js';

/** The agents' policy: every payment above $0.001 needs a person; $1 a day. */
export const POLICY: SpendPolicy = {
  global: {
    approveAbove: '0.001',
    limits: [
      { usd: '1', window: { calendar: 'day' } },
      { usd: '0.5', window: { rolling: '1h' } },
    ],
  },
};

/** A world: rail, seller, stores, an agent factory and a running console. */
export interface World {
  readonly rail: TestRail;
  /** Every secret the rail handed out (proofs): none may ever reach the console's answers. */
  readonly secrets: string[];
  readonly seller: TestServer;
  readonly stores: {
    budget: ReturnType<typeof createMemoryBudgetStore>;
    ledger: ReturnType<typeof createMemoryLedger>;
    approvals: ReturnType<typeof createMemoryApprovalStore>;
    journal: ReturnType<typeof createMemoryPurchaseJournal>;
  };
  readonly wallet: ReturnType<typeof testWallet>;
  /** An agent in pending mode on the shared stores. */
  agent(options?: { pending?: boolean }): ReturnType<typeof createPayingFetch>;
  readonly console: RunningConsole;
  close(): Promise<void>;
}

/**
 * Starts a world.
 *
 * @example
 * ```ts
 * const world = await startWorld();
 * const response = await world.agent()(`${world.seller.origin}/report`, { payment: { idempotencyKey: 'k' } });
 * ```
 */
export async function startWorld(): Promise<World> {
  const rail = createTestRail();
  const secrets: string[] = [];
  const wallet = testWallet({
    rail: {
      pay(input) {
        const paid = rail.pay(input);
        secrets.push(paid.secret);
        return paid;
      },
      lookup: (reference) => rail.lookup(reference),
    },
  });
  const paywall = createTestPaywall({
    rail,
    routes: {
      '/report': { offers: [{ amount: 50_000n, unit: TEST_USDC }] },
      '/cheap': { offers: [{ amount: 1_000n, unit: TEST_USDC }] },
    },
  });
  const seller = await startTestServer(paywall);
  const stores = {
    budget: createMemoryBudgetStore(),
    ledger: createMemoryLedger(),
    approvals: createMemoryApprovalStore(),
    journal: createMemoryPurchaseJournal(),
  };
  const running = await startConsole({ stores, policy: POLICY, pollMs: 100 });
  return {
    rail,
    secrets,
    seller,
    stores,
    wallet,
    agent: (options = {}) =>
      createPayingFetch({
        adapters: [testAdapter()],
        wallets: [wallet],
        ...stores,
        policy: options.pending === false ? { global: { limits: POLICY.global!.limits! } } : POLICY,
        approvals: {
          mode: options.pending === false ? 'block' : 'pending',
          store: stores.approvals,
        },
      }),
    console: running,
    async close() {
      await running.close();
      await seller.close();
    },
  };
}

/** The console's origin (`http://127.0.0.1:<port>`). */
export function originOf(running: RunningConsole): string {
  return new URL(running.url).origin;
}

/** A POST as the console's own page sends it. */
export function pagePost(running: RunningConsole, path: string, body: unknown = {}) {
  return fetch(new URL(path, running.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      origin: originOf(running),
      'x-stipend-token': running.token,
    },
    body: JSON.stringify(body),
  });
}

/** A readable spend record with every field set (override any). */
export function spendRecord(
  overrides: Partial<Record<keyof SpendRecord, unknown>> = {},
): SpendRecord {
  const now = Date.now();
  return {
    id: 'p_fixture',
    purchaseKey: 'k',
    reservationId: 'r_fixture',
    protocol: 'x402',
    scheme: 'exact',
    method: 'GET',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/data',
    payee: '0xabc',
    network: 'eip155:8453',
    offerId: 'o1',
    amount: { value: 10_000n, unit: TEST_USDC },
    reservedUsdMicros: 10_000n,
    committedUsdMicros: 10_000n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: now },
    walletId: 'w',
    status: 'committed',
    tags: [],
    createdAt: now,
    updatedAt: now,
    ...overrides,
  } as SpendRecord;
}
