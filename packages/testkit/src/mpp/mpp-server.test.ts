import { Mppx as MppxClient, stripe as stripeClient } from 'mppx/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MppxStripeClient, StripeStandIn } from '../stripe/index.js';
import { createSptTokenCallback, startStripeStandIn } from '../stripe/index.js';
import type { MppServer } from './mpp-server.js';
import { startMppServer } from './mpp-server.js';

const seller = 'profile_test_seller_1';

/** Splits a (possibly folded) WWW-Authenticate value into `Payment` challenges' params. */
function parsePaymentChallenges(header: string): Record<string, string>[] {
  const challenges: Record<string, string>[] = [];
  const pattern =
    /\s*(?:,\s*)?(?:(Payment)\s+)?([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)/gy;
  let current: Record<string, string> | undefined;
  let end = 0;
  for (let m = pattern.exec(header); m !== null; m = pattern.exec(header)) {
    end = pattern.lastIndex;
    if (m[1]) {
      current = {};
      challenges.push(current);
    }
    if (!current) throw new Error(`param before any Payment scheme in: ${header}`);
    const raw = m[3] as string;
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    if ((m[2] as string) in current) throw new Error(`duplicate param ${m[2]}`);
    current[m[2] as string] = value;
  }
  if (end !== header.length) {
    throw new Error(`unparsed tail: ${header.slice(end)}`);
  }
  return challenges;
}

function decodeJson(base64url: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(base64url, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('startMppServer (real mppx server, Stripe stand-ins)', () => {
  let stripeApi: StripeStandIn;
  let server: MppServer;
  let sentAuthorizations: string[];

  function payingClient(options: { maxPaymentRetries?: number } = {}) {
    const stripeSdk = stripeApi.createStripeClient();
    return MppxClient.create({
      polyfill: false,
      ...options,
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        const credential =
          headers.get('payment-authorization') ?? headers.get('authorization') ?? '';
        if (credential.startsWith('Payment ')) sentAuthorizations.push(credential);
        return fetch(input, init);
      },
      methods: [
        stripeClient.charge({
          paymentMethod: 'pm_card_visa',
          createToken: createSptTokenCallback(stripeSdk),
        }),
      ],
    });
  }

  beforeEach(async () => {
    sentAuthorizations = [];
    stripeApi = await startStripeStandIn({ sellerProfile: seller });
    server = await startMppServer({ networkId: seller, paymentIntents: stripeApi.paymentIntents });
  });
  afterEach(async () => {
    await server.close();
    await stripeApi.close();
  });

  it('serves /free without payment', async () => {
    const response = await fetch(server.urlOf('/free'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ free: true });
    expect(server.challenges).toHaveLength(0);
  });

  it('answers an unpaid GET /article with a decodable stripe/charge challenge', async () => {
    const before = Date.now();
    const response = await fetch(server.urlOf('/article'));
    expect(response.status).toBe(402);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toBe('application/problem+json');

    const header = response.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(
      /^Payment id="[^"]+", realm="testkit\.stipend\.local", method="stripe", intent="charge", request="[A-Za-z0-9_-]+"/,
    );
    const [challenge, ...others] = parsePaymentChallenges(header);
    expect(others).toHaveLength(0);
    expect(challenge).toMatchObject({
      realm: 'testkit.stipend.local',
      method: 'stripe',
      intent: 'charge',
      description: 'Testkit article',
    });
    expect(challenge?.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(decodeJson(challenge?.request ?? '')).toEqual({
      amount: '50',
      currency: 'usd',
      methodDetails: { networkId: seller, paymentMethodTypes: ['card'] },
    });
    const expires = Date.parse(challenge?.expires ?? '');
    expect(expires).toBeGreaterThan(before + 4 * 60_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 5 * 60_000 + 1000);

    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      type: 'https://paymentauth.org/problems/payment-required',
      status: 402,
      challengeId: challenge?.id,
    });
    expect(server.challenges.map((c) => [c.route, c.method, c.challenge.id])).toEqual([
      ['/article', 'stripe', challenge?.id],
    ]);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(0);
  });

  it('is paid end to end by the real mppx client with an SPT from the real stripe SDK', async () => {
    const client = payingClient();
    const response = await client.fetch(server.urlOf('/article'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ title: 'Testkit article', body: 'Paid content.' });
    expect(response.headers.get('cache-control')).toBe('private');

    const receipt = decodeJson(response.headers.get('payment-receipt') ?? '');
    const [pi, ...morePis] = stripeApi.paymentIntents.paymentIntents;
    expect(morePis).toHaveLength(0);
    expect(receipt).toMatchObject({ method: 'stripe', status: 'success', reference: pi?.id });

    const [issue, ...moreRequests] = stripeApi.requests;
    expect(moreRequests).toHaveLength(0);
    const token = stripeApi.ledger.list()[0];
    expect(issue).toMatchObject({
      path: '/v1/shared_payment/issued_tokens',
      stripeVersion: '2026-07-29.preview',
      params: {
        payment_method: 'pm_card_visa',
        usage_limits: { currency: 'usd', max_amount: '50' },
        seller_details: { network_business_profile: seller },
      },
    });
    const challenge = server.challenges[0]?.challenge;
    expect(issue?.idempotencyKey).toBe(`mpp-spt-${challenge?.id}`);
    expect(token?.usageLimits.expiresAt).toBe(
      Math.floor(Date.parse(challenge?.expires ?? '') / 1000),
    );
    expect(pi).toMatchObject({
      amount: 50n,
      currency: 'usd',
      spt: token?.id,
      status: 'succeeded',
      via: 'client',
      apiVersion: '2026-07-29.preview',
      idempotencyKey: `mpp_${challenge?.id}_${token?.id}`,
      metadata: { mpp_challenge_id: challenge?.id, machine_payment: 'true' },
    });
    expect(token?.status).toBe('consumed');
    expect(server.payments.map((p) => [p.route, p.method, p.receipt.reference])).toEqual([
      ['/article', 'stripe', pi?.id],
    ]);
  });

  it('refuses a replayed credential without creating a second PaymentIntent', async () => {
    const paid = await payingClient().fetch(server.urlOf('/article'));
    expect(paid.status).toBe(200);
    expect(sentAuthorizations).toHaveLength(1);

    const replay = await fetch(server.urlOf('/article'), {
      headers: { authorization: sentAuthorizations[0] as string },
    });
    expect(replay.status).toBe(402);
    expect(replay.headers.get('payment-receipt')).toBeNull();
    const problem = (await replay.json()) as { type: string; detail: string };
    expect(problem.type).toBe('https://paymentauth.org/problems/verification-failed');
    expect(problem.detail).toContain('already been processed');

    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(1);
    expect(stripeApi.paymentIntents.calls.map((c) => c.outcome)).toEqual(['created', 'replayed']);
    expect(server.failures.map((f) => [f.route, f.problemType])).toEqual([
      ['/article', 'https://paymentauth.org/problems/verification-failed'],
    ]);
  });

  it('offers several challenges on /multi and the client pays the first stripe one', async () => {
    const unpaid = await fetch(server.urlOf('/multi'));
    expect(unpaid.status).toBe(402);
    const challenges = parsePaymentChallenges(unpaid.headers.get('www-authenticate') ?? '');
    expect(challenges.map((c) => c.method)).toEqual(['stripe', 'stripe', 'tempo']);
    expect(challenges.map((c) => decodeJson(c.request ?? '').amount)).toEqual([
      '50',
      '100',
      '500000',
    ]);
    expect(new Set(challenges.map((c) => c.id)).size).toBe(3);
    expect(decodeJson(challenges[2]?.request ?? '')).toMatchObject({
      currency: '0x20c0000000000000000000000000000000000000',
      methodDetails: { chainId: 42431 },
    });

    const paid = await payingClient().fetch(server.urlOf('/multi'));
    expect(paid.status).toBe(200);
    expect(stripeApi.paymentIntents.paymentIntents.map((p) => p.amount)).toEqual([50n]);
  });

  it('keeps the POST body through the 402 round trip on /echo', async () => {
    const body = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
    const response = await payingClient().fetch(server.urlOf('/echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(body);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(1);
  });

  it('asks for the credential in Payment-Authorization on a Bearer-protected route', async () => {
    const anonymous = await fetch(server.urlOf('/authed/article'));
    expect(anonymous.status).toBe(401);

    const bearer = { authorization: `Bearer ${server.bearerToken}` };
    const unpaid = await fetch(server.urlOf('/authed/article'), { headers: bearer });
    expect(unpaid.status).toBe(402);
    const [challenge] = parsePaymentChallenges(unpaid.headers.get('www-authenticate') ?? '');
    expect(challenge?.header).toBe('Payment-Authorization');

    const paid = await payingClient().fetch(server.urlOf('/authed/article'), { headers: bearer });
    expect(paid.status).toBe(200);
    expect(await paid.json()).toEqual({ title: 'Members article' });
    expect(sentAuthorizations).toHaveLength(1);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(1);
  });

  it('turns a declined card into verification-failed; mppx then pays again with a new SPT', async () => {
    stripeApi.paymentIntents.declineNext();
    const response = await payingClient().fetch(server.urlOf('/article'));
    expect(response.status).toBe(200);
    expect(stripeApi.paymentIntents.paymentIntents.map((p) => p.status)).toEqual([
      'requires_payment_method',
      'succeeded',
    ]);
    expect(stripeApi.ledger.list()).toHaveLength(2);
    expect(server.failures.map((f) => f.problemType)).toEqual([
      'https://paymentauth.org/problems/verification-failed',
    ]);
    expect(server.failures[0]?.message).toContain('declined');
  });

  it('turns a requires_action PaymentIntent into payment-action-required', async () => {
    stripeApi.paymentIntents.requireActionNext();
    const response = await payingClient({ maxPaymentRetries: 1 }).fetch(server.urlOf('/article'));
    expect(response.status).toBe(402);
    const problem = (await response.json()) as { type: string };
    expect(problem.type).toBe('https://paymentauth.org/problems/payment-action-required');
    expect(stripeApi.paymentIntents.paymentIntents.map((p) => p.status)).toEqual([
      'requires_action',
    ]);
  });
});

describe('startMppServer with the real stripe SDK as its server-side client', () => {
  it('charges over HTTP and still refuses a replay', async () => {
    const stripeApi = await startStripeStandIn({ sellerProfile: seller });
    const server = await startMppServer({
      networkId: seller,
      paymentIntents: stripeApi.paymentIntents,
      stripeClient: stripeApi.createStripeClient() as unknown as MppxStripeClient,
    });
    try {
      const sent: string[] = [];
      const client = MppxClient.create({
        polyfill: false,
        fetch: async (input, init) => {
          const auth = new Headers(init?.headers).get('authorization');
          if (auth?.startsWith('Payment ')) sent.push(auth);
          return fetch(input, init);
        },
        methods: [
          stripeClient.charge({
            paymentMethod: 'pm_card_visa',
            createToken: createSptTokenCallback(stripeApi.createStripeClient()),
          }),
        ],
      });
      const paid = await client.fetch(server.urlOf('/article'));
      expect(paid.status).toBe(200);
      const piRequest = stripeApi.requests.find((r) => r.path === '/v1/payment_intents');
      expect(piRequest).toMatchObject({
        stripeVersion: '2026-07-29.preview',
        authScheme: 'bearer',
        params: { amount: '50', currency: 'usd', confirm: 'true' },
      });
      expect(piRequest?.params.shared_payment_granted_token).toMatch(/^spt_test_/);
      expect(stripeApi.paymentIntents.paymentIntents[0]?.via).toBe('http');

      const replay = await fetch(server.urlOf('/article'), {
        headers: { authorization: sent[0] as string },
      });
      expect(replay.status).toBe(402);
      expect(((await replay.json()) as { detail: string }).detail).toContain(
        'already been processed',
      );
      expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(1);
      expect(
        stripeApi.requests.filter((r) => r.path === '/v1/payment_intents').map((r) => r.replayed),
      ).toEqual([false, true]);
    } finally {
      await server.close();
      await stripeApi.close();
    }
  });
});
