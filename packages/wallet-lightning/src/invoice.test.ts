import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { isStipendError } from '@stipend/client';
import { createInvoice, createNodeKey, type LightningNetworkName } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes.js';
import { decodeInvoice, InvoiceError, networkOfInvoice } from './invoice.js';

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function regroup(values: readonly number[], from: number, to: number, pad: boolean): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const value of values) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & ((1 << to) - 1));
    }
    acc &= (1 << bits) - 1;
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & ((1 << to) - 1));
  return out;
}

function checksum(hrp: string, words: readonly number[]): string {
  let chk = 1;
  const values = [
    ...[...hrp].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...hrp].map((c) => c.charCodeAt(0) & 31),
    ...words,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  chk ^= 1;
  return [0, 1, 2, 3, 4, 5].map((i) => CHARSET[(chk >>> (5 * (5 - i))) & 31]).join('');
}

/**
 * Re-signs an invoice (a real BOLT 11 signature by `privateKeyHex`) after inserting tagged
 * fields right after its timestamp: an invoice a hostile node could really issue.
 */
function resigned(
  invoice: string,
  privateKeyHex: string,
  fields: ReadonlyArray<[type: number, words: number[]]> = [],
): string {
  const separator = invoice.lastIndexOf('1');
  const hrp = invoice.slice(0, separator);
  const all = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
  const data = all.slice(0, -104);
  const extra = fields.flatMap(([type, words]) => [
    type,
    words.length >> 5,
    words.length & 31,
    ...words,
  ]);
  const words = [...data.slice(0, 7), ...extra, ...data.slice(7)];
  const message = Uint8Array.from([
    ...new TextEncoder().encode(hrp),
    ...regroup(words, 5, 8, true),
  ]);
  const recovered = secp256k1.sign(sha256(message), hexToBytes(privateKeyHex), {
    prehash: false,
    format: 'recovered',
  });
  const signature = regroup([...recovered.subarray(1), recovered[0]!], 8, 5, true);
  const body = [...words, ...signature];
  return `${hrp}1${body.map((w) => CHARSET[w]).join('')}${checksum(hrp, body)}`;
}

const NODE = createNodeKey();
const HASH = '12'.repeat(32);

describe('decodeInvoice', () => {
  it.each<LightningNetworkName>(['mainnet', 'testnet', 'signet', 'regtest'])(
    'decodes a %s invoice and recovers the signing node key',
    (network) => {
      const invoice = createInvoice({
        nodeKey: NODE,
        network,
        paymentHash: HASH,
        amountMsat: 1_500n,
        timestamp: 1_700_000_000,
        expirySeconds: 600,
        description: 'L402',
      });
      const decoded = decodeInvoice(invoice.bolt11);
      expect(decoded).toEqual({
        invoice: invoice.bolt11,
        network,
        amountMsat: 1_500n,
        paymentHash: HASH,
        timestamp: 1_700_000_000,
        expirySeconds: 600,
        expiresAt: 1_700_000_600,
        payeeNodeKey: NODE.publicKeyHex,
        description: 'L402',
      });
      expect(networkOfInvoice(invoice.bolt11)).toBe(network);
    },
  );

  it('applies the 3600 s default expiry and leaves amountless invoices without amount', () => {
    const invoice = createInvoice({
      nodeKey: NODE,
      paymentHash: HASH,
      expirySeconds: null,
      timestamp: 1_700_000_000,
    });
    const decoded = decodeInvoice(invoice.bolt11);
    expect(decoded.expirySeconds).toBe(3600);
    expect(decoded.expiresAt).toBe(1_700_003_600);
    expect(decoded.amountMsat).toBeUndefined();
  });

  it('recovers the key of the aperture golden vector', () => {
    const invoice =
      'lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms';
    const decoded = decodeInvoice(invoice);
    expect(decoded.payeeNodeKey).toBe(
      '03a394d0ebf0d003124ab130c6b12b8b990a50a30a464354800a51981ba745bb07',
    );
    expect(decoded.amountMsat).toBe(10_000n);
  });

  it('refuses tampered and foreign strings, and reports the real signer', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    const tampered = good.slice(0, 30) + (good[30] === 'q' ? 'p' : 'q') + good.slice(31);
    expect(() => decodeInvoice(tampered)).toThrow(InvoiceError);
    expect(() => decodeInvoice('lnxyz1qqq')).toThrow(/expected a prefix/);
    // The recovered key is the signer's, whatever the payee: what pinning compares.
    const other = createNodeKey();
    const lying = createInvoice({ nodeKey: other, paymentHash: HASH, includePayeeNodeKey: true });
    expect(decodeInvoice(lying.bolt11).payeeNodeKey).toBe(other.publicKeyHex);
  });

  it('re-signing an invoice unchanged gives the same reading (the helper below is sound)', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    expect(decodeInvoice(resigned(good, NODE.privateKeyHex))).toMatchObject({
      paymentHash: HASH,
      payeeNodeKey: NODE.publicKeyHex,
      amountMsat: 1000n,
    });
  });

  it('refuses a properly signed invoice with two payment hashes (one decoder decides for client and wallet)', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    const otherHash = regroup([...hexToBytes('34'.repeat(32))], 8, 5, true);
    const twoHashes = resigned(good, NODE.privateKeyHex, [[1, otherHash]]);
    let error: unknown;
    try {
      decodeInvoice(twoHashes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvoiceError);
    expect(isStipendError(error) && error.code).toBe('INVOICE_INVALID');
    expect((error as Error).message).toMatch(/two "p" fields/);
  });

  it('refuses an invoice whose n tag names another node than its signer', () => {
    const good = createInvoice({ nodeKey: NODE, paymentHash: HASH, amountMsat: 1000n }).bolt11;
    const other = createNodeKey();
    const claim = regroup([...hexToBytes(other.publicKeyHex)], 8, 5, true);
    expect(() => decodeInvoice(resigned(good, NODE.privateKeyHex, [[19, claim]]))).toThrow(
      /not made by the payee key of its n tag/,
    );
    // Signed by the node it names: fine.
    const own = regroup([...hexToBytes(NODE.publicKeyHex)], 8, 5, true);
    expect(decodeInvoice(resigned(good, NODE.privateKeyHex, [[19, own]])).payeeNodeKey).toBe(
      NODE.publicKeyHex,
    );
  });
});
