/**
 * The MPP MCP transport end to end: a real MCP SDK client wrapped by `withPayments` (MPP adapter,
 * Stripe wallet on the real `stripe` SDK pointed at the SPT stand-in) calls paid tools served by
 * the REAL mppx 0.11 server on its MCP SDK transport. mppx also serves as the peer: its own MCP
 * client pays the testkit tools, and its documented `McpServer` integration is paid by Stipend.
 */
import {
  mppAdapter,
  PaymentFailedError,
  PolicyDeniedError,
  type SpendPolicy,
} from '@stipend/client';
import {
  createSptTokenCallback,
  type StripeStandIn,
  startStripeStandIn,
} from '@stipend/testkit/stripe';
import { stripeWallet } from '@stipend/wallet-stripe';
import { stripe as mppxStripe } from 'mppx/client';
import { McpClient } from 'mppx/mcp/client';
import { Mppx, stripe as mppxStripeServer, Transport } from 'mppx/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getToolPayment,
  type McpPaymentsConfig,
  withPayments,
} from '../../packages/mcp/src/index.js';
import {
  type Connected,
  connectClient,
  connectToolHost,
  McpServer,
} from '../../packages/mcp/src/sdk.test-helpers.js';
import { createMppMcpTools, type MppMcpTools } from '../../packages/testkit/src/mcp/index.js';

const seller = 'profile_test_mcp_seller';
let stripeApi: StripeStandIn;
let tools: MppMcpTools;
const open: Connected[] = [];

beforeAll(async () => {
  stripeApi = await startStripeStandIn({ sellerProfile: seller });
  tools = createMppMcpTools({ paymentIntents: stripeApi.paymentIntents, networkId: seller });
});
afterAll(async () => {
  for (const connection of open) await connection.close();
  await stripeApi?.close();
});

const POLICY: SpendPolicy = { global: { maxPerRequest: { usd: '0.75' } } };

const sptIssued = () =>
  stripeApi.requests.filter((request) => request.path === '/v1/shared_payment/issued_tokens')
    .length;
const succeeded = () =>
  stripeApi.paymentIntents.paymentIntents.filter((intent) => intent.status === 'succeeded');

function config(extra: Partial<McpPaymentsConfig> = {}): McpPaymentsConfig {
  return {
    adapters: [mppAdapter()],
    wallets: [
      stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
    ],
    policy: POLICY,
    ...extra,
  };
}

async function paidClient(extra: Partial<McpPaymentsConfig> = {}) {
  const connection = await connectToolHost(tools, { name: 'Articles' });
  open.push(connection);
  return withPayments(connection.client, config(extra));
}

describe('MPP MCP transport, paid by withPayments (real mppx server, Stripe stand-ins)', () => {
  it('pays a paid tool once within the policy: one token, one charge, the receipt', async () => {
    const paid = await paidClient();
    const tokens = sptIssued();
    const charges = succeeded().length;
    const payments = tools.payments.length;

    const result = await paid.callTool({ name: 'get_article', arguments: { id: '42' } });

    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ id: '42', title: 'Testkit article' });
    expect(sptIssued()).toBe(tokens + 1);
    expect(succeeded()).toHaveLength(charges + 1);
    expect(succeeded().at(-1)).toMatchObject({ amount: 50n, currency: 'usd' });
    expect(tools.payments).toHaveLength(payments + 1);

    const payment = getToolPayment(result);
    expect(payment?.status).toBe('paid');
    expect(payment?.receipt?.reference).toBe(tools.payments.at(-1)?.receipt.reference);
    expect(payment?.receipt?.reference).toBe(succeeded().at(-1)?.id);
    expect(payment?.record).toMatchObject({
      protocol: 'mpp',
      scheme: 'stripe.charge',
      status: 'committed',
      committedUsdMicros: 500_000n,
      origin: 'https://articles.mcp',
      payee: seller,
    });
  });

  it('refuses a tool priced above the per-request cap: typed error, no token, no charge', async () => {
    const paid = await paidClient();
    const tokens = sptIssued();
    const charges = stripeApi.paymentIntents.paymentIntents.length;

    const error = await paid.callTool({ name: 'get_digest' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(sptIssued()).toBe(tokens);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(charges);
    expect(await paid.payments.ledger.list()).toHaveLength(0);
  });

  it('turns a declined charge (-32043 with a problem) into a typed error with nothing charged', async () => {
    const paid = await paidClient();
    const failures = tools.failures.length;
    stripeApi.paymentIntents.declineNext();

    const error = await paid.callTool({ name: 'get_article' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PaymentFailedError);
    expect(tools.failures).toHaveLength(failures + 1);
    expect(tools.failures.at(-1)?.problemType).toContain('paymentauth.org/problems/');
    const [record] = await paid.payments.ledger.list();
    // The wallet revoked the unused token, so the refusal provably moved no money.
    expect(record?.status).toBe('released');
    expect((error as PaymentFailedError).paid).toBe(false);
  });

  it("pays mppx's documented McpServer integration (mppx as the peer)", async () => {
    const mppx = Mppx.create({
      methods: [
        mppxStripeServer.charge({
          client: stripeApi.paymentIntents.client,
          networkId: seller,
          currency: 'usd',
          decimals: 2,
          paymentMethodTypes: ['card'],
        }),
      ],
      secretKey: 'an-mcp-secret-key-of-at-least-32-bytes!',
      realm: 'premium.example',
      transport: Transport.mcpSdk(),
    });
    const server = new McpServer({ name: 'Premium', version: '1.0.0' });
    server.registerTool('premium', { description: 'A premium answer ($0.50).' }, async (extra) => {
      const result = await mppx['stripe/charge']({ amount: '0.50' })(extra);
      if (result.status === 402) throw result.challenge;
      return result.withReceipt({ content: [{ type: 'text' as const, text: 'premium answer' }] });
    });
    const client = await connectClient((transport) => server.connect(transport));
    open.push({ client, server: server.server, close: () => client.close() });
    const paid = withPayments(client, config());
    const charges = succeeded().length;

    const result = await paid.callTool({ name: 'premium' });

    expect(result.content).toEqual([{ type: 'text', text: 'premium answer' }]);
    expect(succeeded()).toHaveLength(charges + 1);
    expect(getToolPayment(result)?.record).toMatchObject({
      origin: 'https://premium.mcp',
      status: 'committed',
      committedUsdMicros: 500_000n,
    });
  });

  it("serves mppx's own MCP client (testkit server conformance)", async () => {
    const connection = await connectToolHost(tools);
    open.push(connection);
    const mppxClient = McpClient.wrap(connection.client, {
      methods: [
        mppxStripe.charge({
          paymentMethod: 'pm_card_visa',
          createToken: createSptTokenCallback(stripeApi.createStripeClient()),
        }),
      ],
    });
    const charges = succeeded().length;

    const result = await mppxClient.callTool({ name: 'get_article', arguments: { id: '7' } });

    expect(result.content).toEqual([{ type: 'text', text: 'Article 7: paid content.' }]);
    expect(result.receipt?.status).toBe('success');
    expect(result.receipt?.reference).toBe(succeeded().at(-1)?.id);
    expect(succeeded()).toHaveLength(charges + 1);
  });
});
