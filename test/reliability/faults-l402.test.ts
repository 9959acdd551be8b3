/**
 * Fault-injection matrix for L402: the testkit's aperture-equivalent server (real macaroons,
 * real signed BOLT 11 regtest invoices) and its simulated Lightning network (a stand-in for
 * Lightning: no real node), reached through a fault proxy, paid by `lightningWallet` over the
 * simulator backend. Payments are counted at the simulator (`network.stats()`), and the ledger
 * is checked against the simulator's payer-side state after every case.
 */
import {
  createPayingFetch,
  getPayment,
  l402Adapter,
  type PayingFetch,
  type PaymentFailedError,
} from '@stipend/client';
import {
  createLightningNetwork,
  type L402Server,
  type LightningNetwork,
  lightningFaults,
  startL402Server,
} from '@stipend/testkit/l402';
import {
  type LightningBackend,
  LightningBackendError,
  lightningWallet,
} from '@stipend/wallet-lightning';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';
import { prices } from '../l402/helpers.js';
import {
  type FaultProxy,
  failure,
  failureCode,
  faultyWallet,
  ledgerStatuses,
  startFaultProxy,
} from './faults.test-helpers.js';

let network: LightningNetwork;
let server: L402Server;
let proxy: FaultProxy;

beforeAll(async () => {
  network = createLightningNetwork();
  server = await startL402Server({ network });
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  network?.close();
});
beforeEach(() => {
  proxy.plan = () => 'forward';
  proxy.forwarded.length = 0;
});

const succeeded = () => network.stats().succeeded;
const isProof = (value: string | string[] | undefined) => String(value ?? '').startsWith('L402 ');

/** A backend that reports a timeout without sending anything, `times` times. */
function timingOut(inner: LightningBackend, times: number): LightningBackend {
  let left = times;
  return {
    ...inner,
    name: inner.name,
    lookup: (hash, options) => inner.lookup(hash, options),
    async pay(request) {
      if (left-- > 0) {
        throw new LightningBackendError('timeout', 'no answer from the node', 'unknown');
      }
      return inner.pay(request);
    },
  };
}

function setup(options: { backend?: LightningBackend; now?: () => number } = {}) {
  const inner = lightningWallet({
    backend: options.backend ?? simulatorBackend(network),
    network: 'regtest',
    settleWaitMs: 60,
    ...(options.now ? { now: options.now } : {}),
  });
  const wallet = faultyWallet(inner);
  const payingFetch = createPayingFetch({
    adapters: [l402Adapter()],
    wallets: [wallet],
    prices,
    policy: {
      global: {
        maxPerRequest: { usd: '1.00' },
        limits: [{ usd: '100', window: { total: true } }],
      },
    },
    payTimeoutMs: 1_500,
    ...(options.now ? { now: options.now } : {}),
  });
  return { payingFetch, wallet };
}

/** The ledger agrees with the simulator: committed ⇔ the payment hash succeeded. */
async function expectTruthful(payingFetch: PayingFetch): Promise<void> {
  for (const record of await payingFetch.ledger.list()) {
    expect(record.status).not.toBe('pending');
    if (!record.reference) {
      expect(record.status).not.toBe('committed');
      continue;
    }
    const state = network.lookup(record.reference).status;
    if (record.status === 'committed') expect(state, record.reference).toBe('succeeded');
    if (record.status === 'released') expect(state, record.reference).not.toBe('succeeded');
  }
}

describe('L402 on the simulated network: wallet timeouts', () => {
  it('the node times out, then the payment settles: held, then delivered with the preimage the lookup returns; paid once', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 800 }));
    const key = { payment: { idempotencyKey: 'l402-timeout-settle' } };
    const error = await failure(payingFetch(`${server.url}/quote`, key));
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    await network.idle();
    // The lookup says paid and gives the preimage back: delivered with it, never paid again.
    expect((await payingFetch(`${server.url}/quote`, key)).status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(succeeded() - before).toBe(1);
    await expectTruthful(payingFetch);
  });

  it('the node times out and never sent it: the lookup finds nothing; released, then paid once', async () => {
    const before = succeeded();
    const attempts = network.stats().attempts;
    const { payingFetch } = setup({ backend: timingOut(simulatorBackend(network), 1) });
    const key = { payment: { idempotencyKey: 'l402-timeout-fail' } };
    expect(await failureCode(payingFetch(`${server.url}/quote`, key))).toBe('OUTCOME_UNKNOWN');
    expect(network.stats().attempts).toBe(attempts);
    const response = await payingFetch(`${server.url}/quote`, key);
    expect(response.status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released', 'committed']);
    expect(succeeded() - before).toBe(1);
    await expectTruthful(payingFetch);
  });

  it('the wallet answers after the core gave up (payment made): held, never paid twice', async () => {
    const before = succeeded();
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'late-success', delayMs: 2_000 });
    const key = { payment: { idempotencyKey: 'l402-late' } };
    expect(await failureCode(payingFetch(`${server.url}/quote`, key))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(succeeded() - before).toBe(1);
    await payingFetch(`${server.url}/quote`, key).catch(() => undefined);
    expect(succeeded() - before).toBe(1);
    expect(['held', 'committed']).toContain((await ledgerStatuses(payingFetch))[0]);
    await expectTruthful(payingFetch);
  });

  it('the wallet fails after the core gave up: nothing moved', async () => {
    const attempts = network.stats().attempts;
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'late-failure', delayMs: 2_000 });
    expect(await failureCode(payingFetch(`${server.url}/quote`))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(network.stats().attempts).toBe(attempts);
    expect(await ledgerStatuses(payingFetch)).not.toContain('committed');
    await expectTruthful(payingFetch);
  });
});

describe('L402 on the simulated network: the server took the payment, the client did not hear it', () => {
  it('lost response after paying: committed, then delivered with the kept proof; paid once', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    proxy.plan = (req) => (isProof(req.headers.authorization) ? 'lose-response' : 'forward');
    const key = { payment: { idempotencyKey: 'l402-lost' } };
    // The invoice was paid (final): committed at once, the preimage kept.
    expect(await failureCode(payingFetch(`${proxy.origin}/quote`, key))).toBe('OUTCOME_UNKNOWN');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    proxy.plan = () => 'forward';
    // The same purchase is delivered with the kept proof, never paid again.
    expect((await payingFetch(`${proxy.origin}/quote`, key)).status).toBe(200);
    // From then on the token is a held credential: reused, nothing paid.
    expect((await payingFetch(`${proxy.origin}/quote`, key)).status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(succeeded() - before).toBe(1);
    await expectTruthful(payingFetch);
  });

  it('500 after paying: committed (the invoice was paid), and the credential serves the next call', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    let failOnce = true;
    proxy.plan = (req) => {
      if (!isProof(req.headers.authorization) || !failOnce) return 'forward';
      failOnce = false;
      return { status500: { keepHeaders: false } };
    };
    const first = await payingFetch(`${proxy.origin}/quote`);
    expect(first.status).toBe(500);
    expect(getPayment(first)?.record.status).toBe('committed');
    const second = await payingFetch(`${proxy.origin}/quote`);
    expect(second.status).toBe(200);
    expect(getPayment(second)).toBeUndefined();
    expect(succeeded() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });
});

describe('L402 on the simulated network: duplicate 402s', () => {
  it('the same challenge three times over (LSAT + L402 + a repeated line) is paid once', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    proxy.plan = () => ({
      rewrite402: (headers) => {
        const lines = [headers['www-authenticate']].flat() as string[];
        headers['www-authenticate'] = [...lines, lines[lines.length - 1]!];
      },
    });
    const response = await payingFetch(`${proxy.origin}/quote`);
    expect(response.status).toBe(200);
    expect(succeeded() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });

  it('the paid retry answered with the first 402 again: money moved (committed), the credential is kept and works once the server sees it', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    proxy.plan = (req) => (isProof(req.headers.authorization) ? 'replay-402' : 'forward');
    const first = await payingFetch(`${proxy.origin}/quote`);
    expect(first.status).toBe(402);
    const payment = getPayment(first);
    expect(payment?.record.status).toBe('committed');
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(true);
    proxy.plan = () => 'forward';
    const second = await payingFetch(`${proxy.origin}/quote`);
    expect(second.status).toBe(200);
    expect(succeeded() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });
});

describe('L402 on the simulated network: retry storm and clock skew', () => {
  it('30 concurrent calls for one purchase (same key): one payment (single flight), 30 answers', async () => {
    const before = succeeded();
    const { payingFetch } = setup();
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        payingFetch(`${server.url}/quote`, { payment: { idempotencyKey: 'l402-storm' } }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(succeeded() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });

  it('client clock two days ahead: the invoice looks expired, nothing is paid (typed error)', async () => {
    const attempts = network.stats().attempts;
    const { payingFetch } = setup({ now: () => Date.now() + 2 * 86_400_000 });
    const error = await payingFetch(`${server.url}/quote`).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('offer_expired');
    expect(network.stats().attempts).toBe(attempts);
    expect(await ledgerStatuses(payingFetch)).toEqual([]);
  });

  it('client clock 10 minutes behind: paid once, committed', async () => {
    const before = succeeded();
    const { payingFetch } = setup({ now: () => Date.now() - 600_000 });
    const response = await payingFetch(`${server.url}/quote`);
    expect(response.status).toBe(200);
    expect(succeeded() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });
});
