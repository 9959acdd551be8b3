/**
 * Fault-injection matrix for x402: the reference `@x402/hono` server + in-process facilitator
 * settling EIP-3009 transfers on anvil (`@stipend/testkit/x402`), reached through a fault
 * proxy, paid by `evmWallet` (with a public client, so unknown outcomes are looked up on chain).
 * Payments are counted on chain (the facilitator's settlements and the payee's balance), and the
 * ledger is checked against the chain after every case.
 *
 * The chain is moved forward in one case (to expire an authorization); the client clock follows
 * the chain (`chainOffset`), as a real client's clock follows real time.
 */
import {
  createPayingFetch,
  getPayment,
  type PayingFetch,
  type PaymentFailedError,
  x402Adapter,
} from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { startX402Server, WEATHER_PRICE, type X402ServerHandle } from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeBase64Json,
  encodeBase64Json,
} from '../../packages/client/src/protocols/x402/base64.js';
import { testAsset } from '../x402/setup.test-helpers.js';
import {
  type FaultProxy,
  failure,
  failureCode,
  faultyWallet,
  ledgerStatuses,
  policyWith,
  startFaultProxy,
} from './faults.test-helpers.js';

const payer = devAccount(5);
let server: X402ServerHandle;
let proxy: FaultProxy;
let chainOffset = 0;
const clock = () => Date.now() + chainOffset;

beforeAll(async () => {
  server = await startX402Server();
  await server.chain.mint(payer.address, 10_000_000n);
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
});
beforeEach(() => {
  proxy.plan = () => 'forward';
  proxy.forwarded.length = 0;
});

const paidHeader = 'payment-signature';
const settlements = () => server.settlements.length;
const payeeBalance = () => server.chain.balanceOf(server.payTo);

function setup(options: { now?: () => number; total?: string } = {}) {
  const inner = evmWallet({ account: payer, publicClient: server.chain.publicClient });
  const wallet = faultyWallet(inner);
  const payingFetch = createPayingFetch({
    adapters: [x402Adapter({ assets: [testAsset(server.token)] })],
    wallets: [wallet],
    policy: {
      global: {
        ...policyWith('0.01', options.total ?? '1').global,
        maxAuthorizationTtlSec: 30,
      },
    },
    payTimeoutMs: 1_500,
    now: options.now ?? clock,
  });
  return { payingFetch, wallet, inner };
}

/**
 * The ledger agrees with the chain: a committed record's authorization was used on chain, a
 * released one's was not; nothing is left pending.
 */
async function expectTruthful(payingFetch: PayingFetch, wallet: { lookup?: Function }) {
  const records = await payingFetch.ledger.list();
  // One purchase signs one nonce (derived from its idempotency key): a released attempt and the
  // committed one of the same purchase share it, and the chain sees that nonce used once.
  const nonceOf = (reference: string) => reference.split(':')[5];
  const committedNonces = new Set(
    records
      .filter((r) => r.status === 'committed' && r.reference)
      .map((r) => nonceOf(r.reference!)),
  );
  for (const record of records) {
    expect(record.status).not.toBe('pending');
    if (!record.reference) {
      expect(record.status).not.toBe('committed');
      continue;
    }
    const onChain = await (wallet.lookup as (r: string) => Promise<string>)(record.reference);
    if (record.status === 'committed') expect(onChain, record.reference).toBe('paid');
    if (record.status === 'released' && !committedNonces.has(nonceOf(record.reference)))
      expect(onChain, record.reference).not.toBe('paid');
  }
}

describe('x402 on anvil: wallet timeouts', () => {
  it('timeout, then success: the authorization never left the client; nothing settles, never twice', async () => {
    const before = settlements();
    const { payingFetch, wallet, inner } = setup();
    wallet.inject({ kind: 'late-success', delayMs: 2_000 });
    const key = { payment: { idempotencyKey: 'x402-late-success' } };
    expect(await failureCode(payingFetch(`${server.url}/weather`, key))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(wallet.produced).toHaveLength(1);
    expect(settlements()).toBe(before);
    const again = await payingFetch(`${server.url}/weather`, key).catch((e: unknown) => e);
    expect(settlements() - before).toBeLessThanOrEqual(1);
    if (again instanceof Response) expect(getPayment(again)?.status).toBe('paid');
    await expectTruthful(payingFetch, inner);
  });

  it('timeout, then failure: nothing signed, nothing settles', async () => {
    const before = settlements();
    const { payingFetch, wallet, inner } = setup();
    wallet.inject({ kind: 'late-failure', delayMs: 2_000 });
    expect(await failureCode(payingFetch(`${server.url}/weather`))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(wallet.produced).toHaveLength(0);
    expect(settlements()).toBe(before);
    expect(await ledgerStatuses(payingFetch)).not.toContain('committed');
    await expectTruthful(payingFetch, inner);
  });

  it('timeout after signing, with the reference: pending on chain until the deadline, then released and paid once', async () => {
    const before = settlements();
    const balance = await payeeBalance();
    const { payingFetch, wallet, inner } = setup();
    wallet.inject({ kind: 'unknown-with-reference' });
    const key = { payment: { idempotencyKey: 'x402-unknown-ref' } };
    const error = await failure(payingFetch(`${server.url}/weather`, key));
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.resume?.reference).toBe(wallet.produced[0]?.reference);
    // Before the deadline the chain cannot say: the purchase is not paid again.
    expect(await failureCode(payingFetch(`${server.url}/weather`, key))).toBe('OUTCOME_UNKNOWN');
    // Past the authorization's deadline (30 s): the chain proves it was never used.
    await server.chain.testClient.increaseTime({ seconds: 45 });
    await server.chain.testClient.mine({ blocks: 1 });
    chainOffset += 45_000;
    const response = await payingFetch(`${server.url}/weather`, key);
    expect(response.status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released', 'committed']);
    expect(settlements() - before).toBe(1);
    expect((await payeeBalance()) - balance).toBe(WEATHER_PRICE);
    await expectTruthful(payingFetch, inner);
  });
});

describe('x402 on anvil: the server settled, the client did not hear it', () => {
  it('lost response after settlement: held; the chain says paid; ALREADY_PAID and committed', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    proxy.plan = (req) => (req.headers[paidHeader] ? 'lose-response' : 'forward');
    const key = { payment: { idempotencyKey: 'x402-lost' } };
    expect(await failureCode(payingFetch(`${proxy.origin}/weather`, key))).toBe('OUTCOME_UNKNOWN');
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    expect(settlements() - before).toBe(1);
    proxy.plan = () => 'forward';
    expect(await failureCode(payingFetch(`${proxy.origin}/weather`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(settlements() - before).toBe(1);
    await expectTruthful(payingFetch, inner);
  });

  it('500 after settlement with the receipt: committed at once, reported as a typed error', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    proxy.plan = (req) =>
      req.headers[paidHeader] ? { status500: { keepHeaders: true } } : 'forward';
    const response = await payingFetch(`${proxy.origin}/weather`);
    expect(response.status).toBe(500);
    const payment = getPayment(response);
    expect(payment?.status).toBe('rejected');
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(true);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(settlements() - before).toBe(1);
    await expectTruthful(payingFetch, inner);
  });

  it('500 after settlement without the receipt: the chain says paid at once, committed, then ALREADY_PAID', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    proxy.plan = (req) =>
      req.headers[paidHeader] ? { status500: { keepHeaders: false } } : 'forward';
    const key = { payment: { idempotencyKey: 'x402-500-bare' } };
    const response = await payingFetch(`${proxy.origin}/weather`, key);
    // The chain is asked at once: it says paid, so the purchase is committed (not delivered).
    expect(getPayment(response)?.status).toBe('rejected');
    expect(getPayment(response)?.error).toMatchObject({ paid: true });
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    proxy.plan = () => 'forward';
    expect(await failureCode(payingFetch(`${proxy.origin}/weather`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(settlements() - before).toBe(1);
    await expectTruthful(payingFetch, inner);
  });
});

describe('x402 on anvil: duplicate 402s', () => {
  it('a 402 listing the same requirement twice is paid once', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    proxy.plan = () => ({
      rewrite402: (headers) => {
        const terms = decodeBase64Json(String(headers['payment-required'])) as {
          accepts: unknown[];
        };
        terms.accepts = [terms.accepts[0], terms.accepts[0]];
        headers['payment-required'] = encodeBase64Json(terms);
      },
    });
    const response = await payingFetch(`${proxy.origin}/weather`);
    expect(response.status).toBe(200);
    expect(settlements() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, inner);
  });

  it('the paid retry answered with the first 402 again (never forwarded): held while the authorization lives, nothing settles', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    proxy.plan = (req) => (req.headers[paidHeader] ? 'replay-402' : 'forward');
    const response = await payingFetch(`${proxy.origin}/weather`);
    expect(response.status).toBe(402);
    // The seller (here a proxy) refused, but the signed authorization is valid until its
    // deadline: it stays counted (held, live), never released on the seller's word.
    expect(getPayment(response)?.status).toBe('unknown');
    expect((getPayment(response)?.error as PaymentFailedError | undefined)?.paid).toBe('unknown');
    expect(proxy.forwarded.filter((r) => r.headers[paidHeader])).toHaveLength(0);
    expect(settlements()).toBe(before);
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    // The next call pays normally, once.
    proxy.plan = () => 'forward';
    expect((await payingFetch(`${proxy.origin}/weather`)).status).toBe(200);
    expect(settlements() - before).toBe(1);
    await expectTruthful(payingFetch, inner);
  });
});

describe('x402 on anvil: retry storm and clock skew', () => {
  it('8 concurrent calls for one purchase (same key): one settlement on chain, 7 ALREADY_PAID', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        payingFetch(`${server.url}/weather`, { payment: { idempotencyKey: 'x402-one-purchase' } }),
      ),
    );
    const codes = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.status : (o.reason as { code?: string }).code,
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 'ALREADY_PAID')).toHaveLength(7);
    expect(settlements() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, inner);
  });

  it('12 concurrent separate purchases against a budget for 3: exactly 3 settle on chain', async () => {
    const before = settlements();
    const balance = await payeeBalance();
    const { payingFetch, inner } = setup({ total: '0.003' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        payingFetch(`${server.url}/weather`, { payment: { idempotencyKey: `x402-storm-${i}` } }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(
      outcomes.filter(
        (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === 'POLICY_DENIED',
      ),
    ).toHaveLength(9);
    expect(settlements() - before).toBe(3);
    expect((await payeeBalance()) - balance).toBe(3n * WEATHER_PRICE);
    expect(await ledgerStatuses(payingFetch)).toEqual(Array(3).fill('committed'));
    await expectTruthful(payingFetch, inner);
  });

  it('client clock 10 minutes behind: the facilitator refuses the stale authorization; released, nothing moves', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup({ now: () => clock() - 600_000 });
    const response = await payingFetch(`${server.url}/weather`);
    expect(response.status).toBe(402);
    const error = getPayment(response)?.error as PaymentFailedError;
    expect(error.code).toBe('PAYMENT_FAILED');
    expect(error.paid).toBe(false);
    expect(settlements()).toBe(before);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released']);
    await expectTruthful(payingFetch, inner);
  });

  it('client clock 10 minutes ahead: paid once, committed', async () => {
    const before = settlements();
    const { payingFetch, inner } = setup({ now: () => clock() + 600_000 });
    const response = await payingFetch(`${server.url}/weather`);
    expect(response.status).toBe(200);
    expect(settlements() - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch, inner);
  });
});
