import { describe, expect, it } from 'vitest';
import { createPayingFetch } from '../fetch/createPayingFetch.js';
import { pegPriceSource } from '../money/price.js';
import { amount, type TokenUnit } from '../money/unit.js';
import { freezeOffer } from '../offer.js';
import type { SpendPolicy } from '../policy/types.js';
import type { Wallet } from '../wallet/wallet.js';
import { sessionHooks } from './manager.js';
import { type PluggedSessionMethod, SESSION_HOOKS } from './plug.js';
import type { DepositPlan, SessionOffer } from './types.js';

const ORIGIN = 'https://api.example.com';
const TOKEN: TokenUnit = {
  kind: 'token',
  network: 'eip155:4217',
  asset: '0x20c0000000000000000000000000000000000000',
  decimals: 6,
};
const prices = pegPriceSource({
  pegs: { [`${TOKEN.network}/${TOKEN.asset}`]: { peg: 'USD', decimals: 6 } },
});

/**
 * A session method where the client chooses the deposit (as Tempo does): it opens at
 * min(the server's suggestion, the cap the manager passes). It records what it was asked.
 */
function choosingMethod(suggested: bigint) {
  const opened: bigint[] = [];
  const method: PluggedSessionMethod = {
    [SESSION_HOOKS]: sessionHooks,
    method: 'fake',
    rail: 'mpp:fake.session',
    offers(input) {
      if (!input.challenges.some((c) => c.params.method === 'fake')) {
        return { offers: [], problems: [] };
      }
      const offer = freezeOffer({
        id: 'fake:1',
        protocol: 'mpp',
        scheme: 'fake.session',
        amount: amount(10_000n, TOKEN), // $0.01 per use
        payee: '0x976EA74026E726554dB657fA54763abd0C3a0aa9',
        network: TOKEN.network,
        asset: TOKEN.asset,
        origin: ORIGIN,
        resource: `${ORIGIN}/generate`,
        reusable: true,
        raw: {},
      });
      const session: SessionOffer = {
        offer,
        method: 'fake',
        realm: 'api.example.com',
        suggestedDeposit: amount(suggested, TOKEN),
      };
      return { offers: [session], problems: [] };
    },
    deposit(offer, cap): DepositPlan | string {
      const want = offer.suggestedDeposit!.value;
      const value = cap !== undefined && cap.value < want ? cap.value : want;
      if (value < offer.offer.amount.value) return 'maxDeposit is below one unit';
      return {
        amount: amount(value, TOKEN),
        pay: freezeOffer({ ...offer.offer, id: 'fake:deposit', amount: amount(value, TOKEN) }),
      };
    },
    supports: () => true,
    async open(ctx) {
      opened.push(ctx.plan.amount.value);
      return {
        headers: { authorization: 'Payment open' },
        proof: { offerId: ctx.plan.pay.id, reference: 'ref', settlement: 'final', secret: {} },
        methodData: {},
      };
    },
    use: () => ({ authorization: 'Payment use' }),
    topUp: async () => {
      throw new Error('no top-ups here');
    },
    topUpAnswer: async () => ({ kind: 'credited' }),
    closeRequest: () => undefined,
    refund: async () => ({ state: 'none' }),
    refusal: async () => ({ kind: 'other', message: 'refused' }),
    receipt: () => undefined,
  };
  return { method, opened };
}

const wallet: Wallet = {
  id: 'fake-wallet',
  rails: ['mpp:fake.session'],
  canPay: () => true,
  pay: async (offer) => ({ offerId: offer.id, reference: 'ref', settlement: 'final', secret: {} }),
};

/** A seller: 402 with a `fake` session challenge unless a credential is sent. */
const seller: typeof fetch = async (_input, init) => {
  const auth = new Headers(init?.headers).get('authorization');
  if (auth) return new Response('ok');
  return new Response(null, {
    status: 402,
    headers: {
      'www-authenticate':
        'Payment id="c1", realm="api.example.com", method="fake", intent="session", request="e30"',
    },
  });
};

function payingFetchWith(policy: SpendPolicy, suggested: bigint) {
  const { method, opened } = choosingMethod(suggested);
  const payingFetch = createPayingFetch({
    wallets: [wallet],
    policy,
    prices,
    fetch: seller,
    defaultAdapters: false,
    sessions: { methods: [method], idleCloseMs: 0 },
  });
  return { payingFetch, opened };
}

describe('session manager: maxDeposit sizes the opening', () => {
  it('a USD maxDeposit alone sizes the opening of a method that chooses its deposit (converted with the price source, rounded down)', async () => {
    // The server suggests 1,000 tokens ($1,000); the host allows $0.30 = 300,000 base units.
    const { payingFetch, opened } = payingFetchWith(
      {
        global: {
          maxPerRequest: { usd: '0.05' },
          limits: [{ usd: '5', window: { calendar: 'day' } }],
        },
        hosts: { 'api.example.com': { maxDeposit: { usd: '0.30' } } },
      },
      1_000_000_000n,
    );
    const response = await payingFetch(`${ORIGIN}/generate`);
    expect(response.status).toBe(200);
    expect(opened).toEqual([300_000n]);
    const [session] = await payingFetch.sessions.list();
    expect(session?.depositAtomic).toBe(300_000n);
    expect(session?.state).toBe('open');
  });

  it('the lower of a USD and a native maxDeposit sizes it', async () => {
    const { payingFetch, opened } = payingFetchWith(
      {
        global: { maxPerRequest: { usd: '0.05' } },
        hosts: {
          'api.example.com': {
            maxDeposit: {
              usd: '0.30',
              native: [{ unit: `${TOKEN.network}/${TOKEN.asset}`, max: 120_000n }],
            },
          },
        },
      },
      1_000_000_000n,
    );
    expect((await payingFetch(`${ORIGIN}/generate`)).status).toBe(200);
    expect(opened).toEqual([120_000n]);
  });

  it('a server suggestion below the cap is kept: the cap never raises a deposit', async () => {
    const { payingFetch, opened } = payingFetchWith(
      {
        global: { maxPerRequest: { usd: '0.05' } },
        hosts: { 'api.example.com': { maxDeposit: { usd: '0.30' } } },
      },
      50_000n,
    );
    expect((await payingFetch(`${ORIGIN}/generate`)).status).toBe(200);
    expect(opened).toEqual([50_000n]);
  });
});

describe('session manager: what a use counts', () => {
  it('a use whose credential cannot be built (the signer failed) is not counted: nothing was sent', async () => {
    const { method } = choosingMethod(100_000n);
    let failing = false;
    const sent: string[] = [];
    const payingFetch = createPayingFetch({
      wallets: [wallet],
      policy: { global: { maxPerRequest: { usd: '0.05' } } },
      prices,
      fetch: async (input, init) => {
        sent.push(new Headers(init?.headers).get('authorization') ?? 'none');
        return seller(input, init);
      },
      defaultAdapters: false,
      sessions: {
        methods: [
          {
            ...method,
            use: (session) => {
              if (failing) throw new Error('the signer is gone');
              return method.use(session);
            },
          } as PluggedSessionMethod,
        ],
        idleCloseMs: 0,
      },
    });
    expect((await payingFetch(`${ORIGIN}/generate`)).status).toBe(200);
    expect((await payingFetch(`${ORIGIN}/generate`)).status).toBe(200);
    const [before] = await payingFetch.sessions.list();
    const sentBefore = sent.length;
    failing = true;
    await expect(payingFetch(`${ORIGIN}/generate`)).rejects.toThrow(/signer is gone/);
    const [after] = await payingFetch.sessions.list();
    expect(sent.length).toBe(sentBefore);
    expect(after?.uses).toBe(before?.uses);
    expect(after?.spentAtomic).toBe(before?.spentAtomic);
  });
});
