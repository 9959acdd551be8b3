import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { readBolt11 } from '@stipend/client';
import bolt11 from 'bolt11';
import { describe, expect, it } from 'vitest';
import { bytesToHex, randomBytes32, sha256Hex } from './bytes.js';
import {
  createInvoice,
  createNodeKey,
  DEFAULT_BOLT11_EXPIRY_SECONDS,
  decodeInvoice,
  InvoiceDecodeError,
} from './invoice.js';

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/**
 * Independent BOLT 11 signature recovery (not via the bolt11 package): sha256 over the
 * human-readable part and the data words (without the 104 signature words) packed into
 * bytes, then secp256k1 public-key recovery with @noble/curves.
 */
function recoverPayee(invoice: string): string {
  const sep = invoice.lastIndexOf('1');
  const hrp = invoice.slice(0, sep);
  const words = [...invoice.slice(sep + 1, -6)].map((ch) => BECH32.indexOf(ch));
  const dataWords = words.slice(0, -104);
  const sigBytes = wordsToBytes(words.slice(-104), false);
  const preimage = Buffer.concat([Buffer.from(hrp, 'utf8'), wordsToBytes(dataWords, true)]);
  const digest = createHash('sha256').update(preimage).digest();
  const recovery = sigBytes[64] ?? 0;
  const sig = secp256k1.Signature.fromBytes(sigBytes.subarray(0, 64), 'compact').addRecoveryBit(
    recovery,
  );
  return sig.recoverPublicKey(digest).toHex(true);
}

function wordsToBytes(words: number[], pad: boolean): Buffer {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad && bits > 0) out.push((acc << (8 - bits)) & 0xff);
  return Buffer.from(out);
}

describe('createNodeKey', () => {
  it('derives the compressed public key from a given private key', () => {
    // secp256k1 generator point G for private key 1.
    const key = createNodeKey(`${'00'.repeat(31)}01`);
    expect(key.publicKeyHex).toBe(
      '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    );
  });

  it('makes distinct random keys and refuses invalid ones', () => {
    expect(createNodeKey().privateKeyHex).not.toBe(createNodeKey().privateKeyHex);
    expect(() => createNodeKey('00'.repeat(32))).toThrow(/1\.\.n-1/);
  });
});

describe('createInvoice / decodeInvoice', () => {
  const nodeKey = createNodeKey();
  const preimage = randomBytes32();
  const paymentHash = sha256Hex(preimage);

  it('creates a signed regtest invoice whose signature recovers the node key', () => {
    const invoice = createInvoice({
      nodeKey,
      amountMsat: 100_000n,
      paymentHash,
      description: 'L402',
      expirySeconds: 600,
      timestamp: 1_700_000_000,
    });
    expect(invoice.bolt11.startsWith('lnbcrt1u1')).toBe(true);
    expect(invoice.network).toBe('regtest');
    expect(invoice.amountMsat).toBe(100_000n);
    expect(invoice.paymentHash).toBe(paymentHash);
    expect(invoice.paymentSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(invoice.description).toBe('L402');
    expect(invoice.timestamp).toBe(1_700_000_000);
    expect(invoice.expiresAt).toBe(1_700_000_600);
    expect(invoice.hasExpiryTag).toBe(true);
    expect(invoice.payeeNodeKey).toBe(nodeKey.publicKeyHex);
    expect(recoverPayee(invoice.bolt11)).toBe(nodeKey.publicKeyHex);

    const decoded = decodeInvoice(invoice.bolt11);
    expect(decoded).toEqual(invoice);
  });

  it('keeps millisatoshi precision and supports amountless invoices', () => {
    const sub = createInvoice({ nodeKey, amountMsat: 1_500n, paymentHash });
    expect(sub.bolt11.startsWith('lnbcrt15n1')).toBe(true);
    expect(sub.amountMsat).toBe(1_500n);
    const oneMsat = createInvoice({ nodeKey, amountMsat: 1n, paymentHash });
    expect(oneMsat.bolt11.startsWith('lnbcrt10p1')).toBe(true);
    expect(oneMsat.amountMsat).toBe(1n);
    const amountless = createInvoice({ nodeKey, paymentHash });
    expect(amountless.bolt11.startsWith('lnbcrt1p')).toBe(true);
    expect(amountless.amountMsat).toBeNull();
  });

  it('applies the BOLT 11 default expiry when the x tag is omitted', () => {
    const invoice = createInvoice({ nodeKey, amountMsat: 1000n, paymentHash, expirySeconds: null });
    expect(invoice.hasExpiryTag).toBe(false);
    expect(invoice.expirySeconds).toBe(DEFAULT_BOLT11_EXPIRY_SECONDS);
    expect(invoice.expiresAt).toBe(invoice.timestamp + 3600);
  });

  it('uses the given payment secret and writes the payment_secret feature bits', () => {
    const secret = bytesToHex(randomBytes32());
    const invoice = createInvoice({
      nodeKey,
      amountMsat: 1000n,
      paymentHash,
      paymentSecret: secret,
    });
    expect(invoice.paymentSecret).toBe(secret);
    const features = bolt11.decode(invoice.bolt11).tagsObject.feature_bits;
    expect(features?.payment_secret?.required).toBe(true);
    expect(features?.var_onion_optin?.required).toBe(true);
  });

  it('encodes the other networks with their prefixes', () => {
    for (const [network, prefix] of [
      ['mainnet', 'lnbc10n1'],
      ['testnet', 'lntb10n1'],
      ['signet', 'lntbs10n1'],
    ] as const) {
      const invoice = createInvoice({ nodeKey, network, amountMsat: 1_000n, paymentHash });
      expect(invoice.bolt11.startsWith(prefix)).toBe(true);
      expect(decodeInvoice(invoice.bolt11).network).toBe(network);
      expect(recoverPayee(invoice.bolt11)).toBe(nodeKey.publicKeyHex);
    }
  });

  it('writes and checks the n tag when asked', () => {
    const invoice = createInvoice({
      nodeKey,
      amountMsat: 1_000n,
      paymentHash,
      includePayeeNodeKey: true,
    });
    expect(invoice.payeeNodeKey).toBe(nodeKey.publicKeyHex);
  });

  it('writes a description hash as a signed h tag and no d tag (x402 lnbtc request binding)', () => {
    const requestHash = sha256Hex(new TextEncoder().encode('{"domain":"x"}'));
    const invoice = createInvoice({
      nodeKey,
      network: 'mainnet',
      amountMsat: 25_000n,
      paymentHash,
      descriptionHash: requestHash,
      expirySeconds: 300,
      timestamp: 1_700_000_000,
    });
    expect(invoice.descriptionHash).toBe(requestHash);
    expect(invoice.description).toBeNull();
    // The raw tags: exactly one h, no d (BOLT 11: one or the other).
    const raw = bolt11.decode(invoice.bolt11);
    const names = raw.tags.map((tag) => tag.tagName);
    expect(names.filter((name) => name === 'purpose_commit_hash')).toHaveLength(1);
    expect(names).not.toContain('description');
    // The signature covers it: an independent recovery finds the node key.
    expect(recoverPayee(invoice.bolt11)).toBe(nodeKey.publicKeyHex);
    // The client's own BOLT 11 reader (another decoder) reads the same binding.
    const read = readBolt11(invoice.bolt11);
    expect(read.descriptionHash).toBe(requestHash);
    expect(read.description).toBeUndefined();
    expect(read.payeeNodeKey ?? invoice.payeeNodeKey).toBe(nodeKey.publicKeyHex);
    expect(decodeInvoice(invoice.bolt11)).toEqual(invoice);
  });

  it('refuses a description hash that is not 32 bytes of lowercase hex, or beside a description', () => {
    expect(() => createInvoice({ nodeKey, paymentHash, descriptionHash: 'ab' })).toThrow(
      /descriptionHash must be 64 lowercase hex/,
    );
    expect(() =>
      createInvoice({ nodeKey, paymentHash, descriptionHash: paymentHash, description: 'x' }),
    ).toThrow(/not both/);
  });

  it('rejects a tampered invoice and non-invoices', () => {
    const invoice = createInvoice({ nodeKey, amountMsat: 100_000n, paymentHash });
    const tampered = invoice.bolt11.replace('lnbcrt1u1', 'lnbcrt2u1');
    expect(() => decodeInvoice(tampered)).toThrow(InvoiceDecodeError);
    expect(() => decodeInvoice('hello')).toThrow(/prefix lnbc, lntb, lntbs or lnbcrt/);
  });

  it('validates its inputs', () => {
    expect(() => createInvoice({ nodeKey, paymentHash: 'AB'.repeat(32) })).toThrow(/lowercase hex/);
    expect(() => createInvoice({ nodeKey, paymentHash, amountMsat: 0n })).toThrow(/positive/);
    expect(() => createInvoice({ nodeKey, paymentHash, expirySeconds: 0 })).toThrow(/positive/);
  });
});
