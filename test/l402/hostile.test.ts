/**
 * Hostile L402 servers: a tiny node:http server (127.0.0.1) whose 402 answers are scripted
 * per test with real signed invoices and real macaroons, each one misbehaving. Every case
 * must end with nothing paid (the simulated network and the wallet backend saw no payment)
 * and a typed Stipend error.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChallengeParseError,
  createPayingFetch,
  getPayment,
  PaymentFailedError,
  PolicyDeniedError,
  readBolt11,
} from '@stipend/client';
import {
  createLightningNetwork,
  encodeMacaroonV2,
  type LightningNode,
  mintL402Macaroon,
  RootKeyStore,
} from '@stipend/testkit/l402';
import { lightningWallet } from '@stipend/wallet-lightning';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { l402Adapter, policy, prices, simulatorBackend } from './helpers.js';

const network = createLightningNetwork();
const node = network.createNode({ alias: 'hostile' });
const mainnet = createLightningNetwork({ network: 'mainnet' }).createNode({ alias: 'mainnet' });
const keys = new RootKeyStore();
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_, res) => res.end();
let url = '';
const server = createServer((req, res) => handler(req, res));

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  network.close();
});

/** A real token + invoice pair, with one thing possibly wrong. */
function challenge(
  options: {
    amountMsat?: bigint | null;
    from?: LightningNode;
    timestamp?: number;
    expirySeconds?: number | null;
    macaroonHash?: string;
  } = {},
) {
  const invoice = (options.from ?? node).createInvoice({
    ...(options.amountMsat === null ? {} : { amountMsat: options.amountMsat ?? 100_000n }),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
    ...(options.expirySeconds !== undefined ? { expirySeconds: options.expirySeconds } : {}),
  });
  const token = mintL402Macaroon(keys, options.macaroonHash ?? invoice.paymentHash, [
    'services=quotes:0',
  ]).macaroon;
  return {
    token,
    invoice: invoice.bolt11,
    line: `L402 macaroon="${token}", invoice="${invoice.bolt11}"`,
  };
}

function answer402(lines: string[] | (() => string[])) {
  handler = (_req, res) => {
    res.statusCode = 402;
    res.setHeader('www-authenticate', typeof lines === 'function' ? lines() : lines);
    res.end('payment required');
  };
}

let backend: ReturnType<typeof simulatorBackend>;
let payingFetch: ReturnType<typeof createPayingFetch>;
beforeEach(() => {
  backend = simulatorBackend(network);
  payingFetch = createPayingFetch({
    adapters: [l402Adapter()],
    wallets: [lightningWallet({ backend, network: 'regtest' })],
    policy,
    prices,
  });
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a typed error, got ${String(value)}`);
    },
    (error: unknown) => error,
  );
}

function nothingPaid(before: number) {
  expect(backend.calls.filter((c) => c.startsWith('pay '))).toEqual([]);
  expect(network.stats().attempts).toBe(before);
}

describe('hostile L402 servers: nothing is paid', () => {
  it('an invoice above the spend cap ($5 against $1 per request)', async () => {
    const before = network.stats().attempts;
    answer402([challenge({ amountMsat: 5_000_000_000n }).line]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).code).toBe('POLICY_DENIED');
    nothingPaid(before);
  });

  it('an invoice above the wallet cap (maxAmountMsat)', async () => {
    const before = network.stats().attempts;
    const capped = createPayingFetch({
      adapters: [l402Adapter()],
      wallets: [lightningWallet({ backend, network: 'regtest', maxAmountMsat: 50_000n })],
      policy,
      prices,
    });
    answer402([challenge({ amountMsat: 100_000n }).line]);
    const error = await failure(capped(`${url}/quote`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as Error).message).toMatch(/maxAmountMsat/);
    nothingPaid(before);
  });

  it('an amountless invoice', async () => {
    const before = network.stats().attempts;
    answer402([challenge({ amountMsat: null }).line]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as ChallengeParseError).code).toBe('CHALLENGE_INVALID');
    expect((error as Error).message).toMatch(/amountless/);
    nothingPaid(before);
  });

  it('an expired invoice (no x tag, issued more than 3600 s ago)', async () => {
    const before = network.stats().attempts;
    answer402([
      challenge({ timestamp: Math.floor(Date.now() / 1000) - 4000, expirySeconds: null }).line,
    ]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as Error).message).toMatch(/expire/);
    nothingPaid(before);
  });

  it('an invoice for another network (mainnet to a regtest wallet)', async () => {
    const before = network.stats().attempts;
    answer402([challenge({ from: mainnet }).line]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as Error).message).toMatch(/is for mainnet but this wallet pays on regtest/);
    nothingPaid(before);
  });

  it("a payment hash that is not the macaroon's", async () => {
    const before = network.stats().attempts;
    answer402([challenge({ macaroonHash: 'ab'.repeat(32) }).line]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/payment hash differs/);
    nothingPaid(before);
  });

  it('an unknown protocol version', async () => {
    const before = network.stats().attempts;
    const { token, invoice } = challenge();
    answer402([`L402 version="1", token="${token}", invoice="${invoice}"`]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/unsupported L402 version "1"/);
    nothingPaid(before);
  });

  it('a 402 loop: paid once, then never again (typed errors each time)', async () => {
    // The server answers 402 with a fresh challenge to everything, paid or not.
    answer402(() => [challenge().line]);
    const before = network.stats().attempts;
    const first = await payingFetch(`${url}/quote`);
    expect(first.status).toBe(402);
    const outcome = getPayment(first)!;
    expect(outcome.status).toBe('rejected');
    expect(outcome.error).toBeInstanceOf(PaymentFailedError);
    expect((outcome.error as PaymentFailedError).paid).toBe(true);
    expect(network.stats().attempts - before).toBe(1);

    // The paid credential is tried once more (settlement race), refused again: a loop.
    for (let i = 0; i < 3; i++) {
      const error = await failure(payingFetch(`${url}/quote`));
      expect(error).toBeInstanceOf(ChallengeParseError);
      expect((error as Error).message).toMatch(/402 loop/);
    }
    expect(network.stats().attempts - before).toBe(1);
  });

  // Finding 13: a macaroon is bound to its invoice or refused, whatever its encoding.
  function macaroonWith(identifier: Uint8Array, location: Uint8Array = new Uint8Array([0x6c])) {
    const bytes = Uint8Array.from(
      encodeMacaroonV2({
        location: 'x'.repeat(location.length),
        identifier,
        caveats: [{ identifier: new TextEncoder().encode('services=quotes:0') }],
        signature: new Uint8Array(32).fill(7),
      }),
    );
    bytes.set(location, 3);
    return Buffer.from(bytes).toString('base64');
  }

  it('a macaroon whose identifier is 67 bytes (not the L402 layout) is refused, not taken as opaque', async () => {
    const before = network.stats().attempts;
    const { invoice } = challenge();
    const { paymentHash } = readBolt11(invoice);
    const identifier = Uint8Array.from([
      0,
      0,
      ...Buffer.from(paymentHash, 'hex'),
      ...new Array(33).fill(1),
    ]);
    answer402([`L402 macaroon="${macaroonWith(identifier)}", invoice="${invoice}"`]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/67-byte identifier is not the 66-byte L402 layout/);
    nothingPaid(before);
  });

  it('a macaroon with a non-UTF-8 location bound to another payment hash is refused', async () => {
    const before = network.stats().attempts;
    const { invoice } = challenge();
    const identifier = Uint8Array.from([
      0,
      0,
      ...new Array(32).fill(0xab),
      ...new Array(32).fill(1),
    ]);
    const token = macaroonWith(identifier, Uint8Array.from([0xff, 0xc0, 0x80]));
    answer402([`L402 macaroon="${token}", invoice="${invoice}"`]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/payment hash differs/);
    nothingPaid(before);
  });

  it('a token that is not a macaroon is not paid unless allowOpaqueTokens', async () => {
    const before = network.stats().attempts;
    const { invoice } = challenge();
    answer402([`L402 token="eyJoYXNoIjoiYWIifQ.c2ln", invoice="${invoice}"`]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as { refusal?: string }).refusal).toBe('opaque');
    expect((error as Error).message).toMatch(/allowOpaqueTokens: true/);
    nothingPaid(before);
  });

  // Finding 14: one decoder, and an invoice with two payment hashes is refused.
  it('an invoice with two payment-hash fields is refused before anything is paid', async () => {
    const before = network.stats().attempts;
    const { token, invoice } = challenge();
    const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    const separator = invoice.lastIndexOf('1');
    const hrp = invoice.slice(0, separator);
    const words = [...invoice.slice(separator + 1, -6)].map((c) => CHARSET.indexOf(c));
    const second = [1, 1, 20, ...new Array<number>(52).fill(9)];
    const data = [...words.slice(0, 7), ...second, ...words.slice(7)];
    const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of [
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
    ]) {
      const top = chk >>> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
    }
    chk ^= 1;
    const checksum = [0, 1, 2, 3, 4, 5].map((i) => CHARSET[(chk >>> (5 * (5 - i))) & 31]).join('');
    const doubled = `${hrp}1${data.map((w) => CHARSET[w]).join('')}${checksum}`;
    answer402([`L402 macaroon="${token}", invoice="${doubled}"`]);
    const error = await failure(payingFetch(`${url}/quote`));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/two "p" fields/);
    nothingPaid(before);
  });
});
