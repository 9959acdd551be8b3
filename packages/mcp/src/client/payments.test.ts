import { type PaymentOffer, StipendError, type Wallet } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { createMcpPayments, getToolPayment, type McpClientLike, withPayments } from './payments.js';

const USDC_BASE = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const terms = {
  x402Version: 2,
  error: 'Payment required',
  resource: { url: 'mcp://tool/quote', description: 'Quote', mimeType: 'application/json' },
  accepts: [
    {
      scheme: 'exact',
      network: 'eip155:8453',
      amount: '2000',
      asset: USDC_BASE,
      payTo: PAY_TO,
      maxTimeoutSeconds: 60,
      extra: { name: 'USD Coin', version: '2' },
    },
  ],
};

/** A wallet that "signs" with a fixed payload and records what it paid. */
function fakeWallet(paid: PaymentOffer[]): Wallet {
  return {
    id: 'fake-evm',
    rails: ['x402:exact'],
    canPay: () => true,
    pay: async (offer) => {
      paid.push(offer);
      return {
        offerId: offer.id,
        reference: `ref-${paid.length}`,
        settlement: 'authorization',
        secret: { payload: { signature: '0xsig', authorization: { value: '2000' } } },
      };
    },
  };
}

/** An MCP client whose one paid tool follows the x402 MCP transport. */
function fakeClient(name = 'Quote Server (EU)') {
  const calls: { name: string; _meta?: Record<string, unknown> }[] = [];
  const client = {
    getServerVersion: () => ({ name, version: '1' }),
    listTools: async function (this: unknown) {
      return { tools: [], self: this };
    },
    callTool: async (params: { name: string; _meta?: Record<string, unknown> }) => {
      calls.push(params);
      if (!params._meta?.['x402/payment']) {
        return { isError: true, structuredContent: terms, content: [{ type: 'text', text: '{}' }] };
      }
      return {
        content: [{ type: 'text', text: 'EURUSD 1.08' }],
        _meta: {
          'x402/payment-response': { success: true, transaction: '0xtx', network: 'eip155:8453' },
        },
      };
    },
  };
  return { client: client as unknown as McpClientLike & typeof client, calls };
}

describe('createMcpPayments / withPayments (fake server, real core)', () => {
  it('names the server after its declared name under .mcp, unless told otherwise', async () => {
    const paid: PaymentOffer[] = [];
    const { client } = fakeClient();
    const payments = createMcpPayments({ wallets: [fakeWallet(paid)] });
    const result = await payments.callTool(client, { name: 'quote' });
    expect(getToolPayment(result)?.record.origin).toBe('https://quote-server-eu.mcp');
    const named = await payments.callTool(client, { name: 'quote' }, { server: 'fx.example.com' });
    expect(getToolPayment(named)?.record.resource).toBe('https://fx.example.com/tools/quote');
    await expect(
      payments.callTool(client, { name: 'quote' }, { server: 'not a host' }),
    ).rejects.toMatchObject({ code: 'MCP_SERVER_NAME_INVALID' });
    expect(paid).toHaveLength(2);
  });

  it('returns the terms untouched and pays nothing with payment.pay = false', async () => {
    const paid: PaymentOffer[] = [];
    const { client, calls } = fakeClient();
    const wrapped = withPayments(client, { wallets: [fakeWallet(paid)] });
    const result = await wrapped.callTool({ name: 'quote' }, undefined, {
      payment: { pay: false },
    });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toEqual(terms);
    expect(getToolPayment(result)).toBeUndefined();
    expect(paid).toHaveLength(0);
    expect(calls).toHaveLength(1);
  });

  it('forwards everything else to the client, bound to it', async () => {
    const { client } = fakeClient();
    const wrapped = withPayments(client, { wallets: [] });
    const listed = (await (wrapped as unknown as typeof client).listTools()) as { self: unknown };
    expect(listed.self).toBe(client);
    expect(wrapped.getServerVersion()?.name).toBe('Quote Server (EU)');
    expect(wrapped.payments.fetch).toBeTypeOf('function');
  });

  it('reports a payment waiting for approval (pending mode) as APPROVAL_PENDING', async () => {
    const paid: PaymentOffer[] = [];
    const { client } = fakeClient();
    const wrapped = withPayments(client, {
      wallets: [fakeWallet(paid)],
      policy: { global: { approveAbove: '0.001' } },
      approvals: { mode: 'pending' },
    });
    const error = await wrapped.callTool({ name: 'quote' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StipendError);
    expect((error as StipendError).code).toBe('APPROVAL_PENDING');
    expect((error as StipendError).details.approval).toMatchObject({
      usd: '$0.002',
      payee: PAY_TO,
    });
    expect(paid).toHaveLength(0);
    const [pending] = await wrapped.payments.fetch.approvals.list();
    expect(pending?.state).toBe('pending');
  });
});
