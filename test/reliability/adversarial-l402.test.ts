/**
 * Adversarial L402 servers, beyond `test/l402/hostile.test.ts` (catalogue ids L1–L10 in
 * README.md): a hostile server that builds its challenges from real pieces (signed BOLT 11
 * regtest invoices of the testkit's simulated Lightning network, libmacaroons v2 tokens),
 * against the L402 adapter and `lightningWallet` over the simulator. Payments are counted at
 * the simulator; each case ends with no unauthorised payment and a typed StipendError.
 */
import type { ServerResponse } from 'node:http';
import {
  createPayingFetch,
  getPayment,
  l402Adapter,
  type PaymentFailedError,
} from '@stipend/client';
import {
  createLightningNetwork,
  encodeL402Identifier,
  encodeMacaroonV2,
  type LightningNetwork,
  type LightningNode,
  toStdBase64,
} from '@stipend/testkit/l402';
import { lightningWallet } from '@stipend/wallet-lightning';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';
import { prices } from '../l402/helpers.js';
import { type HostileServer, startHostileServer, typedError } from './hostile.test-helpers.js';

let network: LightningNetwork;
let node: LightningNode;
let hostile: HostileServer;

beforeAll(async () => {
  network = createLightningNetwork();
  node = network.createNode({ alias: 'hostile' });
  hostile = await startHostileServer();
});
afterAll(async () => {
  await hostile?.close();
  network?.close();
});
beforeEach(() => {
  hostile.hits.length = 0;
});

/** A v2 macaroon for a payment hash (not verified by anyone here: the client only reads it). */
function token(paymentHash: string, options: { version?: number; caveats?: string[] } = {}) {
  const identifier = encodeL402Identifier({ version: 0, paymentHash, tokenId: 'ab'.repeat(32) });
  // The testkit only encodes version 0; other versions are written by hand (uint16, big-endian).
  identifier[0] = (options.version ?? 0) >> 8;
  identifier[1] = (options.version ?? 0) & 0xff;
  return toStdBase64(
    encodeMacaroonV2({
      location: 'lsat',
      identifier,
      caveats: (options.caveats ?? ['services=quotes:0']).map((c) => ({
        identifier: new TextEncoder().encode(c),
      })),
      signature: new Uint8Array(32).fill(7),
    }),
  );
}

/** A fresh invoice of the hostile node and its L402 challenge line. */
function challenge(
  options: {
    amountMsat?: bigint;
    expirySeconds?: number;
    mangle?: (invoice: string) => string;
    token?: (hash: string) => string;
  } = {},
) {
  const invoice = node.createInvoice({
    amountMsat: options.amountMsat ?? 100_000n,
    ...(options.expirySeconds !== undefined ? { expirySeconds: options.expirySeconds } : {}),
  });
  const bolt11 = options.mangle ? options.mangle(invoice.bolt11) : invoice.bolt11;
  const tok = options.token ? options.token(invoice.paymentHash) : token(invoice.paymentHash);
  return `L402 macaroon="${tok}", invoice="${bolt11}"`;
}

function answer402(res: ServerResponse, www: string | string[], status = 402) {
  res.writeHead(status, { 'www-authenticate': www, 'content-type': 'text/plain' });
  res.end('payment required');
}

function setup() {
  return createPayingFetch({
    adapters: [l402Adapter()],
    wallets: [lightningWallet({ backend: simulatorBackend(network), network: 'regtest' })],
    prices,
    policy: { global: { maxPerRequest: { usd: '1.00' } } },
  });
}

const attempts = () => network.stats().attempts;
const credentialsSent = () =>
  hostile.hits.filter((h) => String(h.headers.authorization ?? '').startsWith('L402 ')).length;

/** A case refused before paying: no payment attempt, no credential sent. */
async function refusedBeforePaying(www: string | string[]) {
  const before = attempts();
  hostile.handler = (_req, res) => answer402(res, www);
  const error = await typedError(setup()(`${hostile.origin}/quote`), (r) => getPayment(r)?.error);
  expect(attempts()).toBe(before);
  expect(credentialsSent()).toBe(0);
  return error;
}

describe('adversarial L402: amounts, expiry and encodings (refused before paying)', () => {
  it('L1 oversized invoice: 21 BTC', async () => {
    const error = await refusedBeforePaying(challenge({ amountMsat: 2_100_000_000_000n }));
    expect(error.code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('per_request_cap');
  });

  it('L2 an invoice that expires in 5 s (inside the wallet margin)', async () => {
    const error = await refusedBeforePaying(challenge({ expirySeconds: 5 }));
    expect(error.code).toBe('POLICY_DENIED');
  });

  it('L3 a token with a comma inside (it would break the Authorization line)', async () => {
    const error = await refusedBeforePaying(
      challenge({ token: (hash) => `${token(hash).slice(0, 20)},${token(hash).slice(20)}` }),
    );
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('L4 an invoice with one character changed (bech32 checksum)', async () => {
    const error = await refusedBeforePaying(
      challenge({
        mangle: (invoice) => {
          const at = invoice.length - 10;
          const swap = invoice[at] === 'q' ? 'p' : 'q';
          return invoice.slice(0, at) + swap + invoice.slice(at + 1);
        },
      }),
    );
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('L5 an invoice in mixed case', async () => {
    const error = await refusedBeforePaying(
      challenge({ mangle: (invoice) => invoice.slice(0, 12).toUpperCase() + invoice.slice(12) }),
    );
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('L6 a token whose identifier version is unknown (1)', async () => {
    const error = await refusedBeforePaying(
      challenge({ token: (hash) => token(hash, { version: 1 }) }),
    );
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('L7 header bomb: 15 KiB of junk L402 challenges, none payable', async () => {
    const junk = Array.from(
      { length: 60 },
      (_, i) => `L402 macaroon="${'A'.repeat(200)}${i}", invoice="lnbcrt1${'q'.repeat(20)}"`,
    ).join(', ');
    expect(junk.length).toBeGreaterThan(14_000);
    expect(junk.length).toBeLessThan(16_000);
    const error = await refusedBeforePaying(junk);
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('L8 an invoice for another network (signet) to a regtest wallet', async () => {
    const signet = createLightningNetwork({ network: 'signet' });
    const other = signet.createNode();
    const invoice = other.createInvoice({ amountMsat: 100_000n });
    const error = await refusedBeforePaying(
      `L402 macaroon="${token(invoice.paymentHash)}", invoice="${invoice.bolt11}"`,
    );
    expect(error.code).toBe('POLICY_DENIED');
    signet.close();
  });
});

describe('adversarial L402: changed terms after paying', () => {
  it('L9 a price hike on the paid retry (a new invoice at 100×): paid once, never the new one', async () => {
    const before = network.stats();
    hostile.handler = (req, res) =>
      String(req.headers.authorization ?? '').startsWith('L402 ')
        ? answer402(res, challenge({ amountMsat: 10_000_000n }))
        : answer402(res, challenge());
    const payingFetch = setup();
    const response = await payingFetch(`${hostile.origin}/quote`);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect((payment?.error as PaymentFailedError | undefined)?.paid).toBe(true);
    expect(payment?.record.status).toBe('committed');
    const after = network.stats();
    expect(after.attempts - before.attempts).toBe(1);
    expect(after.succeeded - before.succeeded).toBe(1);
    // Asked again, the origin refuses the paid credential a second time: a 402 loop, not paid.
    const again = await typedError(
      payingFetch(`${hostile.origin}/quote`),
      (r) => getPayment(r)?.error,
    );
    expect(again.code).toBe('CHALLENGE_INVALID');
    expect(network.stats().attempts - before.attempts).toBe(1);
  });

  it('L10 the paid retry answered 401 with a new challenge: money moved (committed), no second payment', async () => {
    const before = network.stats();
    hostile.handler = (req, res) =>
      String(req.headers.authorization ?? '').startsWith('L402 ')
        ? answer402(res, challenge(), 401)
        : answer402(res, challenge());
    const response = await setup()(`${hostile.origin}/quote`);
    expect(response.status).toBe(401);
    const payment = getPayment(response);
    expect(payment?.error?.code).toBe('PAYMENT_FAILED');
    expect(payment?.record.status).toBe('committed');
    expect(network.stats().succeeded - before.succeeded).toBe(1);
    expect(network.stats().attempts - before.attempts).toBe(1);
  });
});
