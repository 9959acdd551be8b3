import { describe, expect, it } from 'vitest';
import { isStipendError } from '../../../errors/base.js';
import { encodeBase64UrlJson } from '../../../internal/codec.js';
import type { PaymentOffer } from '../../../offer.js';
import { sessionRecord } from '../../../session/store.conformance.test-helpers.js';
import type { OpenContext, SessionRecord } from '../../../session/types.js';
import type { Wallet } from '../../../wallet/wallet.js';
import { inputOf, payment } from '../fixtures.test-helpers.js';
import { tempoSessionMethod } from './tempo.js';
import { type TempoSessionOffer, TIP1034_ESCROW } from './tempo-terms.js';

const PATH_USD = '0x20c0000000000000000000000000000000000000';
const PAYEE = '0x976EA74026E726554dB657fA54763abd0C3a0aa9';
const CHANNEL = `0x${'ab'.repeat(32)}`;
const PAYER = '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc';
const DESCRIPTOR = {
  payer: PAYER,
  payee: PAYEE,
  operator: '0x0000000000000000000000000000000000000000',
  token: PATH_USD,
  salt: `0x${'01'.repeat(32)}`,
  authorizedSigner: PAYER,
  expiringNonceHash: `0x${'02'.repeat(32)}`,
};

function tempoChallenge(
  request: Record<string, unknown> = {},
  details: Record<string, unknown> = {},
) {
  return inputOf({
    'www-authenticate': payment({
      method: 'tempo',
      intent: 'session',
      request: encodeBase64UrlJson({
        amount: '10000',
        currency: PATH_USD,
        recipient: PAYEE,
        unitType: 'request',
        suggestedDeposit: '500000',
        methodDetails: {
          chainId: 4217,
          escrowContract: TIP1034_ESCROW,
          sessionProtocol: 'v2',
          ...details,
        },
        ...request,
      }),
    }),
  });
}

/** A wallet that signs nothing real: it records what it is asked (and what it adopts). */
function fakeWallet(id = 'tempo:test') {
  const asked: bigint[] = [];
  const adopted: unknown[] = [];
  const channels = new Map<string, { signed: bigint; deposit: bigint }>();
  const paid: PaymentOffer[] = [];
  const wallet = {
    id,
    rails: ['mpp:tempo.session'],
    canPay: () => true as const,
    async pay(offer: PaymentOffer) {
      paid.push(offer);
      channels.set(CHANNEL, { signed: 0n, deposit: offer.amount.value });
      return {
        offerId: offer.id,
        reference: `0x${'11'.repeat(32)}`,
        settlement: 'authorization' as const,
        paid: offer.amount,
        secret: {
          payload: { transaction: '0x76abcd', descriptor: DESCRIPTOR, channelId: CHANNEL },
        },
      };
    },
    tempoChannels: {
      address: '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc',
      async voucherAtLeast(channelId: string, cumulative: bigint) {
        const known = channels.get(channelId);
        if (!known || cumulative > known.deposit) throw new Error('refused');
        const amount = cumulative > known.signed ? cumulative : known.signed;
        if (amount > known.signed) asked.push(amount);
        known.signed = amount;
        return {
          cumulativeAmount: amount,
          signature: `0x${amount.toString(16).padStart(130, '0')}`,
        };
      },
      channel: (channelId: string) => channels.get(channelId),
      adopt(channel: { channelId: string; signed: bigint; deposit: bigint }) {
        adopted.push(channel);
        channels.set(channel.channelId, { signed: channel.signed, deposit: channel.deposit });
      },
      closedRefund: async () => ({ refunded: 40_000n, settled: 460_000n }),
      state: async () => ({ settled: 0n, deposit: 0n, closeRequestedAt: 0 }),
    },
  };
  return { wallet: wallet as Wallet & typeof wallet, asked, paid, adopted };
}

async function opened(method = tempoSessionMethod(), deposit = 50_000n) {
  const offer = method.offers(tempoChallenge()).offers[0] as TempoSessionOffer;
  const plan = method.deposit(offer, { value: deposit, unit: offer.offer.amount.unit });
  if (typeof plan === 'string') throw new Error(plan);
  const { wallet, asked, paid } = fakeWallet();
  const session = sessionRecord('ses_t', {
    method: 'tempo',
    unitPriceAtomic: 10_000n,
    walletId: wallet.id,
  });
  const result = await method.open({
    offer,
    plan,
    session,
    wallet,
    pay: {
      request: { method: 'GET', url: 'x' },
      idempotencyKey: 'k',
      maxAuthorizationTtlSec: 60,
      reservationId: 'r',
      now: 0,
    },
  } as OpenContext);
  const record: SessionRecord = {
    ...session,
    state: 'open',
    depositAtomic: plan.amount.value,
    spentAtomic: 10_000n,
    uses: 1,
    methodData: result.methodData,
  };
  return { method, result, record, wallet, asked, paid, plan };
}

function credentialOf(headers: Readonly<Record<string, string>>) {
  const value = headers.authorization!.slice('Payment '.length);
  return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as {
    payload: Record<string, unknown>;
    source?: string;
  };
}

describe('tempoSessionMethod offers', () => {
  it('reads a tempo session challenge: price per unit, suggested deposit, the channel terms', () => {
    const { offers, problems } = tempoSessionMethod().offers(tempoChallenge());
    expect(problems).toEqual([]);
    const offer = offers[0] as TempoSessionOffer;
    expect(offer.offer.amount.value).toBe(10_000n);
    expect(offer.suggestedDeposit?.value).toBe(500_000n);
    expect(offer.terms).toMatchObject({
      chainId: 4217,
      escrow: TIP1034_ESCROW,
      payee: PAYEE,
      token: PATH_USD,
    });
  });

  it('escrow_pinned: a challenge naming another escrow is refused unless the user pinned it', () => {
    const custom = '0x1111111111111111111111111111111111111111';
    const input = tempoChallenge({}, { escrowContract: custom });
    const refused = tempoSessionMethod().offers(input);
    expect(refused.offers).toHaveLength(0);
    expect(refused.problems.join()).toMatch(/not pinned/);
    expect(tempoSessionMethod({ escrows: [custom] }).offers(input).offers).toHaveLength(1);
  });

  it('refuses server-sponsored fees, v1 and a named operator (not supported: never half-supported)', () => {
    const method = tempoSessionMethod();
    expect(method.offers(tempoChallenge({}, { feePayer: true })).problems.join()).toMatch(
      /feePayer/,
    );
    expect(method.offers(tempoChallenge({}, { sessionProtocol: 'v1' })).problems.join()).toMatch(
      /v2 only/,
    );
    expect(
      method
        .offers(tempoChallenge({}, { operator: '0x2222222222222222222222222222222222222222' }))
        .problems.join(),
    ).toMatch(/operator/);
  });
});

describe('tempoSessionMethod deposits', () => {
  it('deposit_min_of_suggestion_and_cap: opens at the smaller of the suggestion and maxDeposit', () => {
    const method = tempoSessionMethod();
    const offer = method.offers(tempoChallenge()).offers[0]!;
    const unit = offer.offer.amount.unit;
    const capped = method.deposit(offer, { value: 300_000n, unit });
    expect(typeof capped !== 'string' && capped.amount.value).toBe(300_000n);
    const suggested = method.deposit(offer, { value: 9_000_000n, unit });
    expect(typeof suggested !== 'string' && suggested.amount.value).toBe(500_000n);
  });

  it('deposit_cap_below_one_unit: a cap that leaves less than one unit is refused, not opened smaller', () => {
    const method = tempoSessionMethod();
    const offer = method.offers(tempoChallenge()).offers[0]!;
    const plan = method.deposit(offer, { value: 9_999n, unit: offer.offer.amount.unit });
    expect(plan).toMatch(/less than one unit/);
  });

  it('the deposit offer carries the channel terms and the fee cap reserved with it', () => {
    const method = tempoSessionMethod({ maxNetworkFee: 7_000n });
    const offer = method.offers(tempoChallenge()).offers[0]!;
    const plan = method.deposit(offer, undefined);
    if (typeof plan === 'string') throw new Error(plan);
    expect(plan.maxFee?.value).toBe(7_000n);
    expect((plan.pay.raw as { tempo: { action: string } }).tempo.action).toBe('open');
  });
});

describe('tempoSessionMethod vouchers', () => {
  it('the open credential carries the signed transaction and a first voucher for one unit, with a did:pkh source', async () => {
    const { result } = await opened();
    const credential = credentialOf(result.headers);
    expect(credential.payload).toMatchObject({
      action: 'open',
      type: 'transaction',
      channelId: CHANNEL,
      cumulativeAmount: '10000',
    });
    expect(credential.source).toBe(
      'did:pkh:eip155:4217:0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc',
    );
  });

  it("use sends the voucher for the client's own count, cumulative", async () => {
    const { method, record } = await opened();
    const credential = credentialOf(await method.use({ ...record, spentAtomic: 20_000n, uses: 2 }));
    expect(credential.payload).toMatchObject({
      action: 'voucher',
      channelId: CHANNEL,
      cumulativeAmount: '20000',
    });
  });

  it('voucher_never_above_deposit: no voucher is asked of the wallet or sent past the deposit', async () => {
    const { method, record, asked } = await opened(undefined, 50_000n);
    const error = await Promise.resolve(method.use({ ...record, spentAtomic: 60_000n, uses: 6 }))
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('OFFER_MISMATCH');
    const closeError = await Promise.resolve(
      method.closeRequest({ ...record, spentAtomic: 60_000n, uses: 6 }),
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(isStipendError(closeError) && closeError.code).toBe('OFFER_MISMATCH');
    expect(asked.every((a) => a <= 50_000n)).toBe(true);
  });

  it('voucher_signed_per_call: nothing is signed ahead; each use asks the wallet for exactly its own voucher', async () => {
    const { method, record, asked } = await opened(undefined, 500_000n);
    await new Promise((resolve) => setTimeout(resolve, 10));
    // After the opening: only the opening's one-unit voucher, no window signed ahead.
    expect(asked).toEqual([10_000n]);
    await method.use({ ...record, spentAtomic: 20_000n, uses: 2 });
    await method.use({ ...record, spentAtomic: 30_000n, uses: 3 });
    const closing = await method.closeRequest({ ...record, spentAtomic: 30_000n, uses: 3 });
    expect(credentialOf(closing!.headers).payload).toMatchObject({
      action: 'close',
      cumulativeAmount: '30000',
    });
    expect(asked).toEqual([10_000n, 20_000n, 30_000n]);
  });

  it('voucher_never_below_one_sent: a use counted lower than a voucher already sent sends that voucher again, never a lower one', async () => {
    const { method, record, asked } = await opened(undefined, 500_000n);
    // Two concurrent uses counted at 30 000 and 20 000 reach the method in the other order.
    const [high, low] = await Promise.all([
      method.use({ ...record, spentAtomic: 30_000n, uses: 3 }),
      method.use({ ...record, spentAtomic: 20_000n, uses: 2 }),
    ]);
    expect(credentialOf(high).payload.cumulativeAmount).toBe('30000');
    expect(credentialOf(low).payload.cumulativeAmount).toBe('30000');
    expect(asked).toEqual([10_000n, 30_000n]);
  });

  it('restart_adopts_channel: a new method instance (a new process) adopts the stored channel through the same wallet and keeps signing', async () => {
    const { record } = await opened(undefined, 500_000n);
    // A new process: a new method and a wallet (same id, same key) that knows no channel.
    const fresh = fakeWallet();
    const method = tempoSessionMethod();
    expect(method.supports(fresh.wallet)).toBe(true);
    const stored = { ...record, spentAtomic: 70_000n, uses: 7 };
    const credential = credentialOf(await method.use(stored));
    expect(credential.payload).toMatchObject({
      action: 'voucher',
      channelId: CHANNEL,
      cumulativeAmount: '70000',
    });
    expect(fresh.adopted).toEqual([
      {
        channelId: CHANNEL,
        chainId: 4217,
        escrow: TIP1034_ESCROW,
        descriptor: record.methodData.descriptor,
        deposit: 500_000n,
        signed: 10_000n,
      },
    ]);
    expect(fresh.asked).toEqual([70_000n]);
  });

  it('restart_needs_the_wallet: a stored session whose wallet this paying fetch lacks is refused with what to add', async () => {
    const { record } = await opened();
    const error = await Promise.resolve(tempoSessionMethod().use(record)).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('SIGNING_FAILED');
    expect((error as Error).message).toMatch(/createPayingFetch\(\{ wallets \}\)/);
  });

  it('restart_record_checked: a stored channel on an escrow that is not pinned, or without a descriptor, is not adopted', async () => {
    const { record } = await opened();
    const fresh = fakeWallet();
    const method = tempoSessionMethod();
    method.supports(fresh.wallet);
    for (const methodData of [
      { ...record.methodData, escrow: '0x00000000000000000000000000000000000e5c20' },
      { ...record.methodData, descriptor: undefined },
    ]) {
      const error = await Promise.resolve(method.use({ ...record, methodData })).catch(
        (e: unknown) => e,
      );
      expect(isStipendError(error) && error.code).toBe('SIGNING_FAILED');
    }
    expect(fresh.adopted).toEqual([]);
  });

  it('receipt_is_a_claim: a receipt naming another channel is discarded; one naming this channel never sets money', async () => {
    const { method, record } = await opened();
    const receipt = (reference: string) =>
      new Response(null, {
        headers: {
          'payment-receipt': encodeBase64UrlJson({
            method: 'tempo',
            status: 'success',
            reference,
            spent: '99000000',
            timestamp: '2026-01-01T00:00:00Z',
          }),
        },
      });
    expect(method.receipt(receipt(`0x${'cd'.repeat(32)}`), record)).toBeUndefined();
    expect(method.receipt(receipt(CHANNEL), record)?.reference).toBe(CHANNEL);
  });

  it('the refund is what the escrow paid back (wallet chain read), never a receipt', async () => {
    const { method, record, wallet } = await opened();
    const check = await method.refund(record, wallet);
    expect(check).toEqual({
      state: 'confirmed',
      amount: { value: 40_000n, unit: record.methodData.unit },
    });
  });

  it('classifies mppx problems: insufficient balance = top up, channel finalized = closed', async () => {
    const method = tempoSessionMethod();
    const problem = (type: string) =>
      new Response(
        JSON.stringify({ type: `https://paymentauth.org/problems/${type}`, detail: 'x' }),
        {
          status: 402,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    expect((await method.refusal(problem('session/insufficient-balance'), undefined)).kind).toBe(
      'topup',
    );
    expect((await method.refusal(problem('session/channel-finalized'), undefined)).kind).toBe(
      'closed',
    );
    expect((await method.refusal(problem('verification-failed'), undefined)).kind).toBe('other');
  });

  it('voucher_overtaken_is_sent_again: a voucher refused as below the highest accepted (a concurrent one got there first) asks for one resend, with the fresh challenge', async () => {
    const method = tempoSessionMethod();
    const refused = new Response(
      JSON.stringify({
        type: 'https://paymentauth.org/problems/verification-failed',
        detail:
          'Payment verification failed: voucher cumulativeAmount must be strictly greater than highest accepted voucher.',
      }),
      { status: 402, headers: { 'content-type': 'application/problem+json' } },
    );
    const refusal = await method.refusal(refused, tempoChallenge());
    expect(refusal.kind).toBe('challenge');
    expect(refusal.kind === 'challenge' && refusal.offer?.method).toBe('tempo');
  });
});
