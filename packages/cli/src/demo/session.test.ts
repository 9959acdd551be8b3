import {
  createMemoryLedger,
  createPayingFetch,
  fixedPriceSource,
  lightningSessionMethod,
} from '@stipend/client';
import { createLightningNetwork, simulatorBackend } from '@stipend/testkit/lightning';
import { startLightningSessionServer } from '@stipend/testkit/mpp';
import { LightningBackendError, lightningWallet } from '@stipend/wallet-lightning';
import { afterAll, describe, expect, it } from 'vitest';
import { runSessionErrand } from './session.js';
import { DEMO_SESSION } from './steps.js';

const network = createLightningNetwork();
afterAll(() => network.close());

function agentFetch() {
  const node = network.createNode({ alias: `agent-${Math.random()}` });
  const backend = simulatorBackend(network, {
    node,
    error: (code, message, outcome, cause) =>
      new LightningBackendError(code, message, outcome, cause),
  });
  const payingFetch = createPayingFetch({
    wallets: [lightningWallet({ backend, network: 'regtest' })],
    prices: fixedPriceSource({ btcUsd: '100000' }),
    policy: {
      global: {
        maxPerRequest: { usd: '0.75' },
        limits: [{ usd: '2', window: { calendar: 'day' } }],
      },
    },
    ledger: createMemoryLedger(),
    sessions: { methods: [lightningSessionMethod()], idleCloseMs: 0, refundWaitMs: 2_000 },
  });
  const payments = () =>
    network.payments.filter((p) => p.payer === node.alias && p.status === 'succeeded').length;
  return { payingFetch, payments };
}

describe('the demo session errand', () => {
  it('50 calls on one session, closed: deposit − refund = spent, and the client agrees with the seller and the rail', async () => {
    const seller = await startLightningSessionServer({
      network,
      priceSats: DEMO_SESSION.priceSats,
      depositSats: DEMO_SESSION.depositSats,
    });
    try {
      const { payingFetch, payments } = agentFetch();
      const lines: string[] = [];
      const result = await runSessionErrand(payingFetch, seller, DEMO_SESSION, payments, (l = '') =>
        lines.push(l),
      );
      expect(result.reason).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.payments).toBe(2); // the opening deposit and one top-up
      expect(result.line).toBe(
        "Session: 50 calls for 2 Lightning payment(s); deposit 120 sat, spent 100 sat, refunded 20 sat ($0.10212 with routing fees); the seller's books and the rail agree.",
      );
    } finally {
      await seller.close();
    }
  }, 30_000);

  it('a seller whose books disagree with the client is reported, not hidden', async () => {
    const seller = await startLightningSessionServer({
      network,
      priceSats: DEMO_SESSION.priceSats,
      depositSats: DEMO_SESSION.depositSats,
      billOpen: false, // the seller does not bill the opening call: its spend is one unit less
    });
    try {
      const { payingFetch, payments } = agentFetch();
      const result = await runSessionErrand(payingFetch, seller, DEMO_SESSION, payments, () => {});
      expect(result.ok).toBe(false);
      expect(result.line).toMatch(/MISMATCH: .*the spend disagrees/);
    } finally {
      await seller.close();
    }
  }, 30_000);
});
