import { describe, expect, it } from 'vitest';
import { lndRestBackend } from './lnd-rest.js';

const HASH = 'ab'.repeat(32);

function fakeLnd() {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetcher = (async (input: string, init?: RequestInit) => {
    calls.push({ url: input, init });
    if (input.endsWith('/v1/invoices')) {
      return Response.json({
        payment_request: 'lnbcrt1fake',
        r_hash: Buffer.from(HASH, 'hex').toString('base64'),
      });
    }
    if (input.endsWith(`/v1/invoice/${HASH}`)) {
      return Response.json({
        state: 'SETTLED',
        amt_paid_msat: '12000',
        creation_date: '1700000000',
        expiry: '3600',
      });
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { calls, fetcher };
}

describe('lndRestBackend invoices (Lightning session return invoices)', () => {
  it('creates an amountless invoice with POST /v1/invoices (value_msat 0, expiry) and reads r_hash', async () => {
    const { calls, fetcher } = fakeLnd();
    const backend = lndRestBackend({ url: 'https://lnd.test', macaroon: '0201', fetch: fetcher });
    const created = await backend.createInvoice!({ expirySec: 2_592_000, memo: 'refund' });
    expect(created).toEqual({ invoice: 'lnbcrt1fake', paymentHash: HASH });
    const body = JSON.parse(String(calls[0]!.init!.body));
    expect(body).toEqual({ value_msat: '0', memo: 'refund', expiry: '2592000' });
    expect((calls[0]!.init!.headers as Record<string, string>)['grpc-metadata-macaroon']).toBe(
      '0201',
    );
  });

  it('looks an invoice up by hex hash: settled with the amount received and its expiry', async () => {
    const { fetcher } = fakeLnd();
    const backend = lndRestBackend({ url: 'https://lnd.test', macaroon: '0201', fetch: fetcher });
    expect(await backend.lookupInvoice!(HASH)).toEqual({
      state: 'settled',
      amountPaidMsat: 12_000n,
      expiresAt: (1_700_000_000 + 3600) * 1000,
    });
    await expect(backend.lookupInvoice!('../etc')).rejects.toThrow(/64 hex/);
  });
});
