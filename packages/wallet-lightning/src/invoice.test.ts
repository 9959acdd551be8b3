import { isStipendError } from '@stipend/client';
import { createInvoice, createNodeKey, type LightningNetworkName } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes.js';
import { decodeInvoice, InvoiceError, networkOfInvoice } from './invoice.js';
import { regroup, resigned } from './invoice.test-helpers.js';

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
