/**
 * Shared set-up of the Lightning session suites: a paying fetch with sessions on, a Lightning
 * wallet whose backend pays through the testkit's simulated network and has its own node (for
 * the return invoice), and the testkit's `lightning/session` seller (an aperture stand-in).
 */
import {
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemorySessionStore,
  createPayingFetch,
  fixedPriceSource,
  lightningSessionMethod,
  type PayingFetchConfig,
  type SpendPolicy,
} from '@stipend/client';
import { createLightningNetwork, type LightningNetwork } from '@stipend/testkit/l402';
import { simulatorBackend } from '@stipend/testkit/lightning';
import { LightningBackendError, lightningWallet } from '@stipend/wallet-lightning';

/** $100,000 per BTC: 1 sat = $0.001. */
export const prices = fixedPriceSource({ btcUsd: '100000' });

/** Caps that let a 2-sat use and a 40-sat deposit through, and cap deposits at 100 sat. */
export function sessionPolicy(maxDepositUsd = '0.10'): SpendPolicy {
  return {
    global: {
      maxPerRequest: { usd: '0.01' },
      limits: [{ usd: '10', window: { calendar: 'day' } }],
    },
    hosts: { '127.0.0.1': { maxDeposit: { usd: maxDepositUsd } } },
  };
}

/** A paying fetch with Lightning sessions, and what a test inspects. */
export function sessionSetup(
  network: LightningNetwork,
  options: { policy?: SpendPolicy; config?: Partial<PayingFetchConfig> } = {},
) {
  const agent = network.createNode({ alias: 'agent' });
  const backend = simulatorBackend(network, {
    node: agent,
    payer: 'agent',
    error: (code, message, outcome, cause) =>
      new LightningBackendError(code, message, outcome, cause),
  });
  const wallet = lightningWallet({ backend, network: 'regtest', maxFeeMsat: 50_000n });
  const budget = createMemoryBudgetStore();
  const ledger = createMemoryLedger();
  const store = createMemorySessionStore();
  const payingFetch = createPayingFetch({
    wallets: [wallet],
    policy: options.policy ?? sessionPolicy(),
    prices,
    budget,
    ledger,
    defaultAdapters: false,
    sessions: { methods: [lightningSessionMethod()], store, idleCloseMs: 0, refundWaitMs: 2_000 },
    ...options.config,
  });
  return { payingFetch, wallet, agent, backend, budget, ledger, store };
}

/** The day's global budget use. */
export async function dayUsage(budget: ReturnType<typeof createMemoryBudgetStore>) {
  return budget.usage({ scope: 'global', window: { kind: 'calendar', unit: 'day' } }, Date.now());
}

export { createLightningNetwork };
