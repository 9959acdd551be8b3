import { createRequire } from 'node:module';
import { isStipendError } from '@stipend/client';
import { createInvoice, createNodeKey, type LightningNetworkName } from '@stipend/testkit/l402';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { secpRecover } from '#secp-recover';
import { hexToBytes } from '../bytes.js';
import { decodeInvoiceWith } from '../invoice.js';
import { regroup, resigned, withSignature } from '../invoice.test-helpers.js';
import { nobleRecover, type SecpRecover } from './noble.js';
import { chooseRecover } from './node.js';
import { tinyRecoverFrom } from './tiny.js';

const loadTiny = () => createRequire(import.meta.url)('tiny-secp256k1');
const tiny = tinyRecoverFrom(loadTiny);
const IMPLEMENTATIONS: ReadonlyArray<[string, SecpRecover]> = [
  ['tiny-secp256k1', tiny!],
  ['@noble/curves', nobleRecover],
];
const NODE = createNodeKey();
const hash = () =>
  crypto
    .getRandomValues(new Uint8Array(32))
    .reduce((h, b) => h + b.toString(16).padStart(2, '0'), '');

function refusal(run: () => unknown): { code?: unknown; message: string } {
  try {
    run();
  } catch (error) {
    return {
      code: isStipendError(error) ? error.code : undefined,
      message: (error as Error).message,
    };
  }
  throw new Error('expected a refusal');
}

describe('secp256k1 recovery: one signature, two implementations', () => {
  it('Node resolves #secp-recover to tiny-secp256k1 when it is installed', () => {
    expect(tiny?.name).toBe('tiny-secp256k1');
    expect(secpRecover.name).toBe('tiny-secp256k1');
  });

  it.each<LightningNetworkName>(['mainnet', 'testnet', 'signet', 'regtest'])(
    'both implementations recover the same payee key from a real %s invoice',
    (network) => {
      const invoice = createInvoice({
        nodeKey: NODE,
        network,
        paymentHash: hash(),
        amountMsat: 2_000n,
      });
      const fast = decodeInvoiceWith(invoice.bolt11, tiny!);
      const pure = decodeInvoiceWith(invoice.bolt11, nobleRecover);
      expect(fast).toEqual(pure);
      expect(fast.payeeNodeKey).toBe(NODE.publicKeyHex);
      expect(invoice.payeeNodeKey).toBe(NODE.publicKeyHex);
    },
  );

  it('both implementations recover the signer of a high-S signature (BOLT 11 readers accept it)', () => {
    const invoice = createInvoice({ nodeKey: NODE, paymentHash: hash(), amountMsat: 1_000n });
    const high = resigned(invoice.bolt11, NODE.privateKeyHex, [], { highS: true });
    for (const [, secp] of IMPLEMENTATIONS) {
      expect(decodeInvoiceWith(high, secp).payeeNodeKey).toBe(NODE.publicKeyHex);
    }
  });

  it.each(IMPLEMENTATIONS)(
    'an n tag that names another node than the signer is refused (%s)',
    (_, secp) => {
      const good = createInvoice({ nodeKey: NODE, paymentHash: hash(), amountMsat: 1_000n }).bolt11;
      const claim = regroup([...hexToBytes(createNodeKey().publicKeyHex)], 8, 5, true);
      const lying = resigned(good, NODE.privateKeyHex, [[19, claim]]);
      expect(refusal(() => decodeInvoiceWith(lying, secp))).toEqual({
        code: 'INVOICE_INVALID',
        message: expect.stringMatching(/not made by the payee key of its n tag/),
      });
      const own = regroup([...hexToBytes(NODE.publicKeyHex)], 8, 5, true);
      expect(
        decodeInvoiceWith(resigned(good, NODE.privateKeyHex, [[19, own]]), secp).payeeNodeKey,
      ).toBe(NODE.publicKeyHex);
    },
  );

  it.each(IMPLEMENTATIONS)(
    'a malformed signature is refused, never read as some key (%s)',
    (_, secp) => {
      const good = createInvoice({ nodeKey: NODE, paymentHash: hash(), amountMsat: 1_000n }).bolt11;
      const zero = new Uint8Array(64);
      const notOnCurve = new Uint8Array(64).fill(1);
      notOnCurve.set(new Uint8Array(31), 0); // r = 5: no curve point has that x
      notOnCurve[31] = 5;
      const rAboveOrder = new Uint8Array(64).fill(0xff);
      const compact = hexToBytes(
        '0cc2c6b0f3f4f5ad7b3e2d3bf0cb33ec56e0f39a0d4a36f2b7bb1a4b9e3a5a7e1ae2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80',
      );
      for (const [bytes, id] of [
        [zero, 0],
        [notOnCurve, 0],
        [rAboveOrder, 1],
        [compact, 2], // recovery ids 2 and 3 need r + n < p: no such r here
        [compact, 3],
      ] as const) {
        expect(refusal(() => decodeInvoiceWith(withSignature(good, bytes, id), secp))).toEqual({
          code: 'INVOICE_INVALID',
          message: expect.stringMatching(/no key could be recovered/),
        });
      }
    },
  );

  it('falls back to @noble/curves when tiny-secp256k1 is absent or unusable', () => {
    expect(
      chooseRecover(() => {
        throw new Error("Cannot find module 'tiny-secp256k1'");
      }),
    ).toBe(nobleRecover);
    expect(chooseRecover(() => undefined)).toBe(nobleRecover);
    expect(chooseRecover(() => ({}))).toBe(nobleRecover);
    // A module that answers but fails the known-answer check (another major version, a stand-in).
    const wrong = { recover: () => hexToBytes(NODE.publicKeyHex) };
    expect(chooseRecover(() => wrong)).toBe(nobleRecover);
    const throwing = {
      recover: () => {
        throw new Error('no WebAssembly');
      },
    };
    expect(chooseRecover(() => throwing)).toBe(nobleRecover);
    expect(chooseRecover(loadTiny).name).toBe('tiny-secp256k1');
    // The fallback still decodes and checks.
    const invoice = createInvoice({
      nodeKey: NODE,
      paymentHash: hash(),
      amountMsat: 1_000n,
    }).bolt11;
    expect(
      decodeInvoiceWith(
        invoice,
        chooseRecover(() => undefined),
      ).payeeNodeKey,
    ).toBe(NODE.publicKeyHex);
  });

  it('the browser build carries @noble/curves only: no tiny-secp256k1, no Node built-in', async () => {
    const result = await build({
      entryPoints: [new URL('../index.ts', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['@stipend/source'],
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.endsWith('secp/browser.ts'))).toBe(true);
    expect(
      inputs.filter((path) => /tiny-secp256k1|secp\/node\.ts|secp\/tiny\.ts|^node:/.test(path)),
    ).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/tiny-secp256k1|createRequire/);
  });
});
