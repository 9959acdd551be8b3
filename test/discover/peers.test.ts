/**
 * Quotes and discovery against the real peers of the testkit, counting at each rail that
 * nothing was paid: the REAL mppx 0.11 server (Stripe stand-in behind it) and its
 * `mppx/discovery` output, the REAL `@x402/hono` middleware with the reference facilitator on
 * anvil, and the testkit's aperture-equivalent L402 server on its simulated Lightning network.
 */
import { fixedPriceSource, l402Adapter, mppAdapter, x402Adapter } from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { createLightningNetwork, type L402Server, startL402Server } from '@stipend/testkit/l402';
import { type MppServer, startMppServer } from '@stipend/testkit/mpp';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { startX402Server, type X402ServerHandle } from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { lightningWallet } from '@stipend/wallet-lightning';
import { stripeWallet } from '@stipend/wallet-stripe';
import * as Discovery from 'mppx/discovery';
import { Mppx, stripe, tempo } from 'mppx/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discover } from '../../packages/client/src/discover/index.js';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';
import { countingSigner, testAsset } from '../x402/setup.test-helpers.js';
import { quoting } from './core.test-helpers.js';

const seller = 'profile_test_quote_seller';

describe('MPP: the real mppx server', () => {
  let stripeApi: StripeStandIn;
  let server: MppServer;
  beforeAll(async () => {
    stripeApi = await startStripeStandIn({ sellerProfile: seller });
    server = await startMppServer({ networkId: seller, paymentIntents: stripeApi.paymentIntents });
  });
  afterAll(async () => {
    await server?.close();
    await stripeApi?.close();
  });

  it('a quote of /multi picks the cheaper stripe offer and pays nothing: no SPT, no PaymentIntent, no credential', async () => {
    const q = quoting({
      adapters: [mppAdapter()],
      wallets: [
        stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
      ],
      policy: { global: { maxPerRequest: { usd: '2.00' } } },
    });
    const intents = stripeApi.paymentIntents.paymentIntents.length;
    const answer = await q.quoteOf(server.urlOf('/multi'));
    expect(answer.kind).toBe('priced');
    if (answer.kind !== 'priced') return;
    expect(answer.decision).toMatchObject({ outcome: 'pay', usdMicros: 500_000n });
    const chosen = answer.offers.find((offer) => offer.verdict === 'chosen')!;
    expect(chosen).toMatchObject({ rail: 'mpp:stripe.charge', payee: seller });
    // The tempo offer is offered but no wallet pays it.
    expect(
      answer.offers.some(
        (offer) => offer.rail === 'mpp:tempo.charge' && offer.code === 'no_wallet',
      ),
    ).toBe(true);

    expect(stripeApi.requests.filter((r) => r.path === '/v1/shared_payment/issued_tokens')).toEqual(
      [],
    );
    expect(stripeApi.paymentIntents.paymentIntents.length).toBe(intents);
    expect(server.payments).toEqual([]);
    expect(q.credentialsSent()).toEqual([]);
    expect(q.sent).toHaveLength(1);
    expect(q.reservations).toEqual([]);
    expect(await q.journal.list()).toEqual([]);
  });

  it('a quote of a free route is free', async () => {
    const q = quoting({ adapters: [mppAdapter()], wallets: [], policy: { global: {} } });
    expect(await q.quoteOf(server.urlOf('/free'))).toMatchObject({ kind: 'free', status: 200 });
  });
});

describe('MPP discovery: what mppx/discovery generates', () => {
  let site: TestServer;
  let charged = 0;
  beforeAll(async () => {
    const client = {
      paymentIntents: {
        create: async () => {
          charged++;
          throw new Error('discovery must not charge');
        },
      },
    };
    const mppx = Mppx.create({
      methods: [
        stripe.charge({
          client: client as never,
          networkId: seller,
          currency: 'usd',
          decimals: 2,
          paymentMethodTypes: ['card'],
        }),
        tempo.charge({
          currency: '0x20c0000000000000000000000000000000000000',
          recipient: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
          testnet: true,
        }),
      ],
      secretKey: 'k'.repeat(44),
      realm: 'discovery.test',
    });
    const article = mppx['stripe/charge']({ amount: '0.50', description: 'Article' });
    const multi = mppx.compose(
      ['stripe/charge', { amount: '0.25' }],
      ['tempo/charge', { amount: '0.25' }],
    );
    const document = Discovery.generate(mppx, {
      routes: [
        { method: 'get', path: '/article', handler: article },
        { method: 'post', path: '/multi', handler: multi },
      ],
      serviceInfo: { categories: ['data'], docs: { llms: '/llms.txt' } },
    });
    site = await startTestServer(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/openapi.json') return Response.json(document);
      if (path === '/article') {
        const result = await article(request);
        return result.status === 402 ? result.challenge : new Response('paid');
      }
      return new Response('not found', { status: 404 });
    });
  });
  afterAll(async () => {
    await site?.close();
  });

  it('discover prices the stripe offers of an mppx-generated document and pays nothing', async () => {
    const found = await discover(site.origin);
    expect(found.endpoints.map((e) => `${e.method} ${e.path}`)).toEqual([
      'GET /article',
      'POST /multi',
    ]);
    expect(found.endpoints[0]).toMatchObject({ cheapestUsdMicros: 500_000n });
    expect(found.endpoints[0]!.offers[0]).toMatchObject({
      scheme: 'stripe.charge',
      description: 'Article',
    });
    const tempoOffer = found.endpoints[1]!.offers.find((offer) => offer.scheme === 'tempo.charge')!;
    // No chain in the document: the token's decimals are not guessed.
    expect(tempoOffer.usdMicros).toBeUndefined();
    expect(tempoOffer.payee).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
    expect(found.endpoints[1]!.cheapestUsdMicros).toBe(250_000n);
    expect(charged).toBe(0);
  });
});

describe('x402: the reference @x402/hono middleware on anvil', () => {
  let server: X402ServerHandle;
  let front: TestServer;
  beforeAll(async () => {
    server = await startX402Server();
    // The installed middleware serves no manifest: a front serves /.well-known/x402 listing
    // the real routes, and passes everything else to the real server.
    front = await startTestServer(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === '/.well-known/x402') {
        return Response.json({
          x402Version: 2,
          kind: 'resource-server',
          resources: [`${url.origin}/weather`, `${url.origin}/two-offers`, `${url.origin}/free`],
        });
      }
      return fetch(`${server.url}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        redirect: 'manual',
      });
    });
  });
  afterAll(async () => {
    await front?.close();
    await server?.close();
  });

  it('a quote of /two-offers names the cheaper offer and signs nothing, settles nothing', async () => {
    // Funded, so the balance-aware choice can pay it.
    await server.chain.mint(devAccount(7).address, 1_000_000n);
    const { signer, signed } = countingSigner(devAccount(7));
    const q = quoting({
      adapters: [x402Adapter({ assets: [testAsset(server.token)] })],
      wallets: [evmWallet({ account: signer, publicClient: server.chain.publicClient })],
      policy: { global: { maxPerRequest: { usd: '0.01' } } },
    });
    const answer = await q.quoteOf(`${server.url}/two-offers`);
    expect(answer.kind === 'priced' && answer.decision).toMatchObject({
      outcome: 'pay',
      usdMicros: 2_000n,
    });
    expect(
      answer.kind === 'priced' && answer.offers.find((o) => o.verdict === 'chosen')?.payee,
    ).toBe(server.secondPayTo);
    expect(signed).toEqual([]);
    expect(server.settlements).toEqual([]);
    expect(server.requests.every((request) => !request.paid)).toBe(true);
    expect(q.reservations).toEqual([]);
  });

  it('discover reads the real 402s of the listed resources and prices them with the known asset', async () => {
    const before = server.requests.length;
    const found = await discover(front.origin, { assets: [testAsset(server.token)] });
    const weather = found.endpoints.find((e) => e.path === '/weather')!;
    expect(weather).toMatchObject({ method: 'GET', source: 'x402-402', cheapestUsdMicros: 1_000n });
    const two = found.endpoints.find((e) => e.path === '/two-offers')!;
    expect(two.offers.map((o) => o.usdMicros)).toEqual([5_000n, 2_000n]);
    expect(found.endpoints.some((e) => e.path === '/free')).toBe(false);
    expect(server.settlements).toEqual([]);
    expect(
      server.requests.slice(before).every((request) => !request.paid && request.method === 'GET'),
    ).toBe(true);
  });
});

describe('L402: the testkit aperture-equivalent server', () => {
  const network = createLightningNetwork();
  let server: L402Server;
  beforeAll(async () => {
    server = await startL402Server({ network });
  });
  afterAll(async () => {
    await server?.close();
    network.close();
  });

  it('a quote of /quote verifies the payee from the invoice and pays no invoice', async () => {
    const q = quoting({
      adapters: [l402Adapter()],
      wallets: [lightningWallet({ backend: simulatorBackend(network), network: 'regtest' })],
      policy: { global: { maxPerRequest: { usd: '1.00' } } },
      prices: fixedPriceSource({ btcUsd: '100000' }),
    });
    const before = network.stats();
    const answer = await q.quoteOf(`${server.url}/quote`);
    expect(answer.kind).toBe('priced');
    if (answer.kind !== 'priced') return;
    const chosen = answer.offers.find((offer) => offer.verdict === 'chosen')!;
    expect(chosen).toMatchObject({ rail: 'l402:bolt11', payeeVerified: true });
    expect(chosen.maxFee).toBeDefined();
    expect(answer.decision.outcome).toBe('pay');
    expect(network.stats()).toEqual(before);
    expect(q.credentialsSent()).toEqual([]);
  });
});
