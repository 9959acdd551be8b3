/**
 * Fault-injection matrix for MPP: the REAL mppx 0.11 server (`stripe` charge, `/article` at
 * $0.50) with the Stripe stand-ins (`@stipend/testkit/mpp`, `/stripe`), reached through a fault
 * proxy, paid by `stripeWallet` (the real `stripe` SDK against the SPT stand-in). Payments are
 * counted at Stripe (succeeded PaymentIntents, Shared Payment Tokens issued), and the ledger is
 * checked against them after every case: a committed record's token was charged, a released
 * one's was not.
 */
import {
  createPayingFetch,
  getPayment,
  mppAdapter,
  type PayingFetch,
  type PaymentFailedError,
} from '@stipend/client';
import { type MppServer, startMppServer } from '@stipend/testkit/mpp';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { sptReference, stripeWallet } from '@stipend/wallet-stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FaultProxy,
  failure,
  failureCode,
  faultyWallet,
  ledgerStatuses,
  startFaultProxy,
} from './faults.test-helpers.js';

const seller = 'profile_faults';
let stripeApi: StripeStandIn;
let server: MppServer;
let proxy: FaultProxy;

beforeAll(async () => {
  stripeApi = await startStripeStandIn({ sellerProfile: seller });
  server = await startMppServer({ networkId: seller, paymentIntents: stripeApi.paymentIntents });
  proxy = await startFaultProxy(server.url);
});
afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await stripeApi?.close();
});
beforeEach(() => {
  proxy.plan = () => 'forward';
  proxy.forwarded.length = 0;
});

const charged = () =>
  stripeApi.paymentIntents.paymentIntents.filter((p) => p.status === 'succeeded');
const tokensIssued = () =>
  stripeApi.requests.filter(
    (r) => r.method === 'POST' && r.path === '/v1/shared_payment/issued_tokens',
  ).length;
const isCredential = (value: string | string[] | undefined) =>
  String(value ?? '').startsWith('Payment ');

function setup(options: { now?: () => number; total?: string } = {}) {
  const inner = stripeWallet({
    stripe: stripeApi.createStripeClient(),
    paymentMethod: 'pm_card_visa',
  });
  const wallet = faultyWallet(inner);
  const payingFetch = createPayingFetch({
    adapters: [mppAdapter()],
    wallets: [wallet],
    policy: {
      global: {
        maxPerRequest: { usd: '1.00' },
        limits: [{ usd: options.total ?? '100', window: { total: true } }],
      },
    },
    payTimeoutMs: 1_500,
    ...(options.now ? { now: options.now } : {}),
  });
  return { payingFetch, wallet };
}

/** Committed ⇔ a PaymentIntent charged the record's token; released ⇒ none did. */
async function expectTruthful(payingFetch: PayingFetch): Promise<void> {
  const intents = charged();
  // Records carry `spt:<hash>` references, never the token itself.
  const references = new Set(await Promise.all(intents.map((p) => sptReference(p.spt))));
  for (const record of await payingFetch.ledger.list()) {
    expect(record.status).not.toBe('pending');
    expect(record.reference ?? 'spt:00000000000000000000000000000000').toMatch(
      /^spt:[0-9a-f]{32}$/,
    );
    const paid = references.has(record.reference ?? '');
    if (record.status === 'committed') expect(paid, record.reference).toBe(true);
    if (record.status === 'released') expect(paid, record.reference).toBe(false);
  }
}

describe('MPP (mppx + Stripe stand-ins): wallet timeouts', () => {
  it('timeout, then success: the token never reached the seller; nothing charged, never twice', async () => {
    const before = charged().length;
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'late-success', delayMs: 2_000 });
    const key = { payment: { idempotencyKey: 'mpp-late-success' } };
    expect(await failureCode(payingFetch(server.urlOf('/article'), key))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(wallet.produced).toHaveLength(1);
    expect(charged().length).toBe(before);
    await payingFetch(server.urlOf('/article'), key).catch(() => undefined);
    expect(charged().length - before).toBeLessThanOrEqual(1);
    await expectTruthful(payingFetch);
  });

  it('timeout, then failure: no token, nothing charged', async () => {
    const before = charged().length;
    const tokens = tokensIssued();
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'late-failure', delayMs: 2_000 });
    expect(await failureCode(payingFetch(server.urlOf('/article')))).toBe('OUTCOME_UNKNOWN');
    await Promise.all(wallet.late);
    expect(tokensIssued()).toBe(tokens);
    expect(charged().length).toBe(before);
    await expectTruthful(payingFetch);
  });

  it('timeout after issuing the token, with its reference: the wallet revokes it, released, then paid once', async () => {
    const before = charged().length;
    const { payingFetch, wallet } = setup();
    wallet.inject({ kind: 'unknown-with-reference' });
    const key = { payment: { idempotencyKey: 'mpp-unknown-ref' } };
    const error = await failure(payingFetch(server.urlOf('/article'), key));
    expect(error.code).toBe('OUTCOME_UNKNOWN');
    expect(error.resume?.reference).toMatch(/^spt:[0-9a-f]{32}$/);
    const response = await payingFetch(server.urlOf('/article'), key);
    expect(response.status).toBe(200);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released', 'committed']);
    expect(charged().length - before).toBe(1);
    await expectTruthful(payingFetch);
  });
});

describe('MPP (mppx + Stripe stand-ins): the seller charged, the client did not hear it', () => {
  it('lost response after the charge: held, then ALREADY_PAID and committed; charged once', async () => {
    const before = charged().length;
    const { payingFetch } = setup();
    proxy.plan = (req) => (isCredential(req.headers.authorization) ? 'lose-response' : 'forward');
    const key = { payment: { idempotencyKey: 'mpp-lost' } };
    expect(await failureCode(payingFetch(`${proxy.origin}/article`, key))).toBe('OUTCOME_UNKNOWN');
    expect(await ledgerStatuses(payingFetch)).toEqual(['held']);
    expect(charged().length - before).toBe(1);
    proxy.plan = () => 'forward';
    expect(await failureCode(payingFetch(`${proxy.origin}/article`, key))).toBe('ALREADY_PAID');
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(charged().length - before).toBe(1);
    await expectTruthful(payingFetch);
  });

  it('500 after the charge: the wallet sees its token used; committed at once, typed error', async () => {
    const before = charged().length;
    const { payingFetch } = setup();
    proxy.plan = (req) =>
      isCredential(req.headers.authorization) ? { status500: { keepHeaders: false } } : 'forward';
    const response = await payingFetch(`${proxy.origin}/article`);
    expect(response.status).toBe(500);
    const payment = getPayment(response);
    expect(payment?.status).toBe('rejected');
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(true);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    expect(charged().length - before).toBe(1);
    await expectTruthful(payingFetch);
  });
});

describe('MPP (mppx + Stripe stand-ins): duplicate 402s', () => {
  it('the same challenge twice in one header is paid once', async () => {
    const before = charged().length;
    const { payingFetch } = setup();
    proxy.plan = () => ({
      rewrite402: (headers) => {
        const line = String(headers['www-authenticate']);
        headers['www-authenticate'] = `${line}, ${line}`;
      },
    });
    const response = await payingFetch(`${proxy.origin}/article`);
    expect(response.status).toBe(200);
    expect(charged().length - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });

  it('the paid retry answered with the first 402 again: the unused token is revoked, released, nothing charged', async () => {
    const before = charged().length;
    const { payingFetch } = setup();
    proxy.plan = (req) => (isCredential(req.headers.authorization) ? 'replay-402' : 'forward');
    const response = await payingFetch(`${proxy.origin}/article`);
    expect(response.status).toBe(402);
    expect((getPayment(response)?.error as PaymentFailedError | undefined)?.paid).toBe(false);
    expect(await ledgerStatuses(payingFetch)).toEqual(['released']);
    expect(charged().length).toBe(before);
    proxy.plan = () => 'forward';
    expect((await payingFetch(`${proxy.origin}/article`)).status).toBe(200);
    expect(charged().length - before).toBe(1);
    await expectTruthful(payingFetch);
  });
});

describe('MPP (mppx + Stripe stand-ins): retry storm and clock skew', () => {
  it('8 concurrent calls for one purchase (same key): one charge, 7 ALREADY_PAID', async () => {
    const before = charged().length;
    const { payingFetch } = setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () =>
        payingFetch(server.urlOf('/article'), { payment: { idempotencyKey: 'mpp-one-purchase' } }),
      ),
    );
    const codes = outcomes.map((o) =>
      o.status === 'fulfilled' ? o.value.status : (o.reason as { code?: string }).code,
    );
    expect(codes.filter((c) => c === 200)).toHaveLength(1);
    expect(codes.filter((c) => c === 'ALREADY_PAID')).toHaveLength(7);
    expect(charged().length - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });

  it('10 concurrent separate purchases against a budget for 3 ($0.50 each): exactly 3 charged', async () => {
    const before = charged().length;
    const { payingFetch } = setup({ total: '1.50' });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        payingFetch(server.urlOf('/article'), { payment: { idempotencyKey: `mpp-storm-${i}` } }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(charged().length - before).toBe(3);
    expect(await ledgerStatuses(payingFetch)).toEqual(Array(3).fill('committed'));
    await expectTruthful(payingFetch);
  });

  it('client clock 10 minutes ahead: the challenge looks expired, no token (typed error)', async () => {
    const tokens = tokensIssued();
    const { payingFetch } = setup({ now: () => Date.now() + 600_000 });
    expect(await failureCode(payingFetch(server.urlOf('/article')))).toBe('CHALLENGE_INVALID');
    expect(tokensIssued()).toBe(tokens);
    expect(await ledgerStatuses(payingFetch)).toEqual([]);
  });

  it('client clock 10 minutes behind: charged once, committed', async () => {
    const before = charged().length;
    const { payingFetch } = setup({ now: () => Date.now() - 600_000 });
    const response = await payingFetch(server.urlOf('/article'));
    expect(response.status).toBe(200);
    expect(charged().length - before).toBe(1);
    expect(await ledgerStatuses(payingFetch)).toEqual(['committed']);
    await expectTruthful(payingFetch);
  });
});
