import { createInvoice, decodeInvoice, type LightningNetworkName } from '@stipend/testkit/l402';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readBolt11 } from './bolt11.js';
import { NODE } from './l402/l402.test-helpers.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Re-encodes an invoice's data under another human-readable part, with a valid checksum. */
function withHrp(invoice: string, hrp: string): string {
  const separator = invoice.lastIndexOf('1');
  const data = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
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
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  chk ^= 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => CHARSET[(chk >>> (5 * (5 - i))) & 31]).join('');
  return `${hrp}1${data.map((w) => CHARSET[w]).join('')}${checksum}`;
}

/** Re-encodes an invoice with extra tagged fields inserted after the timestamp (checksum fixed; the signature no longer matches). */
function withFields(
  invoice: string,
  fields: ReadonlyArray<[type: number, words: number[]]>,
): string {
  const separator = invoice.lastIndexOf('1');
  const hrp = invoice.slice(0, separator);
  const data = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
  const extra = fields.flatMap(([type, words]) => [
    type,
    words.length >> 5,
    words.length & 31,
    ...words,
  ]);
  const rebuilt = [...data.slice(0, 7), ...extra, ...data.slice(7)];
  return withHrp(`${hrp}1${rebuilt.map((w) => CHARSET[w]).join('')}qqqqqq`, hrp);
}

const HASH = 'ab'.repeat(32);

describe('readBolt11', () => {
  it('reads the aperture regtest golden vector (10 sat, bcrt, no x tag)', () => {
    const invoice =
      'lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms';
    const summary = readBolt11(invoice);
    expect(summary.network).toBe('regtest');
    expect(summary.amountMsat).toBe(10_000n);
    expect(summary.paymentHash).toBe(
      '30a47a6e9b0b3ab9f4280f08932cd7207b440f508580d3eb5563eb4a3d8009ff',
    );
    expect(summary.expirySeconds).toBe(3600);
    expect(summary.payeeNodeKey).toBeUndefined();
    // Upper case is valid bech32 too.
    expect(readBolt11(invoice.toUpperCase())).toEqual(summary);
  });

  it('agrees with the bolt11 package on random invoices of every network', () => {
    const networks: LightningNetworkName[] = ['mainnet', 'testnet', 'signet', 'regtest'];
    fc.assert(
      fc.property(
        fc.constantFrom(...networks),
        fc.option(fc.bigInt({ min: 1n, max: 2_100_000_000_000_000n }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: null }),
        fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }),
        fc.boolean(),
        (network, amountMsat, expirySeconds, timestamp, includePayeeNodeKey) => {
          const invoice = createInvoice({
            nodeKey: NODE,
            network,
            paymentHash: HASH,
            timestamp,
            expirySeconds,
            includePayeeNodeKey,
            ...(amountMsat === undefined ? {} : { amountMsat }),
          });
          const reference = decodeInvoice(invoice.bolt11);
          const mine = readBolt11(invoice.bolt11);
          expect(mine.network).toBe(reference.network);
          expect(mine.amountMsat ?? null).toBe(reference.amountMsat);
          expect(mine.paymentHash).toBe(reference.paymentHash);
          expect(mine.timestamp).toBe(reference.timestamp);
          expect(mine.expirySeconds).toBe(reference.expirySeconds);
          expect(mine.payeeNodeKey).toBe(includePayeeNodeKey ? NODE.publicKeyHex : undefined);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads every amount multiplier exactly, down to the millisatoshi', () => {
    const base = createInvoice({ nodeKey: NODE, paymentHash: HASH }).bolt11;
    const cases: Array<[string, bigint]> = [
      ['lnbc1', 100_000_000_000n],
      ['lnbc25m', 2_500_000_000n],
      ['lnbc2500u', 250_000_000n],
      ['lnbc15n', 1_500n],
      ['lnbc10p', 1n],
      ['lntbs7u', 700_000n],
    ];
    for (const [hrp, msat] of cases) expect(readBolt11(withHrp(base, hrp)).amountMsat).toBe(msat);
  });

  it('refuses malformed invoices with a reason', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    const flipped = good.slice(0, 20) + (good[20] === 'q' ? 'p' : 'q') + good.slice(21);
    expect(() => readBolt11(flipped)).toThrow(/checksum/);
    expect(() => readBolt11(withHrp(good, 'lnbc15p'))).toThrow(/end in 0/);
    expect(() => readBolt11(withHrp(good, 'lnxy10u'))).toThrow(/not a BOLT 11 prefix/);
    expect(() => readBolt11(withHrp(good, 'lnbc010u'))).toThrow(/not a BOLT 11 prefix/);
    expect(() => readBolt11(good.slice(0, 10) + good.slice(10).toUpperCase())).toThrow(/mixes/);
    expect(() => readBolt11('lnbc1qqqqqqqqqqq')).toThrow();
    expect(() => readBolt11('x'.repeat(8000))).toThrow(/7089/);
    expect(() => readBolt11(`${good.slice(0, -1)}!`)).toThrow(/non-bech32/);
  });

  it('reads every field a payer checks, as the reference decoder does', () => {
    const secret = 'cd'.repeat(32);
    const invoice = createInvoice({
      nodeKey: NODE,
      paymentHash: HASH,
      paymentSecret: secret,
      amountMsat: 5_000n,
      description: 'L402 ☕',
      minFinalCltvExpiry: 144,
      includePayeeNodeKey: true,
    });
    const summary = readBolt11(invoice.bolt11);
    expect(summary.paymentSecret).toBe(secret);
    expect(summary.description).toBe('L402 ☕');
    expect(summary.minFinalCltvExpiry).toBe(144);
    expect(summary.descriptionHash).toBeUndefined();
    // var_onion_optin (8) and payment_secret (14), both required (even bits).
    expect([...(summary.features ?? [])].sort((a, b) => a - b)).toEqual([8, 14]);
    expect(summary.payeeNodeKey).toBe(NODE.publicKeyHex);
    // What recovery needs: the hrp and data bytes, the 64-byte signature and its recovery id.
    const hrp = invoice.bolt11.slice(0, invoice.bolt11.lastIndexOf('1'));
    expect(new TextDecoder().decode(summary.signature.message.subarray(0, hrp.length))).toBe(hrp);
    const dataWords = invoice.bolt11.length - hrp.length - 1 - 6 - 104;
    expect(summary.signature.message.length).toBe(hrp.length + Math.ceil((dataWords * 5) / 8));
    expect(summary.signature.compact).toHaveLength(64);
    expect(summary.signature.recoveryId).toBeGreaterThanOrEqual(0);
    expect(summary.signature.recoveryId).toBeLessThanOrEqual(3);
  });

  it('refuses an invoice with a duplicated single field (two p, s, h, n, x, c, d, m or 9)', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    const words = (n: number, w = 3) => new Array<number>(n).fill(w);
    const cases: Array<[string, number, number[]]> = [
      ['p', 1, words(52)],
      ['s', 16, words(52)],
      ['c', 24, [1]],
      ['d', 13, words(4)],
      ['9', 5, [1]],
    ];
    for (const [letter, type, data] of cases) {
      expect(() => readBolt11(withFields(good, [[type, data]])), letter).toThrow(
        new RegExp(`two "${letter}" fields`),
      );
    }
    // h, n, x and m appear once in none of the testkit invoices: insert two.
    for (const [letter, type, data] of [
      ['h', 23, words(52)],
      ['n', 19, words(53)],
      ['x', 6, [2]],
      ['m', 27, words(8)],
    ] as const) {
      expect(() =>
        readBolt11(
          withFields(good, [
            [type, [...data]],
            [type, [...data]],
          ]),
        ),
      ).toThrow(new RegExp(`two "${letter}" fields`));
    }
    // A p field of the wrong length is skipped (BOLT 11), so it is no duplicate.
    expect(readBolt11(withFields(good, [[1, words(10)]])).paymentHash).toBe(HASH);
    // r and f fields may repeat.
    expect(
      readBolt11(
        withFields(good, [
          [3, words(5)],
          [3, words(5)],
        ]),
      ).paymentHash,
    ).toBe(HASH);
  });

  it('an invoice is read once: the same text gives back the one frozen reading, and no reader can alter the signature bytes the next one recovers from', () => {
    const invoice = createInvoice({
      nodeKey: NODE,
      paymentHash: 'ab'.repeat(32),
      amountMsat: 5_000n,
    }).bolt11;
    const first = readBolt11(invoice);
    expect(readBolt11(invoice)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.signature)).toBe(true);
    const message = first.signature.message;
    const compact = first.signature.compact;
    message.fill(0);
    compact.fill(0);
    expect(readBolt11(invoice).signature.message).not.toEqual(message);
    expect(readBolt11(invoice).signature.compact).not.toEqual(compact);
    expect(() => {
      (first as { paymentHash: string }).paymentHash = '00'.repeat(32);
    }).toThrow(TypeError);
  });

  it('a refused invoice is refused on every read (refusals are not kept as readings)', () => {
    const invoice = createInvoice({ nodeKey: NODE, paymentHash: 'cd'.repeat(32) }).bolt11;
    const broken = invoice.slice(0, -1) + (invoice.endsWith('q') ? 'p' : 'q');
    expect(() => readBolt11(broken)).toThrow(/checksum/);
    expect(() => readBolt11(broken)).toThrow(/checksum/);
  });
});
