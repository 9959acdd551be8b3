import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PaymentFailedError } from '../../errors/payment.js';
import { PolicyDeniedError } from '../../errors/policy.js';
import { createPayingFetch } from '../../fetch/createPayingFetch.js';
import { getPayment } from '../../fetch/outcome.js';
import { pegPriceSource } from '../../money/price.js';
import type { PaymentOffer } from '../../offer.js';
import type { PayContext, Wallet } from '../../wallet/wallet.js';
import { parseWwwAuthenticateLenient } from '../www-authenticate.js';
import { mppAdapter } from './adapter.js';
import { decodeBase64UrlJson, encodeBase64UrlJson } from './base64url.js';

const ORIGIN = 'https://shop.example.com';
let handler: ((request: Request) => Response | Promise<Response>) | undefined;
const server = setupServer(
  http.all(/^https:\/\/shop\.example\.com\//, ({ request }) =>
    handler ? handler(request) : new Response('no handler', { status: 500 }),
  ),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  handler = undefined;
});
afterAll(() => server.close());

const inFiveMinutes = () => new Date(Date.now() + 300_000).toISOString();
const challenge = (params: Record<string, string>) =>
  `Payment ${Object.entries({
    realm: 'shop',
    intent: 'charge',
    expires: inFiveMinutes(),
    ...params,
  })
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}`;
const stripeChallenge = (id: string, extra: Record<string, string> = {}) =>
  challenge({
    id,
    method: 'stripe',
    request: encodeBase64UrlJson({
      amount: '60',
      currency: 'usd',
      methodDetails: { networkId: 'profile_shop' },
    }),
    ...extra,
  });

function recordingWallet() {
  const paid: { offer: PaymentOffer; context: PayContext }[] = [];
  const wallet: Wallet = {
    id: 'fake-stripe',
    rails: ['mpp:stripe.charge'],
    canPay: () => true,
    pay: async (offer, context) => {
      paid.push({ offer, context });
      return {
        offerId: offer.id,
        reference: `spt_${paid.length}`,
        settlement: 'authorization',
        secret: { payload: { spt: `spt_${paid.length}` } },
      };
    },
  };
  return { wallet, paid };
}

const policy = { global: { maxPerRequest: { usd: '1.00' } } };

describe('mppAdapter through createPayingFetch', () => {
  it('pays one challenge and reads the receipt; one credential, one Idempotency-Key', async () => {
    const seen: Headers[] = [];
    handler = (request) => {
      seen.push(request.headers);
      const auth = request.headers.get('authorization');
      if (!auth?.startsWith('Payment ')) {
        return new Response(null, {
          status: 402,
          headers: { 'www-authenticate': `${stripeChallenge('c1')}, ${stripeChallenge('c2')}` },
        });
      }
      const credential = decodeBase64UrlJson(auth.slice(8)) as {
        challenge: { id: string };
        payload: unknown;
      };
      return new Response('paid', {
        headers: {
          'payment-receipt': encodeBase64UrlJson({
            status: 'success',
            method: 'stripe',
            reference: `pi_for_${credential.challenge.id}`,
          }),
        },
      });
    };
    const { wallet, paid } = recordingWallet();
    const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet], policy });
    const response = await payingFetch(`${ORIGIN}/article`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('paid');
    expect(paid).toHaveLength(1);
    expect(paid[0]!.offer.id).toBe('mpp:c1');
    const payment = getPayment(response);
    expect(payment?.status).toBe('paid');
    expect(payment?.receipt?.reference).toBe('pi_for_c1');
    expect(payment?.record.status).toBe('committed');
    expect(seen).toHaveLength(2);
    expect(seen[1]!.get('idempotency-key')).toMatch(/^stipend-[0-9a-f]{32}$/);
    expect(seen[1]!.get('payment-authorization')).toBeNull();
  });

  it('keeps the app Bearer token when the challenge asks for Payment-Authorization', async () => {
    const seen: Headers[] = [];
    handler = (request) => {
      seen.push(request.headers);
      if (!request.headers.get('payment-authorization')) {
        return new Response(null, {
          status: 402,
          headers: {
            'www-authenticate': stripeChallenge('c1', { header: 'Payment-Authorization' }),
          },
        });
      }
      return new Response('ok');
    };
    const { wallet } = recordingWallet();
    const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet], policy });
    const response = await payingFetch(`${ORIGIN}/members`, {
      headers: { authorization: 'Bearer app-secret' },
    });
    expect(response.status).toBe(200);
    expect(seen[1]!.get('authorization')).toBe('Bearer app-secret');
    expect(seen[1]!.get('payment-authorization')).toMatch(/^Payment /);
  });

  it('offers unknown methods and sessions, but no wallet pays them (no_wallet)', async () => {
    handler = () =>
      new Response(null, {
        status: 402,
        headers: {
          'www-authenticate': [
            challenge({
              id: 'v1',
              method: 'card',
              request: encodeBase64UrlJson({ amount: '60', currency: 'usd' }),
            }),
            challenge({
              id: 's1',
              method: 'tempo',
              intent: 'session',
              request: encodeBase64UrlJson({
                amount: '100',
                currency: '0x20c0000000000000000000000000000000000000',
                recipient: '0x12359dEE87A430Cf314127A429A33a2a0C0A612A',
                methodDetails: {
                  chainId: 4217,
                  escrowContract: '0x4d50500000000000000000000000000000000000',
                },
              }),
            }),
          ].join(', '),
        },
      });
    const { wallet, paid } = recordingWallet();
    const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet], policy });
    const error = await payingFetch(`${ORIGIN}/x`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDeniedError);
    const denied = error as PolicyDeniedError;
    expect(denied.reason).toBe('no_wallet');
    expect(denied.offers.map((o) => [o.scheme, o.code])).toEqual([
      ['card.charge', 'no_wallet'],
      ['tempo.session', 'no_wallet'],
    ]);
    expect(denied.offers[0]!.reason).toBe(
      'no wallet can pay it (no wallet pays mpp:card.charge); add a wallet for mpp:card.charge or fund the one you have',
    );
    expect(paid).toHaveLength(0);
  });

  it('pays a 402 loop once and stops, with a typed error', async () => {
    let count = 0;
    handler = () => {
      count++;
      return new Response(null, {
        status: 402,
        headers: { 'www-authenticate': stripeChallenge(`loop${count}`) },
      });
    };
    const { wallet, paid } = recordingWallet();
    const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet], policy });
    const response = await payingFetch(`${ORIGIN}/loop`);
    expect(response.status).toBe(402);
    expect(count).toBe(2);
    expect(paid).toHaveLength(1);
    const payment = getPayment(response);
    expect(payment?.status).toBe('unknown');
    expect(payment?.error).toBeInstanceOf(PaymentFailedError);
    expect(payment?.record.status).toBe('held');
  });
});

describe('mppAdapter pre-authorization hooks', () => {
  const retryOf = (method: string, url = `${ORIGIN}/article?x=1`) => ({
    method,
    url: new URL(url),
    headers: new Headers(),
    idempotencyKey: `${method} ${url}`,
  });
  const offerFrom = (adapter: ReturnType<typeof mppAdapter>, extra: Record<string, string> = {}) =>
    (
      adapter.parse({
        status: 402,
        headers: new Headers(),
        url: new URL(`${ORIGIN}/article?x=1`),
        method: 'GET',
        challenges: parseWwwAuthenticateLenient(stripeChallenge('p1', extra)).challenges,
        bodyText: async () => undefined,
        now: Date.now(),
      }) as readonly PaymentOffer[]
    )[0]!;
  const proof = { offerId: 'x', reference: 'r', settlement: 'authorization' as const, secret: {} };
  const ok = new Response('ok');

  it('offers the last paid stripe challenge of a GET route again until it expires', () => {
    const adapter = mppAdapter();
    const offer = offerFrom(adapter);
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
    adapter.remember!(offer, proof, retryOf('GET'), ok);
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toEqual([offer]);
    expect(
      adapter.preauthorize!(retryOf('GET', `${ORIGIN}/article?x=2`), Date.now()),
    ).toBeUndefined();
    expect(adapter.preauthorize!(retryOf('GET'), offer.expiresAt! + 1)).toBeUndefined();
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
  });

  it('never remembers POST routes, bodies bound by digest, or when turned off', () => {
    const adapter = mppAdapter();
    adapter.remember!(offerFrom(adapter), proof, retryOf('POST'), ok);
    expect(adapter.preauthorize!(retryOf('POST'), Date.now())).toBeUndefined();
    const digested = offerFrom(adapter, { digest: 'sha-256=abc' });
    adapter.remember!(digested, proof, retryOf('GET'), ok);
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
    const off = mppAdapter({ preauthorize: false });
    off.remember!(offerFrom(off), proof, retryOf('GET'), ok);
    expect(off.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
  });

  it('forgets a route whose reused challenge is refused, and the origin if it is invalid', async () => {
    const adapter = mppAdapter();
    const offer = offerFrom(adapter);
    adapter.remember!(offer, proof, retryOf('GET'), ok);
    const [again] = adapter.preauthorize!(retryOf('GET'), Date.now())!;
    const refused = new Response(
      JSON.stringify({ type: 'https://paymentauth.org/problems/invalid-challenge' }),
      { status: 402, headers: { 'content-type': 'application/problem+json' } },
    );
    // The server's word releases nothing: the authorization it holds may still move money.
    expect(
      await adapter.settle(again!, { ...proof, secret: { payload: {} } }, refused),
    ).toMatchObject({ reason: 'invalid_challenge', moneyMoved: 'unknown' });
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
    adapter.remember!(offerFrom(adapter), proof, retryOf('GET'), ok);
    expect(adapter.preauthorize!(retryOf('GET'), Date.now())).toBeUndefined();
  });
});

describe('prices only from client-known decimals (issue 11 finding 1)', () => {
  const USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
  const evmChallenge = (decimals: number) =>
    challenge({
      id: 'e1',
      method: 'evm',
      request: encodeBase64UrlJson({
        // 500,000 USDC (6 decimals), which 18 decimals would make 0.0000005 USDC.
        amount: '500000000000',
        currency: USDC,
        recipient: '0x742d35Cc6634c0532925a3b844bC9e7595F8fE00',
        methodDetails: { chainId: 8453, decimals },
      }),
    });
  function evmWallet() {
    const signed: PaymentOffer[] = [];
    const wallet: Wallet = {
      id: 'fake-evm',
      rails: ['mpp:evm.charge'],
      canPay: () => true,
      pay: async (offer) => {
        signed.push(offer);
        return {
          offerId: offer.id,
          reference: '0xnonce',
          settlement: 'authorization',
          secret: { payload: { type: 'authorization', signature: '0xsig' } },
        };
      },
    };
    return { wallet, signed };
  }

  it('a server claiming 18 decimals for a 6-decimal token is refused, nothing signed', async () => {
    handler = (request) =>
      request.headers.get('authorization')
        ? new Response('paid')
        : new Response(null, { status: 402, headers: { 'www-authenticate': evmChallenge(18) } });
    const { wallet, signed } = evmWallet();
    const payingFetch = createPayingFetch({
      adapters: [mppAdapter()],
      wallets: [wallet],
      policy,
      // Even a peg table naming the token: its decimals are the registry's, not the server's.
      prices: pegPriceSource({ pegs: { [`eip155:8453/${USDC}`]: 'USD' } }),
    });
    const error = await payingFetch(`${ORIGIN}/evm`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('asset_not_allowed');
    expect((error as PolicyDeniedError).offers[0]).toMatchObject({
      offerId: 'mpp:e1',
      scheme: 'evm.charge',
      amount: '500000000000',
      code: 'asset_not_allowed',
    });
    expect((error as PolicyDeniedError).offers[0]!.reason).toMatch(
      /claims 18 decimals, but it has 6/,
    );
    expect(signed).toHaveLength(0);
  });

  it('the same challenge with the right decimals is priced at 500,000 USD and refused by the cap', async () => {
    handler = () =>
      new Response(null, { status: 402, headers: { 'www-authenticate': evmChallenge(6) } });
    const { wallet, signed } = evmWallet();
    const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet], policy });
    const error = await payingFetch(`${ORIGIN}/evm`).catch((e: unknown) => e);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(signed).toHaveLength(0);
  });

  it('a token configured with a peg and no decimals is refused at configuration (CONFIG_INVALID)', () => {
    const unknown = 'eip155:31337/0x5FbDB2315678afecb367f032d93F642f64180aa3';
    let error: unknown;
    try {
      mppAdapter({ tokens: { [unknown]: { symbol: 'TST', peg: 'USD' } } });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toMatch(
      /mppAdapter tokens\["eip155:31337\/0x5FbDB.*"\]: decimals are missing.*decimals: 6, peg: 'USD'/,
    );
    // A known asset needs no decimals; a bad entry names its field.
    expect(() => mppAdapter({ tokens: { [`eip155:8453/${USDC}`]: { peg: 'USD' } } })).not.toThrow();
    expect(() => mppAdapter({ tokens: { [unknown]: { decimals: 99 } } })).toThrow(
      /tokens\[.*\]\.decimals: must be the token's decimals/,
    );
    expect(() => mppAdapter({ tokens: { [unknown]: { decimals: 6, peg: 'usd' } } })).toThrow(
      /\.peg: must be an upper-case ISO 4217 code/,
    );
    expect(() => mppAdapter({ tokens: { USDC: { decimals: 6 } } })).toThrow(
      /the key must be "eip155:<chainId>\/<address>"/,
    );
  });
});

describe('mppAdapter lightning fee cap (issue 11 finding 19)', () => {
  it('validates lightning.maxFeeMsat and maxFeePercent, naming the option', () => {
    expect(() => mppAdapter({ lightning: { maxFeeMsat: -1n } })).toThrow(
      /mppAdapter lightning\.maxFeeMsat must be a non-negative bigint/,
    );
    expect(() => mppAdapter({ lightning: { maxFeePercent: 101 } })).toThrow(
      /mppAdapter lightning\.maxFeePercent must be from 0 to 100/,
    );
    expect(() => mppAdapter({ lightning: { maxFeePercent: 'lots' } })).toThrow(
      /maxFeePercent must be a percentage/,
    );
    expect(() =>
      mppAdapter({ lightning: { maxFeePercent: '0.5', maxFeeMsat: 2000n } }),
    ).not.toThrow();
  });
});
