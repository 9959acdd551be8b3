/**
 * Fuzzing the client's BOLT 11 reader (`readBolt11`, used to price L402 offers and MPP
 * lightning charges): real signed invoices with random fields must read exactly as the
 * reference `bolt11` package decodes them (through the testkit); mutated invoices and random
 * text must end in a `TypeError`, never another exception; time grows linearly.
 *
 * Documented outcomes: a `Bolt11Summary`, or a `TypeError` saying what is wrong. An invoice
 * with two of a field BOLT 11 allows once (p, s, h, n, x, c, d, m, 9) is always refused.
 */
import { readBolt11 } from '@stipend/client';
import {
  createInvoice,
  createNodeKey,
  decodeInvoice,
  type LightningNetworkName,
} from '@stipend/testkit/lightning';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CASES,
  expectLinearTime,
  expectTally,
  fuzzSync,
  LONG,
  mutated,
  timeoutFor,
} from './fuzz.test-helpers.js';

const PARSER = 'bolt11';
expectTally([PARSER]);

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const NETWORKS: readonly LightningNetworkName[] = ['mainnet', 'testnet', 'signet', 'regtest'];
const CLIENT_NETWORK: Readonly<Record<LightningNetworkName, string>> = {
  mainnet: 'mainnet',
  testnet: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
};
const key = createNodeKey();
const hex32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((bytes) => Buffer.from(bytes).toString('hex'));

/** Random invoice parameters, signed by the reference encoder. */
const invoiceArb = fc
  .record({
    network: fc.constantFrom(...NETWORKS),
    amountMsat: fc.option(
      fc.oneof(
        fc.bigInt({ min: 1n, max: 10_000n }).map((v) => v * 1000n),
        // Up to 100 000 BTC: readBolt11 reads at most 18 amount digits (see README, quirks).
        fc.bigInt({ min: 1n, max: 10_000_000_000_000_000n }),
      ),
      { nil: undefined },
    ),
    paymentHash: hex32,
    description: fc.string({ maxLength: 60 }),
    expirySeconds: fc.option(fc.integer({ min: 1, max: 2 ** 31 }), { nil: null }),
    timestamp: fc.integer({ min: 1_500_000_000, max: 2 ** 34 }),
    includePayeeNodeKey: fc.boolean(),
  })
  .map((params) => createInvoice({ nodeKey: key, ...params }));

/** A pool of real invoices for the mutation properties (signing is slow: made once). */
const POOL = fc.sample(invoiceArb, { numRuns: 24, seed: 7 }).map((invoice) => invoice.bolt11);

function readOrTypeError(text: string): ReturnType<typeof readBolt11> | undefined {
  try {
    return readBolt11(text);
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(TypeError);
    return undefined;
  }
}

describe('readBolt11 under fuzzing', () => {
  // Signing goes through secp256k1 in JS: cap these cases, the mutation cases make up the rest.
  const signed = Math.min(LONG ? 20_000 : 300, Math.ceil(CASES / 10));
  const rest = Math.max(1, CASES - signed);

  it(
    'reads real signed invoices exactly as the reference decoder does',
    () => {
      fuzzSync(
        PARSER,
        invoiceArb,
        (invoice) => {
          const reference = decodeInvoice(invoice.bolt11);
          const summary = readBolt11(invoice.bolt11);
          expect(summary.network).toBe(CLIENT_NETWORK[reference.network]);
          expect(summary.amountMsat).toBe(reference.amountMsat ?? undefined);
          expect(summary.paymentHash).toBe(reference.paymentHash);
          expect(summary.timestamp).toBe(reference.timestamp);
          expect(summary.expirySeconds).toBe(reference.expirySeconds);
          expect(summary.paymentSecret ?? null).toBe(reference.paymentSecret);
          expect(summary.description ?? null).toBe(reference.description);
          expect(summary.minFinalCltvExpiry ?? null).toBe(reference.minFinalCltvExpiry);
          expect(summary.signature.compact).toHaveLength(64);
          if (summary.payeeNodeKey !== undefined) {
            expect(summary.payeeNodeKey).toBe(reference.payeeNodeKey);
          }
          // Upper case is the same invoice (bech32 allows one case throughout).
          expect(readBolt11(invoice.bolt11.toUpperCase())).toEqual(summary);
        },
        signed,
      );
    },
    timeoutFor(signed, 5),
  );

  it(
    'mutated invoices: a TypeError or a summary, nothing else; a one-character change is caught',
    () => {
      fuzzSync(
        PARSER,
        fc.oneof(
          { weight: 4, arbitrary: mutated(POOL, `${CHARSET}1lnbcrtumnpBQ`) },
          {
            weight: 2,
            arbitrary: fc
              .tuple(fc.constantFrom(...POOL), fc.nat(), fc.constantFrom(...CHARSET))
              .map(([invoice, at, char]) => {
                const i =
                  invoice.lastIndexOf('1') +
                  1 +
                  (at % (invoice.length - invoice.lastIndexOf('1') - 1));
                const swapped =
                  invoice[i] === char ? CHARSET[(CHARSET.indexOf(char) + 1) % 32]! : char;
                return { single: `${invoice.slice(0, i)}${swapped}${invoice.slice(i + 1)}` };
              }),
          },
        ),
        (value) => {
          if (typeof value === 'string') {
            readOrTypeError(value);
            return;
          }
          // bech32's checksum detects every single-character substitution.
          expect(() => readBolt11(value.single)).toThrow(TypeError);
        },
        Math.ceil(rest / 2),
      );
    },
    timeoutFor(Math.ceil(rest / 2)),
  );

  it(
    'random text and random bech32 data with a valid prefix: a TypeError or a summary',
    () => {
      fuzzSync(
        PARSER,
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc
            .tuple(
              fc.constantFrom(
                'lnbc',
                'lntb',
                'lntbs',
                'lnbcrt',
                'LNBC',
                'lnbc2500u',
                'lnbc1p',
                'lnbc9999999999999999999m',
              ),
              fc.string({ unit: fc.constantFrom(...CHARSET), maxLength: 400 }),
            )
            .map(([prefix, data]) => `${prefix}1${data}`),
        ),
        (text) => {
          const summary = readOrTypeError(text);
          if (summary) {
            expect(summary.paymentHash).toMatch(/^[0-9a-f]{64}$/);
            if (summary.amountMsat !== undefined) expect(summary.amountMsat >= 0n).toBe(true);
          }
        },
        Math.ceil(rest / 2),
      );
    },
    timeoutFor(Math.ceil(rest / 2)),
  );
});

/** Re-encodes an invoice with a tagged field inserted at a word offset (checksum fixed). */
function withField(invoice: string, type: number, words: number[], at: number): string {
  const separator = invoice.lastIndexOf('1');
  const hrp = invoice.slice(0, separator);
  const all = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
  // Insert at a field boundary: walk the tagged fields after the timestamp.
  const boundaries = [7];
  for (let i = 7; i < all.length - 104; ) {
    i += 3 + all[i + 1]! * 32 + all[i + 2]!;
    boundaries.push(i);
  }
  const where = boundaries[at % boundaries.length]!;
  const field = [type, words.length >> 5, words.length & 31, ...words];
  const data = [...all.slice(0, where), ...field, ...all.slice(where)];
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...data,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  let chk = 1;
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  chk ^= 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => CHARSET[(chk >>> (5 * (5 - i))) & 31]).join('');
  return `${hrp}1${data.map((w) => CHARSET[w]).join('')}${checksum}`;
}

describe('readBolt11: one reading per invoice', () => {
  it('an invoice with a second p, s or c field (valid length, anywhere) is refused', () => {
    fuzzSync(
      PARSER,
      fc.tuple(
        fc.constantFrom(...POOL),
        fc.constantFrom<[number, number]>([1, 52], [16, 52], [24, 2]),
        fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 53, maxLength: 53 }),
        fc.nat(),
      ),
      ([invoice, [type, length], words, at]) => {
        const doubled = withField(invoice, type, words.slice(0, length), at);
        expect(() => readBolt11(doubled)).toThrow(/two "[psc]" fields/);
      },
      Math.min(CASES, 2_000),
    );
  });
});

describe('readBolt11 time on long input', () => {
  const valid = POOL[0]!;
  it.each([
    ['bech32 data', (n: number) => `lnbc1${'q'.repeat(n - 5)}`],
    ['separators', (n: number) => '1'.repeat(n)],
    ['a long prefix', (n: number) => `ln${'b'.repeat(n - 4)}1q`],
    [
      'a valid invoice padded with data',
      (n: number) => valid + 'q'.repeat(Math.max(0, n - valid.length)),
    ],
  ])(
    '%s: 7 KiB (the BOLT 11 maximum) about 7 times 1 KiB; 16 KiB refused at once',
    (_name, make) => {
      const read = (s: string) => readOrTypeError(s);
      expectLinearTime(read, make, { large: 7_089 });
      expectLinearTime(read, make);
    },
  );
});
