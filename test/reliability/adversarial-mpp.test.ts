/**
 * Adversarial MPP servers, beyond `test/mpp/hostile.test.ts` (catalogue ids M1–M13 in
 * README.md), against the MPP adapter and `stripeWallet` (the real `stripe` SDK on the SPT
 * stand-in). Each case: no PaymentIntent is charged (counted at the Stripe stand-in), no token
 * is issued unless the policy approved that exact offer (and such a token is revoked unused),
 * and the call ends with a typed StipendError (thrown, or attached to the response).
 */
import type { ServerResponse } from 'node:http';
import {
  createPayingFetch,
  getPayment,
  mppAdapter,
  type PaymentFailedError,
} from '@stipend/client';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { stripeWallet } from '@stipend/wallet-stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeBase64UrlJson } from '../../packages/client/src/protocols/mpp/base64url.js';
import { type HostileServer, startHostileServer, typedError } from './hostile.test-helpers.js';

const seller = 'profile_adversarial';
let stripeApi: StripeStandIn;
let hostile: HostileServer;

beforeAll(async () => {
  stripeApi = await startStripeStandIn({ sellerProfile: seller });
  hostile = await startHostileServer();
});
afterAll(async () => {
  await hostile?.close();
  await stripeApi?.close();
});
beforeEach(() => {
  hostile.hits.length = 0;
});

let counter = 0;
const soon = (ms = 300_000) => new Date(Date.now() + ms).toISOString();
const stripeRequest = (overrides: Record<string, unknown> = {}) => ({
  amount: '50',
  currency: 'usd',
  methodDetails: { networkId: seller },
  ...overrides,
});
/** A `Payment` challenge; `request` may be given already encoded (a string). */
function challenge(params: Record<string, string | undefined> = {}, request?: unknown): string {
  const all: Record<string, string | undefined> = {
    id: `adv_${++counter}`,
    realm: 'adversarial.local',
    method: 'stripe',
    intent: 'charge',
    request:
      typeof request === 'string' ? request : encodeBase64UrlJson(request ?? stripeRequest()),
    expires: soon(),
    ...params,
  };
  return `Payment ${Object.entries(all)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ')}`;
}

function answer402(
  res: ServerResponse,
  www: string,
  body = '',
  extra: Record<string, string> = {},
) {
  res.writeHead(402, {
    'www-authenticate': www,
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}
const problem = (type: string) =>
  JSON.stringify({ type: `https://paymentauth.org/problems/${type}`, status: 402 });

function payingFetch() {
  return createPayingFetch({
    adapters: [mppAdapter()],
    wallets: [
      stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
    ],
    policy: { global: { maxPerRequest: { usd: '1.00' } } },
  });
}

const tokensIssued = () =>
  stripeApi.requests.filter(
    (r) => r.method === 'POST' && r.path === '/v1/shared_payment/issued_tokens',
  ).length;
const charged = () =>
  stripeApi.paymentIntents.paymentIntents.filter((p) => p.status === 'succeeded').length;
const credentials = () =>
  hostile.hits.filter((h) => String(h.headers.authorization ?? '').startsWith('Payment ')).length;

/** A case refused before any token: no SPT issued, no credential sent, nothing charged. */
async function refusedBeforePaying(www: string) {
  const tokens = tokensIssued();
  hostile.handler = (_req, res) => answer402(res, www, problem('payment-required'));
  const error = await typedError(
    payingFetch()(`${hostile.origin}/article`),
    (r) => getPayment(r)?.error,
  );
  expect(tokensIssued()).toBe(tokens);
  expect(credentials()).toBe(0);
  expect(charged()).toBe(0);
  return error;
}

describe('adversarial MPP: amounts, currencies and expiry (refused before any token)', () => {
  it('M1 currency swap: 50 JPY where USD was expected (no price for it, never guessed)', async () => {
    const error = await refusedBeforePaying(challenge({}, stripeRequest({ currency: 'jpy' })));
    expect(error.code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('price_unavailable');
  });

  it('M2 decimals trick: an amount with a leading zero ("050")', async () => {
    const error = await refusedBeforePaying(challenge({}, stripeRequest({ amount: '050' })));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('M3 oversized amount: 78 digits of cents', async () => {
    const error = await refusedBeforePaying(
      challenge({}, stripeRequest({ amount: '9'.repeat(78) })),
    );
    expect(error.code).toBe('POLICY_DENIED');
  });

  it('M4 expires within the clock-skew margin (10 s from now)', async () => {
    const error = await refusedBeforePaying(challenge({ expires: soon(10_000) }));
    expect(error.code).toBe('CHALLENGE_INVALID');
    expect(error.shortMessage).toMatch(/expired/);
  });

  it('M5 method swap: a stripe challenge carrying an EVM request', async () => {
    const error = await refusedBeforePaying(
      challenge(
        {},
        {
          amount: '10000',
          currency: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
          recipient: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
          methodDetails: { chainId: 8453 },
        },
      ),
    );
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('M6 an EVM charge in an unknown token with stated decimals 0: never priced, never paid', async () => {
    const error = await refusedBeforePaying(
      challenge(
        { method: 'evm' },
        {
          amount: '1',
          currency: '0x4200000000000000000000000000000000000006',
          recipient: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
          methodDetails: { chainId: 8453, decimals: 0 },
        },
      ),
    );
    expect(error.code).toBe('POLICY_DENIED');
  });
});

describe('adversarial MPP: malformed encodings and size bombs', () => {
  it('M7 request in standard base64 (+ and /) instead of base64url', async () => {
    const json = JSON.stringify(stripeRequest({ description: '??>>??>>' }));
    const standard = Buffer.from(json).toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    const error = await refusedBeforePaying(challenge({}, standard));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('M8 request that is not UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"amount":"50","currency":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const error = await refusedBeforePaying(challenge({}, bytes.toString('base64url')));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('M9 header bomb: 40 challenges, the payable one beyond the parser cap (32)', async () => {
    const tempo = (i: number) =>
      challenge(
        { id: `tempo_${i}`, method: 'tempo' },
        {
          amount: '1',
          currency: '0x20c0000000000000000000000000000000000000',
          recipient: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
          methodDetails: { chainId: 42431 },
        },
      );
    const www = [...Array.from({ length: 39 }, (_, i) => tempo(i)), challenge()].join(', ');
    expect(www.length).toBeLessThan(16_000);
    const error = await refusedBeforePaying(www);
    expect(error.code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('no_wallet');
  });

  it('M10 body bomb: a 2 MiB problem body on the refusal of the credential; the token is revoked unused', async () => {
    const tokens = tokensIssued();
    const huge = JSON.stringify({
      type: 'https://paymentauth.org/problems/verification-failed',
      detail: 'x'.repeat(2 * 1024 * 1024),
    });
    hostile.handler = (req, res) =>
      String(req.headers.authorization ?? '').startsWith('Payment ')
        ? answer402(res, challenge(), huge)
        : answer402(res, challenge(), problem('payment-required'));
    const response = await payingFetch()(`${hostile.origin}/article`);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(false);
    expect(payment?.record.status).toBe('released');
    expect(tokensIssued() - tokens).toBe(1);
    expect(charged()).toBe(0);
  });
});

describe('adversarial MPP: changed terms and lying receipts', () => {
  it('M11 changed terms after the credential: a new challenge at 100× is not paid; the token is revoked', async () => {
    const tokens = tokensIssued();
    hostile.handler = (req, res) =>
      String(req.headers.authorization ?? '').startsWith('Payment ')
        ? answer402(
            res,
            challenge({}, stripeRequest({ amount: '5000' })),
            problem('verification-failed'),
          )
        : answer402(res, challenge(), problem('payment-required'));
    const response = await payingFetch()(`${hostile.origin}/article`);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('released');
    expect(tokensIssued() - tokens).toBe(1);
    expect(credentials()).toBe(1);
    expect(charged()).toBe(0);
  });

  it('M12 a receipt that lies: "verification-failed" with a Payment-Receipt claiming success', async () => {
    const tokens = tokensIssued();
    const receipt = encodeBase64UrlJson({
      method: 'stripe',
      reference: 'pi_fake_success',
      status: 'success',
      timestamp: new Date().toISOString(),
    });
    hostile.handler = (req, res) =>
      String(req.headers.authorization ?? '').startsWith('Payment ')
        ? answer402(res, challenge(), problem('verification-failed'), {
            'payment-receipt': receipt,
          })
        : answer402(res, challenge(), problem('payment-required'));
    const response = await payingFetch()(`${hostile.origin}/article`);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    // The token was never charged, so revoking it proves nothing moved, whatever the receipt says.
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(false);
    expect(payment?.record.status).toBe('released');
    expect(tokensIssued() - tokens).toBe(1);
    expect(charged()).toBe(0);
  });

  it('M13 a 2 MiB problem body sent chunked (no length): read up to the cap, the token revoked, released', async () => {
    const tokens = tokensIssued();
    const huge = JSON.stringify({
      type: 'https://paymentauth.org/problems/verification-failed',
      detail: 'x'.repeat(2 * 1024 * 1024),
    });
    hostile.handler = (req, res) => {
      if (!String(req.headers.authorization ?? '').startsWith('Payment ')) {
        answer402(res, challenge(), problem('payment-required'));
        return;
      }
      res.writeHead(402, {
        'www-authenticate': challenge(),
        'content-type': 'application/problem+json',
      });
      res.end(huge);
    };
    const started = performance.now();
    const response = await payingFetch()(`${hostile.origin}/article`);
    expect(performance.now() - started).toBeLessThan(5_000);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('released');
    expect(tokensIssued() - tokens).toBe(1);
    expect(charged()).toBe(0);
  });
});
