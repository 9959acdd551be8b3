import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
