/**
 * Shared set-up for the L402 end-to-end and hostile tests: a paying fetch with the L402
 * adapter and a Lightning wallet that pays through the testkit's simulated network (a
 * stand-in for Lightning: see @stipend/testkit/lightning), and a request counter.
 */
import {
  createPayingFetch,
  fixedPriceSource,
  type L402Adapter,
  type L402AdapterOptions,
  l402Adapter,
  type PayingFetch,
  type PayingFetchConfig,
} from '@stipend/client';
import type { LightningNetwork } from '@stipend/testkit/l402';
import {
  type LightningWallet,
  type LightningWalletOptions,
  lightningWallet,
} from '@stipend/wallet-lightning';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';

export { l402Adapter, simulatorBackend };

/** $100,000 per BTC: 1 sat = $0.001, the 100-sat quote = $0.10. */
export const prices = fixedPriceSource({ btcUsd: '100000' });

export const policy = {
  global: {
    maxPerRequest: { usd: '1.00' },
    limits: [{ usd: '100', window: { calendar: 'day' as const } }],
  },
};

/** A fetch that counts the requests it sends (round trips) by path. */
export function countingFetch() {
  const sent: string[] = [];
  const fetcher: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    sent.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    return fetch(input, init);
  };
  return { sent, fetch: fetcher };
}

/** What {@link payingSetup} returns. */
export interface PayingSetup {
  readonly payingFetch: PayingFetch;
  readonly adapter: L402Adapter;
  readonly wallet: LightningWallet;
  /** `METHOD /path` of every request sent to the server (round trips). */
  readonly sent: string[];
  /** Offer ids of the policy decisions taken. */
  readonly decisions: string[];
}

/** A paying fetch for one test: fresh adapter (fresh credential cache), fresh wallet. */
export function payingSetup(
  network: LightningNetwork,
  options: {
    adapter?: L402AdapterOptions;
    wallet?: Partial<LightningWalletOptions>;
    config?: Partial<PayingFetchConfig>;
    now?: () => number;
  } = {},
): PayingSetup {
  const counter = countingFetch();
  const adapter = l402Adapter(options.adapter);
  const wallet = lightningWallet({
    backend: simulatorBackend(network),
    network: 'regtest',
    ...(options.now ? { now: options.now } : {}),
    ...options.wallet,
  });
  const decisions: string[] = [];
  const payingFetch = createPayingFetch({
    adapters: [adapter],
    wallets: [wallet],
    policy,
    prices,
    fetch: counter.fetch,
    ...(options.now ? { now: options.now } : {}),
    ...options.config,
  });
  payingFetch.on('decision', (event) => decisions.push(event.offer.id));
  return { payingFetch, adapter, wallet, sent: counter.sent, decisions };
}
