/**
 * Fuzzing the x402 decoders: the v2 `PAYMENT-REQUIRED` header (strict base64 → UTF-8 → JSON →
 * schema), the v1 JSON body, the plain `X-Payment-Required` form, and the `PAYMENT-RESPONSE`
 * receipt, each through the adapter the core uses (`x402Adapter().parse` / `.settle`) and the
 * base64 decoder directly.
 *
 * Documented outcomes: `parse` returns frozen offers bound to the answering origin or throws a
 * `StipendError` (`CHALLENGE_INVALID` for a malformed message, `POLICY_DENIED` when every
 * requirement is refused); `decodeBase64Json` returns a value or throws an `Error` naming the
 * failed step; `decodeReceipt` returns an object with a boolean `success` or `undefined`;
 * `settle` always returns an outcome (never throws).
 */
import type { ChallengeInput, PaymentOffer, Proof } from '@stipend/client';
import { isStipendError, x402Adapter } from '@stipend/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64Json,
  encodeBase64Json,
} from '../../packages/client/src/protocols/x402/base64.js';
import { decodeReceipt } from '../../packages/client/src/protocols/x402/settle.js';
import {
  expectLinearTime,
  expectTally,
  fuzz,
  fuzzSync,
  mutated,
  share,
  timeoutFor,
} from './fuzz.test-helpers.js';

const PARSER = {
  base64: 'x402 base64 JSON',
  v2: 'x402 v2 PAYMENT-REQUIRED',
  v1: 'x402 v1 body',
  plain: 'x402 plain form',
  receipt: 'x402 PAYMENT-RESPONSE',
} as const;
expectTally(Object.values(PARSER));

const URL_ = new URL('https://api.example.com/weather?city=x');
const USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const PAY_TO = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
/** Header values a server can send (Latin-1 without CR, LF and NUL), biased to base64. */
const headerChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...B64) },
  { weight: 2, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)) },
);

function input(init: { status?: number; headers?: Record<string, string>; body?: string }) {
  const value: ChallengeInput = {
    status: init.status ?? 402,
    headers: new Headers(init.headers),
    url: URL_,
    method: 'GET',
    challenges: [],
    now: Date.UTC(2026, 0, 15),
    bodyText: async () => init.body,
  };
  return value;
}

const requirement = {
  scheme: 'exact',
  network: 'eip155:8453',
  amount: '1000',
  asset: USDC,
  payTo: PAY_TO,
  maxTimeoutSeconds: 60,
  extra: { name: 'USD Coin', version: '2' },
};
const v2Message = {
  x402Version: 2,
  error: 'Payment required',
  resource: { url: URL_.href, description: 'weather', mimeType: 'application/json' },
  accepts: [requirement],
};

/** A value that is sometimes right and mostly a plausible mistake. */
const field = (valid: unknown, ...plausible: unknown[]) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(valid) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...plausible, null, '', -1, Number.POSITIVE_INFINITY, '1e3', []),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
const requirementArb = fc.record(
  {
    scheme: field('exact', 'upto', 'EXACT', 'stream'),
    network: field('eip155:8453', 'base', 'eip155:1', 'eip155:', 'solana:mainnet'),
    amount: field('1000', '0', '01000', '1000.5', '-5', '9'.repeat(90), ' 1000'),
    maxAmountRequired: field(undefined, '1000', '2000'),
    asset: field(USDC, USDC.toLowerCase(), '0xdead', `${USDC}00`),
    payTo: field(PAY_TO, '', '0x0', 'not-an-address'),
    maxTimeoutSeconds: field(60, 0, 86_400_000, 1.5, '60'),
    extra: field(
      { name: 'USD Coin', version: '2' },
      {},
      { assetTransferMethod: 'permit2' },
      { assetTransferMethod: 'magic' },
    ),
  },
  { requiredKeys: [] },
);
const messageArb = fc.record(
  {
    x402Version: field(2, 1, 3, '2'),
    error: field('Payment required', 'x'.repeat(300)),
    resource: field(v2Message.resource, { url: 'https://evil.example.org/x' }, 'string'),
    accepts: fc.oneof(
      fc.array(requirementArb, { maxLength: 4 }),
      fc.constant([requirement, requirement]),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    extensions: field(undefined, { 'payment-identifier': { info: { required: true } } }),
  },
  { requiredKeys: ['accepts'] },
);

/** What a successful parse must look like. */
function checkOffers(offers: readonly PaymentOffer[]): void {
  for (const offer of offers) {
    expect(Object.isFrozen(offer)).toBe(true);
    expect(offer.protocol).toBe('x402');
    expect(offer.origin).toBe(URL_.origin);
    expect(typeof offer.amount.value).toBe('bigint');
    expect(offer.amount.value >= 0n).toBe(true);
    expect(['exact', 'upto']).toContain(offer.scheme);
    expect(offer.network).toMatch(/^eip155:\d+$/);
  }
}

/** How the parses of one property ended, to show the generators reach both ends. */
type Ends = { offers: number; refused: number };

/** Parses through the adapter; only offers or a typed StipendError may come out. */
async function parseChecked(value: ChallengeInput, ends: Ends): Promise<void> {
  const adapter = x402Adapter();
  if (!adapter.detect(value)) return;
  let offers: readonly PaymentOffer[];
  try {
    offers = await adapter.parse(value);
  } catch (error) {
    expect(isStipendError(error), String(error)).toBe(true);
    expect(['CHALLENGE_INVALID', 'POLICY_DENIED']).toContain((error as { code: string }).code);
    ends.refused++;
    return;
  }
  checkOffers(offers);
  if (offers.length > 0) ends.offers++;
}

/** Both ends were reached in a meaningful share of the cases. */
function expectBothEnds(ends: Ends, cases: number): void {
  expect(ends.offers, 'cases that gave offers').toBeGreaterThan(cases / 50);
  expect(ends.refused, 'cases that gave typed errors').toBeGreaterThan(cases / 50);
}

const DECODE_ERRORS = [
  'the header is empty',
  'the header is longer than 65536 characters',
  'the header is not standard padded base64',
  'the header does not decode to UTF-8 text',
  'the header does not decode to JSON',
];

describe('x402 decoders under fuzzing', () => {
  it(
    'decodeBase64Json: a value or an Error naming the failed step; encode/decode round-trips',
    () => {
      const samples = [encodeBase64Json(v2Message), encodeBase64Json({ a: 'é€😀' }), 'e30='];
      fuzzSync(
        PARSER.base64,
        fc.oneof(
          mutated(samples, B64),
          fc.string({ unit: headerChar, maxLength: 200 }),
          fc.jsonValue().map((v) => ({ roundTrip: v })),
        ),
        (value) => {
          if (typeof value === 'object') {
            const again = decodeBase64Json(encodeBase64Json(value.roundTrip));
            expect(JSON.stringify(again)).toBe(JSON.stringify(value.roundTrip));
            return;
          }
          try {
            decodeBase64Json(value);
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            expect(DECODE_ERRORS).toContain((error as Error).message);
          }
        },
        share(1),
      );
    },
    timeoutFor(share(1)),
  );

  it(
    'v2 PAYMENT-REQUIRED: structured mutations and mangled base64 give offers or typed errors',
    async () => {
      const header = encodeBase64Json(v2Message);
      const ends: Ends = { offers: 0, refused: 0 };
      await fuzz(
        PARSER.v2,
        fc.oneof(
          { weight: 3, arbitrary: messageArb.map((m) => encodeBase64Json(m)) },
          { weight: 2, arbitrary: mutated([header], B64) },
          { weight: 1, arbitrary: fc.string({ unit: headerChar, maxLength: 120 }) },
        ),
        (value) => parseChecked(input({ headers: { 'payment-required': value } }), ends),
        share(1),
      );
      expectBothEnds(ends, share(1));
    },
    timeoutFor(share(1), 0.5),
  );

  it(
    'v1 JSON body: offers or typed errors, whatever the body',
    async () => {
      const v1 = JSON.stringify({
        x402Version: 1,
        error: 'X-PAYMENT header is required',
        accepts: [],
      });
      const ends: Ends = { offers: 0, refused: 0 };
      await fuzz(
        PARSER.v1,
        fc.oneof(
          fc
            .record({
              x402Version: field(1, 2, '1'),
              error: field('X-PAYMENT header is required'),
              accepts: fc.array(
                requirementArb.map((r) => ({
                  ...r,
                  network:
                    typeof r.network === 'string'
                      ? r.network.replace('eip155:8453', 'base')
                      : r.network,
                  maxAmountRequired: r.amount,
                  resource: URL_.href,
                  description: '',
                  mimeType: 'application/json',
                })),
                { maxLength: 3 },
              ),
            })
            .map((body) => JSON.stringify(body)),
          mutated([v1], '{}[]":,01aex '),
          fc.string({ maxLength: 200 }),
        ),
        (body) =>
          parseChecked(input({ headers: { 'content-type': 'application/json' }, body }), ends),
        share(1),
      );
      expectBothEnds(ends, share(1));
    },
    timeoutFor(share(1), 0.5),
  );

  it(
    'plain X-Payment-Required: offers or typed errors',
    async () => {
      const plain = JSON.stringify({
        price: '0.001',
        currency: 'USDC',
        network: 'eip155:8453',
        address: PAY_TO,
      });
      const ends: Ends = { offers: 0, refused: 0 };
      await fuzz(
        PARSER.plain,
        fc.oneof(
          fc
            .record({
              price: field('0.001', '0.0000001', '1e-3', '-0.001', '.001', '0', '1'.repeat(120)),
              currency: field('USDC', 'usdc', 'USDT', 'ETH', 'USDC '),
              network: field('eip155:8453', 'base', 'base-sepolia', 'eip155:999999'),
              address: field(PAY_TO, ''),
              maxTimeoutSeconds: field(undefined, 60, -1, 1e12),
            })
            .map((terms) => JSON.stringify(terms)),
          mutated([plain], '{}":,.0159aUSDC '),
          fc.string({ unit: headerChar, maxLength: 120 }),
        ),
        (value) => parseChecked(input({ headers: { 'x-payment-required': value } }), ends),
        share(1),
      );
      expectBothEnds(ends, share(1));
    },
    timeoutFor(share(1), 0.5),
  );

  it(
    'PAYMENT-RESPONSE: decodeReceipt gives an object or undefined; settle always gives an outcome',
    async () => {
      const adapter = x402Adapter();
      const [offer] = await adapter.parse(
        input({ headers: { 'payment-required': encodeBase64Json(v2Message) } }),
      );
      const proof: Proof = {
        offerId: offer!.id,
        reference: 'ref',
        settlement: 'authorization',
        secret: { payload: {} },
      };
      const receipt = {
        success: true,
        transaction: `0x${'ab'.repeat(32)}`,
        network: 'eip155:8453',
        payer: PAY_TO,
      };
      const samples = [
        encodeBase64Json(receipt),
        encodeBase64Json({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used' }),
        JSON.stringify(receipt),
      ];
      await fuzz(
        PARSER.receipt,
        fc.tuple(
          fc.oneof(
            mutated(samples, `${B64}{}":,`),
            fc
              .record({
                success: field(true, false, 'true', 1),
                transaction: field(receipt.transaction, 42),
                errorReason: field(
                  undefined,
                  'settlement_pending',
                  'unexpected_error',
                  'x'.repeat(500),
                ),
                amount: field(undefined, '999', '-1', '1e3', 'abc'),
              })
              .map((r) => encodeBase64Json(r)),
            fc.string({ unit: headerChar, maxLength: 120 }),
          ),
          fc.constantFrom(200, 302, 402, 412, 500),
        ),
        async ([header, status]) => {
          const decoded = decodeReceipt(header);
          if (decoded !== undefined) expect(typeof decoded.success).toBe('boolean');
          const outcome = await adapter.settle(
            offer!,
            proof,
            new Response(null, { status, headers: { 'payment-response': header } }),
          );
          if (outcome.kind === 'rejected') {
            expect(['no', 'yes', 'unknown']).toContain(outcome.moneyMoved);
            expect(typeof outcome.message).toBe('string');
          } else {
            expect(outcome.kind).toBe('accepted');
            expect(status).toBeLessThan(400);
          }
        },
        share(1),
      );
    },
    timeoutFor(share(1), 0.5),
  );
});

describe('x402 decoders: time on long input', () => {
  const adapter = x402Adapter();
  const patterns: [string, (size: number) => string][] = [
    ['base64 of a long JSON string', (n) => encodeBase64Json({ error: 'x'.repeat(n) }).slice(0, n)],
    ['padding runs', (n) => '='.repeat(n)],
    ['base64 with a bad last character', (n) => `${'A'.repeat(n - 1)}!`],
    [
      'deeply nested arrays',
      (n) => encodeBase64Json(JSON.parse(`${'['.repeat(n / 8)}${']'.repeat(n / 8)}`)),
    ],
  ];
  it.each(patterns)('decodeBase64Json, %s: 16 KiB about 16 times 1 KiB', (_name, make) => {
    expectLinearTime((s) => {
      try {
        decodeBase64Json(s);
      } catch {
        // Documented: an Error naming the failed step.
      }
    }, make);
  });

  it('decodeReceipt on long errorReason text: 16 KiB about 16 times 1 KiB', () => {
    expectLinearTime(
      (s) => decodeReceipt(s),
      (n) => encodeBase64Json({ success: false, errorReason: 'pending '.repeat(n / 8) }),
    );
  });

  it('the v2 adapter path on long terms (32 requirements, long texts): 16 KiB about 16 times 1 KiB', async () => {
    const make = (n: number) => {
      const accepts = Array.from({ length: n >= 16_384 ? 32 : 2 }, (_, i) => ({
        ...requirement,
        amount: String(1000 + i),
      }));
      const base = encodeBase64Json({ ...v2Message, accepts }).length;
      const description = 'd'.repeat(Math.max(0, Math.floor(((n - base) * 3) / 4)));
      return encodeBase64Json({
        ...v2Message,
        resource: { ...v2Message.resource, description },
        accepts,
      });
    };
    const times: number[] = [];
    for (const size of [1024, 16_384]) {
      const header = make(size);
      let best = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 3; r++) {
        const at = performance.now();
        for (let i = 0; i < 20; i++) {
          await adapter.parse(input({ headers: { 'payment-required': header } }));
        }
        best = Math.min(best, performance.now() - at);
      }
      times.push(best);
    }
    expect(times[1]! / times[0]!).toBeLessThanOrEqual(64);
  });
});
