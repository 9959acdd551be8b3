import { createInvoice, createNodeKey, randomBytes32, sha256Hex } from '@stipend/testkit/lightning';
import { describe, expect, it } from 'vitest';
import { encodeBase64UrlJson } from '../../../internal/codec.js';
import { sessionRecord } from '../../../session/store.conformance.test-helpers.js';
import type { Wallet } from '../../../wallet/wallet.js';
import { parseWwwAuthenticateLenient } from '../../www-authenticate.js';
import { classifyRefusal, readSessionReceipt, readStreamEvent, readTopUpAnswer } from './answer.js';
import { type LightningInvoiceWallet, lightningSessionMethod } from './lightning.js';
import { readLightningSessionOffers } from './terms.js';

const URL_ = new URL('https://api.example.com/generate');
const NOW = Date.now();

function challenge(request: Record<string, unknown>, extra = '') {
  const expires = new Date(NOW + 10 * 60_000).toISOString();
  return `Payment id="c1", realm="api.example.com", method="lightning", intent="session", request="${encodeBase64UrlJson(request)}", expires="${expires}"${extra}`;
}

function sessionRequest(overrides: Record<string, unknown> = {}, invoiceSats = 40n) {
  const node = createNodeKey();
  const paymentHash = sha256Hex(randomBytes32());
  const invoice = createInvoice({ nodeKey: node, amountMsat: invoiceSats * 1000n, paymentHash });
  return {
    request: {
      amount: '2',
      currency: 'sat',
      depositInvoice: invoice.bolt11,
      paymentHash,
      depositAmount: invoiceSats.toString(),
      idleTimeout: '300',
      ...overrides,
    },
    invoice,
  };
}

const read = (header: string) =>
  readLightningSessionOffers(parseWwwAuthenticateLenient(header).challenges, URL_, NOW, {
    clockSkewMs: 30_000,
  });

describe('lightning session challenges', () => {
  it('reads the unit price (msat) for the policy and the invoice amount as the fixed deposit', () => {
    const { request, invoice } = sessionRequest();
    const { offers, problems } = read(challenge(request));
    expect(problems).toEqual([]);
    const [offer] = offers;
    expect(offer!.offer.amount).toEqual({ value: 2_000n, unit: { kind: 'msat' } });
    expect(offer!.offer.scheme).toBe('lightning.session');
    expect(offer!.fixedDeposit).toEqual({ value: 40_000n, unit: { kind: 'msat' } });
    expect(offer!.serverIdleMs).toBe(300_000);
    expect((offer!.depositOffer!.raw as { invoice: string }).invoice).toBe(invoice.bolt11);
    expect(offer!.depositOffer!.amount.value).toBe(40_000n);
    expect(offer!.depositOffer!.maxFee!.value).toBe(40_000n / 100n + 10_000n);
  });

  it('the invoice decides the deposit: a depositAmount that differs from it is refused', () => {
    const { request } = sessionRequest({ depositAmount: '40' }, 90n);
    const { offers, problems } = read(challenge(request));
    expect(offers).toEqual([]);
    expect(problems.join()).toMatch(
      /depositAmount \(40 sat\) is not the invoice's amount \(90 sat\)/,
    );
  });

  it('refuses a paymentHash that is not the invoice hash, a wrong currency, a deposit below one unit', () => {
    const { request } = sessionRequest();
    expect(read(challenge({ ...request, paymentHash: 'a'.repeat(64) })).problems.join()).toMatch(
      /paymentHash is not the payment hash/,
    );
    expect(read(challenge({ ...request, currency: 'BTC' })).offers).toEqual([]);
    const small = sessionRequest({ amount: '50' }, 40n).request;
    expect(read(challenge(small)).problems.join()).toMatch(/smaller than one unit/);
  });

  it('a deposit fixed above maxDeposit is refused, naming maxDeposit (never opened smaller)', () => {
    const method = lightningSessionMethod();
    const [offer] = read(challenge(sessionRequest().request)).offers;
    const plan = method.deposit(offer!, { value: 30_000n, unit: { kind: 'msat' } });
    expect(typeof plan === 'string' && plan).toMatch(/above maxDeposit \(30 sat\)/);
    const ok = method.deposit(offer!, { value: 40_000n, unit: { kind: 'msat' } });
    expect(typeof ok === 'string' ? ok : ok.amount.value).toBe(40_000n);
  });

  it('a wallet that cannot create and look up invoices cannot run sessions (no return invoice)', () => {
    const method = lightningSessionMethod();
    const wallet = {
      id: 'w',
      rails: ['mpp:lightning.session'],
      canPay: () => true as const,
      pay: async () => {
        throw new Error('no');
      },
    };
    expect(method.supports(wallet)).toMatch(/return invoice/);
    expect(
      method.supports({
        ...wallet,
        createInvoice: async () => ({ invoice: '', paymentHash: '' }),
        lookupInvoice: async () => ({ state: 'open' as const }),
      } as Wallet & LightningInvoiceWallet),
    ).toBe(true);
  });
});

describe('lightning session answers', () => {
  const session = sessionRecord('ses_1', {
    methodData: { sessionId: 'b'.repeat(64) },
    secret: { bearer: 'c'.repeat(64) },
  });
  const receipt = (body: Record<string, unknown>) =>
    new Response(null, { headers: { 'payment-receipt': encodeBase64UrlJson(body) } });

  it('a receipt with an empty reference, or naming another session, is discarded', () => {
    expect(readSessionReceipt(receipt({ reference: '' }), session, 'b'.repeat(64))).toBeUndefined();
    expect(
      readSessionReceipt(receipt({ reference: 'd'.repeat(64) }), session, 'b'.repeat(64)),
    ).toBeUndefined();
    const kept = readSessionReceipt(
      receipt({
        reference: 'b'.repeat(64),
        refundSats: 7,
        refundStatus: 'succeeded',
        echo: 'c'.repeat(64),
      }),
      session,
      'b'.repeat(64),
    );
    expect(kept?.refundClaim?.value).toBe(7_000n);
    expect(JSON.stringify(kept?.raw)).not.toContain('c'.repeat(64));
  });

  it('classifies refusals by problem type; a bare 402 is "other" and nothing is paid on it', async () => {
    const problem = (name: string) =>
      new Response(JSON.stringify({ type: `https://paymentauth.org/problems/lightning/${name}` }), {
        status: 402,
        headers: { 'content-type': 'application/problem+json' },
      });
    expect((await classifyRefusal(problem('insufficient-balance'), undefined)).kind).toBe('topup');
    expect((await classifyRefusal(problem('session-closed'), undefined)).kind).toBe('closed');
    expect((await classifyRefusal(problem('session-not-found'), undefined)).kind).toBe('closed');
    expect((await classifyRefusal(problem('challenge-expired'), undefined)).kind).toBe('challenge');
    expect((await classifyRefusal(new Response(null, { status: 402 }), undefined)).kind).toBe(
      'other',
    );
  });

  it('a top-up answer {"status":"ok"} is a credit; another 2xx body is the resource', async () => {
    const ok = new Response('{"status":"ok"}', { headers: { 'content-type': 'application/json' } });
    expect((await readTopUpAnswer(ok, undefined)).kind).toBe('credited');
    const served = new Response('{"data":1}', { headers: { 'content-type': 'application/json' } });
    expect((await readTopUpAnswer(served, undefined)).kind).toBe('served');
  });
});

describe('readStreamEvent (SSE on session calls)', () => {
  const id = 'b'.repeat(64);
  const other = 'c'.repeat(64);
  const ask = (sessionId: string) =>
    JSON.stringify({ sessionId, balanceSpent: 30, balanceRequired: 2 });

  it('a message is one metered chunk; the [DONE] sentinel is not', () => {
    expect(readStreamEvent({ name: 'message', data: '{"chunk":1}' }, id)).toEqual({ kind: 'unit' });
    expect(readStreamEvent({ name: 'message', data: '[DONE]' }, id)).toBeUndefined();
  });

  it('payment-need-topup and session-timeout act only when they name this session', () => {
    expect(readStreamEvent({ name: 'payment-need-topup', data: ask(id) }, id)).toEqual({
      kind: 'topup',
    });
    expect(readStreamEvent({ name: 'session-timeout', data: ask(id) }, id)).toEqual({
      kind: 'timeout',
    });
    expect(readStreamEvent({ name: 'payment-need-topup', data: ask(other) }, id)).toBeUndefined();
    expect(readStreamEvent({ name: 'session-timeout', data: 'not json' }, id)).toBeUndefined();
    expect(
      readStreamEvent({ name: 'payment-need-topup', data: ask(id) }, undefined),
    ).toBeUndefined();
  });

  it('a payment-receipt is a claim in msat, read only for this session', () => {
    const receipt = (reference: string, spent: unknown) =>
      JSON.stringify({ method: 'lightning', reference, status: 'success', spent, units: 10 });
    expect(readStreamEvent({ name: 'payment-receipt', data: receipt(id, 20) }, id)).toEqual({
      kind: 'receipt',
      spentAtomic: 20_000n,
      units: 10,
    });
    expect(
      readStreamEvent({ name: 'payment-receipt', data: receipt(other, 20) }, id),
    ).toBeUndefined();
    expect(readStreamEvent({ name: 'payment-receipt', data: receipt(id, -5) }, id)).toEqual({
      kind: 'receipt',
      units: 10,
    });
  });
});
