import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeInvoice } from './invoice.js';
import { type LndRestStandIn, startLndRestStandIn } from './lnd-rest-stand-in.js';
import { createLightningNetwork, type LightningNode } from './simulator.js';

const network = createLightningNetwork();
const shop: LightningNode = network.createNode({ alias: 'shop' });
const agent = network.createNode({ alias: 'agent' });
let lnd: LndRestStandIn;

beforeAll(async () => {
  lnd = await startLndRestStandIn(network, { node: agent, macaroonHex: 'AB01' });
});
afterAll(async () => {
  await lnd?.close();
});

const post = (body: unknown, macaroon = 'ab01') =>
  fetch(`${lnd.url}/v2/router/send`, {
    method: 'POST',
    headers: { 'grpc-metadata-macaroon': macaroon, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const lines = async (response: Response) =>
  (await response.text())
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('startLndRestStandIn', () => {
  it('pays through the simulator as SendPaymentV2 does, then tracks the payment', async () => {
    const invoice = shop.createInvoice({ amountMsat: 20_000n });
    const response = await post({
      payment_request: invoice.bolt11,
      fee_limit_msat: '5000',
      timeout_seconds: 5,
      no_inflight_updates: true,
    });
    expect(response.status).toBe(200);
    expect(await lines(response)).toEqual([
      {
        result: {
          payment_hash: invoice.paymentHash,
          status: 'SUCCEEDED',
          payment_preimage: invoice.preimage,
          fee_msat: '1020',
          value_msat: '20000',
        },
      },
    ]);
    expect(network.payments.at(-1)).toMatchObject({ payer: 'agent', status: 'succeeded' });
    const id = Buffer.from(invoice.paymentHash, 'hex').toString('base64url');
    const track = await fetch(`${lnd.url}/v2/router/track/${id}`, {
      headers: { 'grpc-metadata-macaroon': 'ab01' },
    });
    expect((await lines(track))[0]).toMatchObject({ result: { status: 'SUCCEEDED' } });
  });

  it('reports a refusal before paying as FAILED, a repeat as an error, an unknown hash as not initiated', async () => {
    const invoice = shop.createInvoice({ amountMsat: 20_000n });
    const capped = await post({ payment_request: invoice.bolt11, fee_limit_msat: '0' });
    expect(await lines(capped)).toEqual([
      {
        result: {
          payment_hash: invoice.paymentHash,
          status: 'FAILED',
          failure_reason: 'FAILURE_REASON_NO_ROUTE',
        },
      },
    ]);
    await post({ payment_request: invoice.bolt11, fee_limit_msat: '5000' });
    const again = await post({ payment_request: invoice.bolt11, fee_limit_msat: '5000' });
    expect(await lines(again)).toEqual([
      { error: { code: 6, message: 'invoice is already paid' } },
    ]);
    const missing = await fetch(`${lnd.url}/v2/router/track/${'A'.repeat(43)}`, {
      headers: { 'grpc-metadata-macaroon': 'ab01' },
    });
    expect(await lines(missing)).toEqual([
      { error: { code: 5, message: "payment isn't initiated" } },
    ]);
  });

  it('refuses a request without the macaroon and pays nothing', async () => {
    const before = network.payments.length;
    const invoice = shop.createInvoice({ amountMsat: 20_000n });
    const response = await post({ payment_request: invoice.bolt11, fee_limit_msat: '5000' }, 'ff');
    expect(response.status).toBe(401);
    expect(network.payments.length).toBe(before);
    expect(lnd.requests.at(-1)).toEqual({
      method: 'POST',
      path: '/v2/router/send',
      authorized: false,
    });
  });
});

describe('startLndRestStandIn: the invoice routes of the payer’s own node', () => {
  const call = (path: string, init: { method?: string; body?: unknown; macaroon?: string } = {}) =>
    fetch(`${lnd.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'grpc-metadata-macaroon': init.macaroon ?? 'ab01' },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  const addInvoice = (body: unknown, macaroon?: string) =>
    call('/v1/invoices', { method: 'POST', body, ...(macaroon ? { macaroon } : {}) });
  const hexOf = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

  it('AddInvoice issues a signed invoice on the payer’s node, r_hash in standard base64 as LND', async () => {
    const response = await addInvoice({ value_msat: '40000', memo: 'refund', expiry: '600' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    const invoice = decodeInvoice(body.payment_request!);
    expect(invoice).toMatchObject({
      amountMsat: 40_000n,
      description: 'refund',
      expirySeconds: 600,
      payeeNodeKey: agent.pubkey,
    });
    // Standard base64 (LND's bytes in JSON), not URL-safe, and the invoice's own hash.
    expect(body.r_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(hexOf(body.r_hash!)).toBe(invoice.paymentHash);
    expect(hexOf(body.payment_addr!)).toBe(invoice.paymentSecret);
    expect(agent.lookupInvoice(invoice.paymentHash)).toBeDefined();
  });

  it('AddInvoice takes value in sat, value_msat 0 as amountless, expiry 0 as LND’s day', async () => {
    const sats = (await (await addInvoice({ value: 21 })).json()) as Record<string, string>;
    expect(decodeInvoice(sats.payment_request!).amountMsat).toBe(21_000n);
    const open = (await (
      await addInvoice({ value_msat: '0', memo: '', expiry: '0' })
    ).json()) as Record<string, string>;
    expect(decodeInvoice(open.payment_request!)).toMatchObject({
      amountMsat: null,
      expirySeconds: 86_400,
    });
  });

  it('LookupInvoice follows the invoice on the rail: OPEN, then SETTLED with what was paid', async () => {
    const created = (await (
      await addInvoice({ value_msat: '34000', expiry: '3600' })
    ).json()) as Record<string, string>;
    const hash = hexOf(created.r_hash!);
    const before = await call(`/v1/invoice/${hash}`);
    expect(before.status).toBe(200);
    const open = (await before.json()) as Record<string, unknown>;
    const issued = decodeInvoice(created.payment_request!);
    expect(open).toMatchObject({
      state: 'OPEN',
      settled: false,
      amt_paid_msat: '0',
      value_msat: '34000',
      creation_date: String(issued.timestamp),
      expiry: '3600',
    });
    await network.pay(created.payment_request!, { maxFeeMsat: 5_000n, payer: 'shop' });
    const after = (await (await call(`/v1/invoice/${hash.toUpperCase()}`)).json()) as Record<
      string,
      unknown
    >;
    expect(after).toMatchObject({ state: 'SETTLED', settled: true, amt_paid_msat: '34000' });
    // The payee's secret is not handed out by the stand-in.
    const paid = network.lookup(hash);
    const preimage = paid.status === 'succeeded' ? paid.preimage : 'missing';
    expect(after).not.toHaveProperty('r_preimage');
    expect(JSON.stringify(after)).not.toContain(Buffer.from(preimage, 'hex').toString('base64'));
    expect(JSON.stringify(after)).not.toContain(preimage);
  });

  it('LookupInvoice: an unpaid invoice past its expiry is CANCELED, as LND’s registry cancels it', async () => {
    let now = Date.now();
    const net = createLightningNetwork({ now: () => now });
    const own = net.createNode({ alias: 'own' });
    const standIn = await startLndRestStandIn(net, { node: own, macaroonHex: 'cd' });
    try {
      const created = (await (
        await fetch(`${standIn.url}/v1/invoices`, {
          method: 'POST',
          headers: { 'grpc-metadata-macaroon': 'cd' },
          body: JSON.stringify({ value_msat: '1000', expiry: '60' }),
        })
      ).json()) as Record<string, string>;
      const look = async () =>
        (await (
          await fetch(`${standIn.url}/v1/invoice/${hexOf(created.r_hash!)}`, {
            headers: { 'grpc-metadata-macaroon': 'cd' },
          })
        ).json()) as Record<string, unknown>;
      expect((await look()).state).toBe('OPEN');
      now += 61_000;
      expect(await look()).toMatchObject({ state: 'CANCELED', amt_paid_msat: '0' });
    } finally {
      await standIn.close();
    }
  });

  it('LookupInvoice answers only for the payer’s own invoices: another node’s is not found, a bad hash is refused', async () => {
    const theirs = shop.createInvoice({ amountMsat: 1_000n });
    const other = await call(`/v1/invoice/${theirs.paymentHash}`);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ code: 5, message: 'unable to locate invoice' });
    for (const bad of ['zz'.repeat(32), 'ab'.repeat(31), '%E0%A4%A']) {
      const response = await call(`/v1/invoice/${bad}`);
      expect(response.status, bad).toBe(400);
    }
  });

  it('AddInvoice refuses what LND refuses, and issues nothing', async () => {
    const count = agent.invoiceCount;
    const refusals: [unknown, number, RegExp][] = [
      [{ value: '1', value_msat: '1000' }, 500, /mutually exclusive/],
      [{ value_msat: '-1' }, 500, /negative/],
      [{ value_msat: '9223372036854775808' }, 400, /int64/],
      [{ value_msat: 1.5 }, 400, /int64/],
      [{ expiry: String(366 * 24 * 3600) }, 500, /max invoice expiry/],
      [{ memo: 'x'.repeat(640) }, 500, /memo too large/],
      [{ memo: 7 }, 400, /memo must be a string/],
      [[], 400, /JSON object/],
    ];
    for (const [body, status, message] of refusals) {
      const response = await addInvoice(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }
    const unauthorized = await addInvoice({ value_msat: '1000' }, 'ff');
    expect(unauthorized.status).toBe(401);
    expect(agent.invoiceCount).toBe(count);
  });

  it('without a node of its own the invoice routes say how to start it', async () => {
    const bare = await startLndRestStandIn(network, { macaroonHex: 'ee' });
    try {
      const response = await fetch(`${bare.url}/v1/invoices`, {
        method: 'POST',
        headers: { 'grpc-metadata-macaroon': 'ee' },
        body: JSON.stringify({ value_msat: '1000' }),
      });
      expect(response.status).toBe(501);
      expect(((await response.json()) as { message: string }).message).toMatch(/\{ node \}/);
    } finally {
      await bare.close();
    }
  });
});
