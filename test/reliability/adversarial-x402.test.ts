/**
 * Adversarial x402 servers, beyond `test/x402/hostile.test.ts` (see the catalogue in
 * README.md, ids X1–X15). Each case: the wallet (a counting signer) signs nothing the policy
 * did not approve for that exact offer, no proof reaches the server unless approved, and the
 * call ends with a typed StipendError (thrown, or attached to the response).
 */
import type { ServerResponse } from 'node:http';
import {
  createPayingFetch,
  getPayment,
  type PaymentFailedError,
  type StipendError,
  x402Adapter,
} from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { countingSigner } from '../x402/setup.test-helpers.js';
import { type HostileServer, startHostileServer, typedError } from './hostile.test-helpers.js';

const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const OTHER_TOKEN = '0x4200000000000000000000000000000000000006';
let hostile: HostileServer;

beforeAll(async () => {
  hostile = await startHostileServer();
});
afterAll(async () => {
  await hostile?.close();
});
beforeEach(() => {
  hostile.hits.length = 0;
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
const terms = (accepts: unknown[], extra: Record<string, unknown> = {}) => ({
  x402Version: 2,
  error: 'Payment required',
  resource: { url: `${hostile.origin}/paid` },
  accepts,
  ...extra,
});

function answer(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  body = '{}',
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function setup() {
  const { signer, signed } = countingSigner(devAccount(7));
  const payingFetch = createPayingFetch({
    adapters: [x402Adapter()],
    wallets: [evmWallet({ account: signer })],
    policy: { global: { maxPerRequest: { usd: '0.01' } } },
  });
  return { payingFetch, signed };
}

const proofsReceived = () => hostile.hits.filter((h) => h.headers['payment-signature']).length;

/** Runs a case whose 402 must be refused before signing. */
async function refusedBeforeSigning(paymentRequired: string): Promise<StipendError> {
  const { payingFetch, signed } = setup();
  hostile.handler = (_req, res) => answer(res, 402, { 'payment-required': paymentRequired });
  const error = await typedError(
    payingFetch(`${hostile.origin}/paid`),
    (r) => getPayment(r)?.error,
  );
  expect(signed).toHaveLength(0);
  expect(proofsReceived()).toBe(0);
  expect(hostile.hits).toHaveLength(1);
  return error;
}

describe('adversarial x402: asset, network, decimals and amount tricks (refused before signing)', () => {
  it('X1 network spoofing: "eip155:08453" (a zero-padded chain id) for Base USDC', async () => {
    const error = await refusedBeforeSigning(
      b64(terms([requirement({ network: 'eip155:08453' })])),
    );
    expect(error.code).toBe('POLICY_DENIED');
  });

  it('X2 decimals trick: 10^18 atomic units with extra.decimals = 18 ("one token")', async () => {
    const error = await refusedBeforeSigning(
      b64(
        terms([
          requirement({
            amount: '1000000000000000000',
            extra: { name: 'USD Coin', version: '2', decimals: 18 },
          }),
        ]),
      ),
    );
    expect(error.code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('per_request_cap');
  });

  it('X3 oversized amount: 78 nines', async () => {
    const error = await refusedBeforeSigning(b64(terms([requirement({ amount: '9'.repeat(78) })])));
    expect(['POLICY_DENIED', 'CHALLENGE_INVALID']).toContain(error.code);
  });

  it('X4 negative amount', async () => {
    const error = await refusedBeforeSigning(b64(terms([requirement({ amount: '-1000' })])));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('X5 a decimal string where atomic units belong ("0.001")', async () => {
    const error = await refusedBeforeSigning(b64(terms([requirement({ amount: '0.001' })])));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('X6 bait: a cheap offer in an unknown token beside a known one above the cap', async () => {
    const error = await refusedBeforeSigning(
      b64(
        terms([
          requirement({ asset: OTHER_TOKEN, amount: '1' }),
          requirement({ amount: '500000' }),
        ]),
      ),
    );
    expect(error.code).toBe('POLICY_DENIED');
  });
});

describe('adversarial x402: malformed encodings and size bombs', () => {
  it('X7 PAYMENT-REQUIRED with whitespace inside the base64 (MIME-style wrapping)', async () => {
    const standard = b64(terms([requirement()]));
    const wrapped = `${standard.slice(0, 76)} \t ${standard.slice(76)}`;
    const error = await refusedBeforeSigning(wrapped);
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('X8 PAYMENT-REQUIRED that decodes to invalid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"x402Version":2,"error":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const error = await refusedBeforeSigning(bytes.toString('base64'));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('X9 a 15 KiB PAYMENT-REQUIRED header of base64 junk', async () => {
    const error = await refusedBeforeSigning('QUFB'.repeat(3_800));
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('X10 a 1 MiB body on the refusal of the paid retry (declared length): not read, held, typed error', async () => {
    // With Content-Length the bounded reader refuses at once; X15 sends it chunked.
    const { payingFetch, signed } = setup();
    const huge = 'x'.repeat(1024 * 1024);
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(res, 402, { 'content-length': String(huge.length) }, huge)
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const started = performance.now();
    const response = await payingFetch(`${hostile.origin}/paid`);
    expect(performance.now() - started).toBeLessThan(5_000);
    const payment = getPayment(response);
    expect(payment?.status).toBe('unknown');
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('held');
    expect(signed).toHaveLength(1);
    expect(proofsReceived()).toBe(1);
  });
});

describe('adversarial x402: changed terms, loops and lying receipts', () => {
  it('X11 after the proof, new terms in another token ("No matching payment requirements"): not signed', async () => {
    const { payingFetch, signed } = setup();
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(res, 402, {
            'payment-required': b64(
              terms([requirement({ asset: OTHER_TOKEN, amount: '1' })], {
                error: 'No matching payment requirements',
              }),
            ),
          })
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const response = await payingFetch(`${hostile.origin}/paid`);
    const error = getPayment(response)?.error as PaymentFailedError;
    expect(error.code).toBe('PAYMENT_FAILED');
    // Refused, but the seller holds a valid authorization: counted until it expires.
    expect(error.paid).toBe('unknown');
    expect(signed).toHaveLength(1);
    expect(proofsReceived()).toBe(1);
    expect(getPayment(response)?.record.status).toBe('held');
  });

  it('X12 after the proof, an "upto" offer for 100× the price: not signed', async () => {
    const { payingFetch, signed } = setup();
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(res, 402, {
            'payment-required': b64(
              terms([requirement({ scheme: 'upto', amount: '100000' })], {
                error: 'invalid_exact_evm_payload_signature',
              }),
            ),
          })
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const response = await payingFetch(`${hostile.origin}/paid`);
    expect(getPayment(response)?.error?.code).toBe('PAYMENT_FAILED');
    expect(signed).toHaveLength(1);
    expect(proofsReceived()).toBe(1);
  });

  it('X13 a receipt that lies: 200 with the content, but PAYMENT-RESPONSE says success=false', async () => {
    const { payingFetch, signed } = setup();
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(
            res,
            200,
            {
              'payment-response': b64({
                success: false,
                errorReason: 'invalid_exact_evm_insufficient_balance',
              }),
            },
            '{"report":"sunny"}',
          )
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const response = await payingFetch(`${hostile.origin}/paid`);
    const payment = getPayment(response);
    // The receipt's "nothing moved" is the server's word: the authorization stays counted.
    expect(payment?.status).toBe('unknown');
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('held');
    expect(signed).toHaveLength(1);
  });

  it('X14 a receipt that lies the other way: success=true on a 402 (money moved, no content)', async () => {
    const { payingFetch, signed } = setup();
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(res, 402, {
            'payment-response': b64({ success: true, transaction: `0x${'ab'.repeat(32)}` }),
          })
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const response = await payingFetch(`${hostile.origin}/paid`);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    // Neither believed nor released: held (counted) until the rail says what happened.
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe('unknown');
    expect(payment?.record.status).toBe('held');
    expect(signed).toHaveLength(1);
    expect(proofsReceived()).toBe(1);
  });

  it('X15 the same 1 MiB refusal sent chunked (no length): read up to the cap, answered, held', async () => {
    const { payingFetch, signed } = setup();
    const huge = 'x'.repeat(1024 * 1024);
    hostile.handler = (req, res) =>
      req.headers['payment-signature']
        ? answer(res, 402, {}, huge)
        : answer(res, 402, { 'payment-required': b64(terms([requirement()])) });
    const started = performance.now();
    const response = await payingFetch(`${hostile.origin}/paid`);
    expect(performance.now() - started).toBeLessThan(5_000);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('held');
    expect(signed).toHaveLength(1);
  });
});

describe('x402 adapter: no hang on an oversized 402 without terms', () => {
  it('an 8 MiB chunked JSON 402 with no terms comes back as it is, promptly, nothing signed', async () => {
    const { payingFetch, signed } = setup();
    const huge = JSON.stringify({ error: 'pay up', padding: 'x'.repeat(8 * 1024 * 1024) });
    hostile.handler = (_req, res) => answer(res, 402, {}, huge);
    const started = performance.now();
    const response = await payingFetch(`${hostile.origin}/paid`);
    expect(response.status).toBe(402);
    expect(getPayment(response)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(signed).toHaveLength(0);
  });
});
