/**
 * Hostile MPP servers (a tiny node:http server per case) against Stipend's paying fetch with
 * the MPP adapter and the Stripe wallet (real `stripe` SDK, SPT stand-in). Each case ends with
 * nothing paid — no Shared Payment Token issued, or the one issued revoked unused — and a
 * typed StipendError.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChallengeParseError,
  createPayingFetch,
  getPayment,
  isStipendError,
  PaymentFailedError,
  PolicyDeniedError,
} from '@stipend/client';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { sptReference, stripeWallet } from '@stipend/wallet-stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeBase64UrlJson,
  encodeBase64UrlJson,
  mppAdapter,
} from '../../packages/client/src/protocols/mpp/index.js';

const seller = 'profile_hostile';
let stripeApi: StripeStandIn;
let server: Server;
let origin: string;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
let hits: { headers: IncomingMessage['headers']; body: string }[];

/** The stand-in's token behind a record's reference (`spt:` + hash, never the id). */
async function tokenOf(reference: string) {
  for (const token of stripeApi.ledger.list()) {
    if ((await sptReference(token.id)) === reference) return token;
  }
  return undefined;
}

const soon = () => new Date(Date.now() + 300_000).toISOString();
let counter = 0;
/** A `Payment` challenge; params override the defaults, `undefined` leaves one out. */
function challenge(params: Record<string, string | undefined> = {}, request?: unknown): string {
  const all: Record<string, string | undefined> = {
    id: `hostile_${++counter}`,
    realm: 'hostile.local',
    method: 'stripe',
    intent: 'charge',
    request: encodeBase64UrlJson(
      request ?? { amount: '50', currency: 'usd', methodDetails: { networkId: seller } },
    ),
    expires: soon(),
    ...params,
  };
  return `Payment ${Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}`;
}

function answer402(res: ServerResponse, www: string, problem = 'payment-required') {
  res.writeHead(402, {
    'www-authenticate': www,
    'cache-control': 'no-store',
    'content-type': 'application/problem+json',
  });
  res.end(JSON.stringify({ type: `https://paymentauth.org/problems/${problem}`, status: 402 }));
}

const sptIssued = () =>
  stripeApi.requests.filter((r) => r.path === '/v1/shared_payment/issued_tokens').length;

function payingFetch() {
  return createPayingFetch({
    adapters: [mppAdapter()],
    wallets: [
      stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
    ],
    policy: { global: { maxPerRequest: { usd: '1.00' } } },
  });
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isStipendError(error)) return error;
    throw error;
  }
  throw new Error('expected a StipendError');
}

beforeAll(async () => {
  stripeApi = await startStripeStandIn({ sellerProfile: seller });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      hits.push({ headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await stripeApi.close();
});
beforeEach(() => {
  hits = [];
});

/** The request was answered 402 once and never retried with a credential. */
function expectNothingPaid(before: number) {
  expect(sptIssued()).toBe(before);
  expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(0);
  expect(hits).toHaveLength(1);
  expect(hits[0]!.headers.authorization).toBeUndefined();
}

describe('hostile MPP servers', () => {
  it.each([
    ['request is not base64url', { request: 'eyJhbW91bnQiOiI1MCJ9!!' }, undefined, /base64url/],
    [
      'request amount is a decimal',
      {},
      { amount: '0.50', currency: 'usd', methodDetails: { networkId: seller } },
      /amount: invalid_format/,
    ],
    [
      'request currency is not ISO 4217',
      {},
      { amount: '50', currency: 'usdx', methodDetails: { networkId: seller } },
      /currency/,
    ],
    [
      'request names no seller profile',
      {},
      { amount: '50', currency: 'usd', methodDetails: {} },
      /networkId/,
    ],
    [
      'request is JSON but not an object',
      { request: encodeBase64UrlJson('50') },
      undefined,
      /not a JSON object/,
    ],
    ['expires is missing', { expires: undefined }, undefined, /no expires/],
    ['expires is in the past', { expires: '2020-01-01T00:00:00Z' }, undefined, /expired at 2020/],
    ['expires is not a date', { expires: 'soon' }, undefined, /RFC 3339/],
    [
      'the credential header is neither Authorization nor Payment-Authorization',
      { header: 'Cookie' },
      undefined,
      /header "Cookie"; only Authorization and Payment-Authorization/,
    ],
  ])('refuses a challenge whose %s', async (_name, params, request, reason) => {
    handler = (_req, res) => answer402(res, challenge(params, request));
    const before = sptIssued();
    const error = await failure(payingFetch()(`${origin}/tampered`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect(error.code).toBe('CHALLENGE_INVALID');
    expect(error.shortMessage).toMatch(reason);
    expectNothingPaid(before);
  });

  it('refuses an amount above the per-request cap, whatever the description says', async () => {
    handler = (_req, res) =>
      answer402(
        res,
        challenge(
          { description: 'Only $0.50!' },
          { amount: '5000', currency: 'usd', methodDetails: { networkId: seller } },
        ),
      );
    const before = sptIssued();
    const error = await failure(payingFetch()(`${origin}/expensive`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(error.shortMessage).toMatch(/costs \$50\.00, above the per-request cap of \$1\.00/);
    expectNothingPaid(before);
  });

  it('ignores a challenge with a repeated parameter (the 402 comes back unpaid)', async () => {
    // `id` twice in one challenge: the shared parser skips the challenge, so no adapter speaks.
    handler = (_req, res) => answer402(res, challenge().replace('Payment ', 'Payment id="x", '));
    const before = sptIssued();
    const response = await payingFetch()(`${origin}/duplicated`);
    expect(response.status).toBe(402);
    expect(getPayment(response)).toBeUndefined();
    expectNothingPaid(before);
  });

  it('stops a 402 loop after one credential; the token is revoked unused, nothing charged', async () => {
    handler = (_req, res) => answer402(res, challenge());
    const before = sptIssued();
    const fetchOnce = payingFetch();
    const response = await fetchOnce(`${origin}/loop`);
    expect(response.status).toBe(402);
    expect(hits).toHaveLength(2);
    expect(hits[1]!.headers.authorization).toMatch(/^Payment /);
    const payment = getPayment(response)!;
    expect(payment.error).toBeInstanceOf(PaymentFailedError);
    expect((payment.error as PaymentFailedError).paid).not.toBe(true);
    expect(sptIssued()).toBe(before + 1);
    // Released only once the wallet revoked the token (at once, or when reconciled).
    await fetchOnce.reconcile();
    const [record] = await fetchOnce.ledger.list();
    expect(record!.status).toBe('released');
    expect(await tokenOf(record!.reference!)).toMatchObject({
      status: 'revoked',
      amountCaptured: 0n,
    });
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(0);
  });

  it('stops pre-authorizing an origin that refuses a reused challenge, without paying twice', async () => {
    const used = new Set<string>();
    handler = (req, res) => {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Payment ')) return answer402(res, challenge());
      const { challenge: echoed, payload } = decodeBase64UrlJson(auth.slice(8)) as {
        challenge: { id: string };
        payload: { spt: string };
      };
      if (used.has(echoed.id)) return answer402(res, challenge(), 'invalid-challenge');
      used.add(echoed.id);
      stripeApi.ledger.capture(payload.spt, 50n);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('paid');
    };
    const pay = createPayingFetch({
      adapters: [mppAdapter()],
      wallets: [
        stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
      ],
      policy: { global: { maxPerRequest: { usd: '1.00' } } },
      preauthorize: true,
    });
    expect((await pay(`${origin}/strict`, { payment: { idempotencyKey: '1' } })).status).toBe(200);
    const before = sptIssued();
    hits = [];
    // The reused challenge is refused; its token is revoked and the fresh challenge is paid.
    const second = await pay(`${origin}/strict`, { payment: { idempotencyKey: '2' } });
    expect(second.status).toBe(200);
    expect(hits).toHaveLength(2);
    expect(sptIssued()).toBe(before + 2);
    const tokens = stripeApi.ledger.list().slice(-2);
    expect(tokens.map((t) => [t.status, t.amountCaptured])).toEqual([
      ['revoked', 0n],
      ['consumed', 50n],
    ]);
    hits = [];
    // Not pre-authorized again on this origin: a normal 402 round trip.
    expect((await pay(`${origin}/strict`, { payment: { idempotencyKey: '3' } })).status).toBe(200);
    expect(hits).toHaveLength(2);
    expect(hits[0]!.headers.authorization).toBeUndefined();
  });

  it('a server that charges the token and then claims the challenge expired does not get the budget released', async () => {
    handler = (req, res) => {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Payment ')) return answer402(res, challenge());
      const { payload } = decodeBase64UrlJson(auth.slice(8)) as { payload: { spt: string } };
      stripeApi.ledger.capture(payload.spt, 50n);
      answer402(res, challenge(), 'payment-expired');
    };
    const response = await payingFetch()(`${origin}/liar`);
    const payment = getPayment(response)!;
    expect(payment.error).toBeInstanceOf(PaymentFailedError);
    // The server's "expired" releases nothing: the money it took stays counted (committed as
    // paid, or held until the rail is asked), never released.
    expect((payment.error as PaymentFailedError).paid).not.toBe(false);
    expect(payment.record.status).not.toBe('released');
    expect((await tokenOf(payment.record.reference!))?.amountCaptured).toBe(50n);
  });
});

describe('no secrets as references (issue 11 finding 18)', () => {
  /** Everything a paying fetch exposes: events, ledger, purchase journal, outcome and error. */
  async function exposed(path: string) {
    const seen: unknown[] = [];
    const fetchOnce = payingFetch();
    for (const name of ['challenge', 'decision', 'payment', 'receipt', 'error'] as const) {
      fetchOnce.on(name, (event: unknown) => seen.push(event));
    }
    const result = await fetchOnce(`${origin}${path}`).then(
      (response) => getPayment(response),
      (error: unknown) => error,
    );
    const payment = result as { error?: { message?: string; stack?: string } } | undefined;
    const text = JSON.stringify(
      {
        seen,
        result,
        errorText: [payment?.error?.message, payment?.error?.stack, String(payment?.error)],
        ledger: await fetchOnce.ledger.list(),
        purchases: await fetchOnce.purchases.list(),
      },
      (_key, value) => (typeof value === 'bigint' ? value.toString() : value),
    );
    return { text, result };
  }

  it('no record, event, journal entry or error carries the SPT id, paid or refused, even when the server echoes it', async () => {
    handler = (req, res) => {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Payment ')) return answer402(res, challenge());
      const { payload } = decodeBase64UrlJson(auth.slice(8)) as { payload: { spt: string } };
      if (req.url === '/ok') {
        stripeApi.ledger.capture(payload.spt, 50n);
        res.setHeader(
          'payment-receipt',
          encodeBase64UrlJson({ status: 'success', reference: payload.spt, token: payload.spt }),
        );
        res.end('paid');
        return;
      }
      // A refusal that echoes the token everywhere it can.
      res.writeHead(402, {
        'www-authenticate': challenge(),
        'content-type': 'application/problem+json',
        'payment-receipt': encodeBase64UrlJson({ status: 'failed', reference: payload.spt }),
      });
      res.end(
        JSON.stringify({
          type: 'https://paymentauth.org/problems/verification-failed',
          detail: `token ${payload.spt} was declined`,
        }),
      );
    };
    const before = stripeApi.ledger.list().length;
    const paid = await exposed('/ok');
    const refused = await exposed('/echo');
    const ids = stripeApi.ledger
      .list()
      .slice(before)
      .map((token) => token.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect(paid.text).not.toContain(id);
      expect(refused.text).not.toContain(id);
    }
    // The reference is there, and it is the non-secret one.
    expect((paid.result as { record: { reference: string } }).record.reference).toBe(
      await sptReference(ids[0]!),
    );
    expect(refused.text).toContain('token [redacted] was declined');
  });
});
