/**
 * Hostile x402 servers (a tiny node:http server per case): each misbehaviour must end with
 * nothing signed (or nothing signed beyond what the policy approved), nothing paid, and a
 * typed Stipend error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChallengeParseError,
  createPayingFetch,
  getPayment,
  PaymentFailedError,
  PolicyDeniedError,
  type SpendPolicy,
  x402Adapter,
} from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countingSigner } from './setup.test-helpers.js';

const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const OTHER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;
let handler: Handler;
let server: Server;
let origin: string;
let seen: { method: string; url: string; headers: IncomingMessage['headers'] }[];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      headers: request.headers,
    });
    request.resume();
    request.on('end', () => handler(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});
beforeEach(() => {
  seen = [];
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const requirement = (overrides: Record<string, unknown> = {}) => ({
  scheme: 'exact',
  network: 'eip155:8453',
  amount: '1000',
  asset: BASE_USDC,
  payTo: PAY_TO,
  maxTimeoutSeconds: 60,
  extra: { name: 'USD Coin', version: '2' },
  ...overrides,
});
const terms = (accepts: unknown[], extra: Record<string, unknown> = {}) =>
  b64({
    x402Version: 2,
    error: 'Payment required',
    resource: { url: `${origin}/paid` },
    accepts,
    ...extra,
  });

function respond(status: number, headers: Record<string, string> = {}, body = '{}'): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
}

function setup(policy?: SpendPolicy, preauthorize = false) {
  const { signer, signed } = countingSigner(devAccount(4));
  const payingFetch = createPayingFetch({
    adapters: [x402Adapter()],
    wallets: [evmWallet({ account: signer })],
    policy: policy ?? { global: { maxPerRequest: { usd: '0.01' } } },
    preauthorize,
  });
  return { payingFetch, signed };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const paidRequests = () => seen.filter((r) => r.headers['payment-signature'] !== undefined);

describe('hostile x402 servers', () => {
  it('changes amount and payTo after the payment: the new terms are not signed, nothing is paid', async () => {
    const original = terms([requirement()]);
    const switched = terms([requirement({ amount: '900000', payTo: OTHER })], {
      error: 'No matching payment requirements',
    });
    handler = (request, response) =>
      respond(402, {
        'PAYMENT-REQUIRED': request.headers['payment-signature'] ? switched : original,
      })(request, response);
    const { payingFetch, signed } = setup();
    const response = await payingFetch(`${origin}/paid`);
    expect(response.status).toBe(402);
    const payment = getPayment(response);
    // The seller still holds the signed authorization: it stays counted (held), never released
    // on the seller's word, until it expires or the rail says it is unused past expiry.
    expect(payment?.status).toBe('unknown');
    expect(payment?.error).toBeInstanceOf(PaymentFailedError);
    expect(payment?.error).toMatchObject({ paid: 'unknown', reason: 'terms_changed' });
    expect(payment?.record.status).toBe('held');
    // One signature, for the terms the policy approved; none for the switched ones.
    expect(signed).toHaveLength(1);
    expect(signed[0]).toMatchObject({ message: { to: PAY_TO, value: 1000n } });
    expect(seen).toHaveLength(2);
  });

  it('changes its terms after a route was remembered: the pre-authorized proof is refused, the new terms go to the policy and are not signed', async () => {
    const ok = b64({ success: true, transaction: '0xfeed', network: 'eip155:8453' });
    let switched = false;
    const current = () =>
      switched
        ? terms([requirement({ amount: '900000', payTo: OTHER })], {
            error: 'No matching payment requirements',
          })
        : terms([requirement()]);
    handler = (request, response) =>
      request.headers['payment-signature'] && !switched
        ? respond(200, { 'PAYMENT-RESPONSE': ok })(request, response)
        : respond(402, { 'PAYMENT-REQUIRED': current() })(request, response);
    const { payingFetch, signed } = setup(undefined, true);
    expect((await payingFetch(`${origin}/paid`)).status).toBe(200);
    switched = true;
    // The pre-paid proof is refused but stays valid: the call ends, no second authorization.
    const refused = await payingFetch(`${origin}/paid`);
    expect(refused.status).toBe(402);
    expect(getPayment(refused)).toMatchObject({ status: 'unknown', record: { status: 'held' } });
    // The refused terms are not pre-paid again: the new ones go to the policy.
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ reason: 'per_request_cap' });
    // Two signatures, both for the approved terms (1000 to PAY_TO); none for the new ones.
    expect(signed.map((s) => (s as { message: { to: string; value: bigint } }).message)).toEqual([
      expect.objectContaining({ to: PAY_TO, value: 1000n }),
      expect.objectContaining({ to: PAY_TO, value: 1000n }),
    ]);
  });

  it('states two different amounts in one requirement: refused before signing', async () => {
    handler = respond(402, {
      'PAYMENT-REQUIRED': terms([requirement({ maxAmountRequired: '1000000' })]),
    });
    const { payingFetch, signed } = setup();
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).offers[0]?.reason).toMatch(/two different amounts/);
    expect(signed).toEqual([]);
    expect(paidRequests()).toEqual([]);
  });

  it('asks for an unknown asset: refused, never guessed', async () => {
    handler = respond(402, {
      'PAYMENT-REQUIRED': terms([
        requirement({ asset: '0x000000000000000000000000000000000000dEaD' }),
      ]),
    });
    const { payingFetch, signed } = setup();
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect(error).toMatchObject({ code: 'POLICY_DENIED', reason: 'asset_not_allowed' });
    expect(signed).toEqual([]);
    expect(paidRequests()).toEqual([]);
  });

  it.each([
    ['a v1 name in a v2 message', { network: 'base' }, 'network_not_allowed'],
    ['a known asset on the wrong chain', { network: 'eip155:1' }, 'asset_not_allowed'],
    [
      'a non-EVM network',
      { network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp' },
      'asset_not_allowed',
    ],
  ])('names the wrong network (%s): refused', async (_name, overrides, reason) => {
    handler = respond(402, { 'PAYMENT-REQUIRED': terms([requirement(overrides)]) });
    const { payingFetch, signed } = setup();
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', reason });
    expect(signed).toEqual([]);
  });

  it('offers a network the policy does not allow: refused', async () => {
    handler = respond(402, { 'PAYMENT-REQUIRED': terms([requirement()]) });
    const { payingFetch, signed } = setup({
      global: { maxPerRequest: { usd: '0.01' }, networks: { allow: ['eip155:84532'] } },
    });
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toMatchObject({ code: 'POLICY_DENIED', reason: 'network_not_allowed' });
    expect(signed).toEqual([]);
  });

  it('asks for a huge maxTimeoutSeconds: the authorization is valid no longer than the policy cap', async () => {
    const ok = b64({ success: true, transaction: '0xfeed', network: 'eip155:8453' });
    handler = (request, response) =>
      request.headers['payment-signature']
        ? respond(200, { 'PAYMENT-RESPONSE': ok })(request, response)
        : respond(402, {
            'PAYMENT-REQUIRED': terms([requirement({ maxTimeoutSeconds: 10 ** 12 })]),
          })(request, response);
    const { payingFetch } = setup({
      global: { maxPerRequest: { usd: '0.01' }, maxAuthorizationTtlSec: 120 },
    });
    const before = Math.floor(Date.now() / 1000);
    expect((await payingFetch(`${origin}/paid`)).status).toBe(200);
    const sent = JSON.parse(
      Buffer.from(String(paidRequests()[0]?.headers['payment-signature']), 'base64').toString(),
    );
    const validBefore = Number(sent.payload.authorization.validBefore);
    expect(validBefore).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 120);
    expect(validBefore).toBeGreaterThanOrEqual(before + 119);
    // The requirement is still echoed exactly as received.
    expect(sent.accepted.maxTimeoutSeconds).toBe(10 ** 12);
  });

  it.each([
    ['PAYMENT-REQUIRED that is not base64', { 'PAYMENT-REQUIRED': '%%%not-base64%%%' }],
    [
      'PAYMENT-REQUIRED in base64url',
      {
        'PAYMENT-REQUIRED': Buffer.from(JSON.stringify({ x402Version: 2, a: '>>>?' })).toString(
          'base64url',
        ),
      },
    ],
    [
      'PAYMENT-REQUIRED of non-JSON',
      { 'PAYMENT-REQUIRED': Buffer.from('<html>pay me</html>').toString('base64') },
    ],
    ['PAYMENT-REQUIRED of JSON that is not x402', { 'PAYMENT-REQUIRED': b64({ hello: 'world' }) }],
    ['X-Payment-Required that is not JSON', { 'X-Payment-Required': 'price=0.001; currency=USDC' }],
  ])('sends %s: a ChallengeParseError, nothing signed', async (_name, headers) => {
    handler = respond(402, headers);
    const { payingFetch, signed } = setup();
    const error = await failure(payingFetch(`${origin}/paid`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect(error).toMatchObject({ code: 'CHALLENGE_INVALID', protocol: 'x402' });
    expect(signed).toEqual([]);
    expect(paidRequests()).toEqual([]);
  });

  it('sends a malformed v1 JSON body claiming x402Version 1: a ChallengeParseError, nothing signed', async () => {
    handler = respond(402, {}, JSON.stringify({ x402Version: 1, accepts: 'everything' }));
    const { payingFetch, signed } = setup();
    expect(await failure(payingFetch(`${origin}/paid`))).toBeInstanceOf(ChallengeParseError);
    expect(signed).toEqual([]);
  });

  it('answers every paid request with another 402 (a loop): one paid attempt, no second signature', async () => {
    handler = respond(402, { 'PAYMENT-REQUIRED': terms([requirement()]) });
    const { payingFetch, signed } = setup();
    const response = await payingFetch(`${origin}/paid`);
    expect(response.status).toBe(402);
    const payment = getPayment(response);
    expect(payment?.error).toBeInstanceOf(PaymentFailedError);
    expect(payment?.error).toMatchObject({ paid: 'unknown' });
    expect(payment?.record.status).toBe('held');
    expect(signed).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  it('says settlement_pending: held, and the same purchase is not paid again', async () => {
    const pending = b64({
      success: false,
      errorReason: 'settlement_pending',
      transaction: '0xab',
      network: 'eip155:8453',
    });
    handler = (request, response) =>
      request.headers['payment-signature']
        ? respond(402, { 'PAYMENT-RESPONSE': pending })(request, response)
        : respond(402, { 'PAYMENT-REQUIRED': terms([requirement()]) })(request, response);
    const { payingFetch, signed } = setup();
    const first = await payingFetch(`${origin}/paid`, { payment: { idempotencyKey: 'order-1' } });
    expect(getPayment(first)).toMatchObject({ status: 'unknown', record: { status: 'held' } });
    expect(getPayment(first)?.error).toMatchObject({
      paid: 'unknown',
      reason: 'settlement_pending',
    });

    const again = await failure(
      payingFetch(`${origin}/paid`, { payment: { idempotencyKey: 'order-1' } }),
    );
    expect(again).toBeInstanceOf(PaymentFailedError);
    expect(again).toMatchObject({ code: 'OUTCOME_UNKNOWN', paid: 'unknown' });
    expect(signed).toHaveLength(1);
    expect(paidRequests()).toHaveLength(1);
  });
});
