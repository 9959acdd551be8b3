/**
 * Fuzzing the MPP decoders: the `request` parameter (base64url JSON, validated per method:
 * stripe, evm, tempo, lightning with a real BOLT11 invoice, unknown methods) read through
 * `mppAdapter().parse` from a `WWW-Authenticate: Payment …` header, the base64url JSON decoder,
 * and the `Payment-Receipt` decoder (`parseMppReceipt`) plus `settle` on arbitrary answers.
 *
 * Documented outcomes: `parse` returns frozen offers bound to the answering origin or throws a
 * `ChallengeParseError` (`CHALLENGE_INVALID`); `decodeBase64UrlJson` returns a value or throws a
 * `TypeError` / `SyntaxError`; `parseMppReceipt` returns a receipt or `undefined` and never
 * throws; `settle` always returns an outcome.
 */
import {
  type ChallengeInput,
  isStipendError,
  mppAdapter,
  type PaymentOffer,
  type Proof,
  parseMppReceipt,
  parseWwwAuthenticateLenient,
} from '@stipend/client';
import { createLightningNetwork } from '@stipend/testkit/lightning';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBase64UrlJson,
  encodeBase64UrlJson,
} from '../../packages/client/src/protocols/mpp/base64url.js';
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
  base64url: 'mpp base64url JSON',
  request: 'mpp request (challenge)',
  receipt: 'mpp Payment-Receipt',
} as const;
expectTally(Object.values(PARSER));

const URL_ = new URL('https://api.example.com/article');
const NOW = Date.now();
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ADDRESS = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const TOKEN = '0x20c0000000000000000000000000000000000000';
const lightning = createLightningNetwork();
const node = lightning.createNode();
const invoice = node.createInvoice({ amountMsat: 50_000n });
const amountless = node.createInvoice({});

const field = (valid: unknown, ...plausible: unknown[]) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(valid) },
    { weight: 1, arbitrary: fc.constantFrom(...plausible, null, '', '0', '-1', 1.5, []) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );

/** `method.intent` and a request for it: mostly valid, with plausible mistakes. */
const requestArb: fc.Arbitrary<{ method: string; intent: string; request: unknown }> = fc.oneof(
  fc
    .record({
      amount: field('50', '050', '0.50', '5'.repeat(80)),
      currency: field('usd', 'USD', 'usdx', 'us'),
      methodDetails: field({ networkId: 'profile_1' }, {}, { networkId: '' }),
    })
    .map((request) => ({ method: 'stripe', intent: 'charge', request })),
  fc
    .record({
      amount: field('10000', '0'),
      currency: field(ADDRESS, '0x1234', 'usd'),
      recipient: field(ADDRESS, '0x0'),
      methodDetails: field({ chainId: 31337, decimals: 6 }, { chainId: 31337 }, { chainId: -1 }),
    })
    .map((request) => ({ method: 'evm', intent: 'charge', request })),
  fc
    .record({
      amount: field('1000000'),
      currency: field(TOKEN, ADDRESS),
      recipient: field(ADDRESS),
      methodDetails: field({ chainId: 42431 }, { chainId: '42431' }),
    })
    .map((request) => ({ method: 'tempo', intent: 'charge', request })),
  fc
    .record({
      amount: field('50', '51', '50000'),
      currency: field('sat', 'msat', 'btc'),
      methodDetails: field(
        { invoice: invoice.bolt11, paymentHash: invoice.paymentHash, network: 'regtest' },
        { invoice: invoice.bolt11, paymentHash: '00'.repeat(32) },
        { invoice: invoice.bolt11, network: 'mainnet' },
        { invoice: amountless.bolt11 },
        { invoice: `${invoice.bolt11.slice(0, -1)}q` },
      ),
    })
    .map((request) => ({ method: 'lightning', intent: 'charge', request })),
  fc
    .tuple(
      fc.constantFrom('acme', 'x-pay', 'EVM', 'a'.repeat(70)),
      fc.constantFrom('charge', 'session', 'sub scribe'),
      fc.record({
        amount: field('5'),
        currency: field('usd', ADDRESS, 'gold coins', 'x'.repeat(300)),
      }),
    )
    .map(([method, intent, request]) => ({ method, intent, request })),
);

const expiresArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(new Date(NOW + 300_000).toISOString()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Date(NOW - 1_000).toISOString(),
      new Date(NOW + 10_000).toISOString(),
      '2030-02-30T00:00:00Z',
      'tomorrow',
      '2030-01-01T00:00:00',
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** A `Payment` challenge line from its parameters (undefined ones left out). */
function challengeLine(params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}="${String(value).replace(/["\\]/g, '\\$&')}"`);
  return `Payment ${parts.join(', ')}`;
}

const challengeArb = fc
  .tuple(
    requestArb,
    expiresArb,
    fc.constantFrom('c1', 'c2', '', 'x'.repeat(200)),
    fc.constantFrom('api.example.com', '', undefined),
    fc.constantFrom(undefined, 'Authorization', 'payment-authorization', 'Cookie'),
    fc.constantFrom(
      undefined,
      encodeBase64UrlJson({ k: 'v' }),
      encodeBase64UrlJson({ k: 1 }),
      '!!',
    ),
  )
  .map(([r, expires, id, realm, header, opaque]) =>
    challengeLine({
      id,
      realm,
      method: r.method,
      intent: r.intent,
      request: encodeBase64UrlJson(r.request),
      expires,
      header,
      opaque,
    }),
  );

function input(header: string): ChallengeInput {
  return {
    status: 402,
    headers: new Headers({ 'www-authenticate': header }),
    url: URL_,
    method: 'GET',
    challenges: parseWwwAuthenticateLenient(header).challenges,
    now: NOW,
    bodyText: async () => undefined,
  };
}

type Ends = { offers: number; refused: number };

async function parseChecked(header: string, ends: Ends): Promise<void> {
  const adapter = mppAdapter();
  const value = input(header);
  if (!adapter.detect(value)) return;
  let offers: readonly PaymentOffer[];
  try {
    offers = await adapter.parse(value);
  } catch (error) {
    expect(isStipendError(error), String(error)).toBe(true);
    const { code, reason } = error as { code: string; reason?: string };
    // An unknown asset (decimals the client does not know) is refused like x402 refuses it.
    if (code === 'POLICY_DENIED') expect(reason).toBe('asset_not_allowed');
    else expect(code).toBe('CHALLENGE_INVALID');
    ends.refused++;
    return;
  }
  for (const offer of offers) {
    expect(Object.isFrozen(offer)).toBe(true);
    expect(offer.protocol).toBe('mpp');
    expect(offer.origin).toBe(URL_.origin);
    expect(offer.amount.value > 0n).toBe(true);
    expect(offer.expiresAt! > NOW).toBe(true);
    expect(offer.scheme).toMatch(/^[a-z][a-z0-9:_-]*\.[A-Za-z0-9-]+$/);
  }
  if (offers.length > 0) ends.offers++;
}

describe('MPP decoders under fuzzing', () => {
  it(
    'decodeBase64UrlJson: a value, a TypeError or a SyntaxError; encode/decode round-trips',
    () => {
      const samples = [encodeBase64UrlJson({ amount: '50', currency: 'usd' }), 'eyJhIjoxfQ=='];
      fuzzSync(
        PARSER.base64url,
        fc.oneof(
          mutated(samples, `${B64URL}=+/ `),
          fc.string({ maxLength: 100 }),
          fc.jsonValue().map((v) => ({ roundTrip: v })),
        ),
        (value) => {
          if (typeof value === 'object') {
            const again = decodeBase64UrlJson(encodeBase64UrlJson(value.roundTrip));
            expect(JSON.stringify(again)).toBe(JSON.stringify(value.roundTrip));
            return;
          }
          try {
            decodeBase64UrlJson(value);
          } catch (error) {
            expect(error instanceof TypeError || error instanceof SyntaxError, String(error)).toBe(
              true,
            );
          }
        },
        share(1),
      );
    },
    timeoutFor(share(1)),
  );

  it(
    'Payment challenges (every method, mutated): offers or CHALLENGE_INVALID',
    async () => {
      const ends: Ends = { offers: 0, refused: 0 };
      const valid = challengeLine({
        id: 'c1',
        realm: 'api.example.com',
        method: 'stripe',
        intent: 'charge',
        request: encodeBase64UrlJson({
          amount: '50',
          currency: 'usd',
          methodDetails: { networkId: 'profile_1' },
        }),
        expires: new Date(NOW + 300_000).toISOString(),
      });
      await fuzz(
        PARSER.request,
        fc.oneof(
          { weight: 3, arbitrary: challengeArb },
          {
            weight: 1,
            arbitrary: fc
              .array(challengeArb, { minLength: 2, maxLength: 4 })
              .map((lines) => lines.join(', ')),
          },
          { weight: 2, arbitrary: mutated([valid], `${B64URL}=",\\ `) },
        ),
        (header) => parseChecked(header, ends),
        share(1),
      );
      expect(ends.offers).toBeGreaterThan(share(1) / 50);
      expect(ends.refused).toBeGreaterThan(share(1) / 50);
    },
    timeoutFor(share(1), 0.5),
  );

  it(
    'Payment-Receipt: a receipt or undefined; settle always gives an outcome',
    async () => {
      const adapter = mppAdapter();
      const [offer] = await adapter.parse(
        input(
          challengeLine({
            id: 'c1',
            realm: 'r',
            method: 'stripe',
            intent: 'charge',
            request: encodeBase64UrlJson({
              amount: '50',
              currency: 'usd',
              methodDetails: { networkId: 'p' },
            }),
            expires: new Date(NOW + 300_000).toISOString(),
          }),
        ),
      );
      const proof: Proof = {
        offerId: offer!.id,
        reference: 'spt_1',
        settlement: 'authorization',
        secret: { payload: { spt: 'spt_1' } },
      };
      const receipt = encodeBase64UrlJson({
        method: 'stripe',
        reference: 'pi_1',
        status: 'success',
        timestamp: new Date(NOW).toISOString(),
      });
      const problem = (type: string) =>
        JSON.stringify({ type: `https://paymentauth.org/problems/${type}`, detail: 'x\u0000y' });
      await fuzz(
        PARSER.receipt,
        fc.tuple(
          fc.oneof(
            mutated([receipt], `${B64URL}= `),
            fc.jsonValue().map((v) => encodeBase64UrlJson(v)),
            fc
              .string({
                unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
                maxLength: 80,
              })
              .filter((s) => s.trim() === s),
          ),
          fc.constantFrom(200, 204, 302, 402, 403, 500),
          fc.oneof(
            fc.constantFrom(
              problem('verification-failed'),
              problem('payment-expired'),
              problem('internal-payment-error'),
              '{',
              '',
            ),
            fc.jsonValue().map((v) => JSON.stringify(v)),
          ),
          fc.constantFrom(undefined, '5', 'Wed, 21 Oct 2015 07:28:00 GMT', 'soon'),
        ),
        async ([header, status, body, retryAfter]) => {
          const parsed = parseMppReceipt(header);
          if (parsed !== undefined) {
            expect(parsed.protocol).toBe('mpp');
            expect(typeof parsed.raw).toBe('object');
            if (parsed.reference !== undefined) expect(parsed.reference).toMatch(/^[!-~]{1,256}$/);
          }
          const headers: Record<string, string> = {
            'payment-receipt': header,
            'content-type': 'application/problem+json',
          };
          if (retryAfter) headers['retry-after'] = retryAfter;
          const outcome = await adapter.settle(
            offer!,
            proof,
            new Response(status === 204 ? null : body, { status, headers }),
          );
          if (outcome.kind === 'rejected') {
            expect(['no', 'yes', 'unknown']).toContain(outcome.moneyMoved);
            expect(outcome.message.includes('\u0000')).toBe(false);
          } else {
            expect(status).toBeLessThan(400);
          }
        },
        share(1),
      );
    },
    timeoutFor(share(1), 0.5),
  );
});

describe('MPP decoders: time on long input', () => {
  it.each([
    ['long base64url', (n: number) => 'A'.repeat(n)],
    ['padding runs', (n: number) => `${'A'.repeat(n - 2)}==`],
    [
      'JSON of a long string',
      (n: number) => encodeBase64UrlJson({ s: 'x'.repeat((n * 3) / 4 - 10) }),
    ],
  ])('decodeBase64UrlJson, %s: 16 KiB about 16 times 1 KiB', (_name, make) => {
    expectLinearTime((s) => {
      try {
        decodeBase64UrlJson(s);
      } catch {
        // Documented: TypeError or SyntaxError.
      }
    }, make);
  });

  it('parseMppReceipt on a long reference: 16 KiB about 16 times 1 KiB', () => {
    expectLinearTime(
      (s) => parseMppReceipt(s),
      (n) => encodeBase64UrlJson({ reference: '!'.repeat((n * 3) / 4 - 20) }),
    );
  });
});
