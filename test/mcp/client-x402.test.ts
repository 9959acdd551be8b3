/**
 * The x402 MCP transport end to end: a real MCP SDK client wrapped by `withPayments` calls the
 * testkit's paid x402 tools served by a real MCP SDK server. The tools verify and settle through
 * the SAME reference facilitator as the testkit's x402 HTTP server, on anvil: every assertion
 * about money reads on-chain balances.
 */
import {
  ApprovalError,
  PaymentFailedError,
  PolicyDeniedError,
  type SpendPolicy,
  x402Adapter,
} from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { startX402Server, WEATHER_PRICE, type X402ServerHandle } from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { x402Client } from '@x402/core/client';
import type { PaymentRequired } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMcpPayments,
  getToolPayment,
  type McpPaymentsConfig,
  withPayments,
} from '../../packages/mcp/src/index.js';
import {
  type Connected,
  connectToolHost,
  type ElicitAnswer,
} from '../../packages/mcp/src/sdk.test-helpers.js';
import {
  createX402McpTools,
  X402_MCP_PRICES,
  type X402McpTools,
} from '../../packages/testkit/src/mcp/index.js';
import { countingSigner, localAsset } from './setup.test-helpers.js';

const payer = devAccount(5);
let http: X402ServerHandle;
let tools: X402McpTools;
const open: Connected[] = [];

beforeAll(async () => {
  http = await startX402Server();
  await http.chain.mint(payer.address, 1_000_000n);
  tools = await createX402McpTools({ chain: http.chain, facilitator: http.facilitator });
});
afterAll(async () => {
  for (const connection of open) await connection.close();
  await http?.close();
});

const balances = (...owners: Address[]) =>
  Promise.all(owners.map((owner) => http.chain.balanceOf(owner)));

const POLICY: SpendPolicy = {
  global: { maxPerRequest: { usd: '0.01' }, limits: [{ usd: '1', window: { calendar: 'day' } }] },
};

async function setup(
  options: { host?: X402McpTools; config?: Partial<McpPaymentsConfig>; elicit?: ElicitAnswer } = {},
) {
  const connection = await connectToolHost(options.host ?? tools, { name: 'Weather Tools' });
  open.push(connection);
  const { signer, signed } = countingSigner(payer);
  const config: McpPaymentsConfig = {
    adapters: [x402Adapter({ assets: [localAsset(http.token)] })],
    wallets: [evmWallet({ account: signer, publicClient: http.chain.publicClient })],
    policy: POLICY,
    ...options.config,
  };
  const paid = withPayments(connection.client, config);
  return { paid, signed, client: connection.client };
}

describe('x402 MCP transport, paid by withPayments (reference facilitator on anvil)', () => {
  it('pays a paid tool once within the policy and returns its output with the receipt', async () => {
    const { paid, signed } = await setup();
    const [payerBefore, payeeBefore] = await balances(payer.address, tools.payTo);
    const settled = tools.settlements.length;
    const calls = tools.calls.length;

    const result = await paid.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });

    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ city: 'Oslo', forecast: 'sunny', temperatureC: 21 });
    const price = X402_MCP_PRICES.get_weather;
    expect(await balances(payer.address, tools.payTo)).toEqual([
      payerBefore! - price,
      payeeBefore! + price,
    ]);
    expect(tools.settlements).toHaveLength(settled + 1);
    const settlement = tools.settlements.at(-1)!;
    expect(settlement).toMatchObject({ payer: payer.address, payTo: tools.payTo, amount: price });
    // One unpaid call, one paid call; exactly one signature.
    expect(tools.calls.slice(calls).map((call) => call.outcome)).toEqual([
      'payment_required',
      'settled',
    ]);
    expect(signed).toHaveLength(1);

    const payment = getToolPayment(result);
    expect(payment?.status).toBe('paid');
    expect(payment?.receipt?.reference).toBe(settlement.transaction);
    expect(payment?.record).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      status: 'committed',
      committedUsdMicros: 1000n,
      origin: 'https://weather-tools.mcp',
      resource: 'https://weather-tools.mcp/tools/get_weather',
      payee: tools.payTo,
      tags: ['mcp', 'mcp:get_weather'],
    });
    expect(await paid.payments.ledger.list()).toHaveLength(1);
  });

  it('answers a free tool without paying', async () => {
    const { paid, signed } = await setup();
    const result = await paid.callTool({ name: 'ping' });
    expect(result.content).toEqual([{ type: 'text', text: 'pong' }]);
    expect(getToolPayment(result)).toBeUndefined();
    expect(signed).toHaveLength(0);
  });

  it('refuses a tool priced above the per-request cap: typed error, nothing signed or moved', async () => {
    const { paid, signed } = await setup();
    const before = await balances(payer.address, tools.payTo);
    const settled = tools.settlements.length;
    const calls = tools.calls.length;

    const error = await paid.callTool({ name: 'premium_report' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(signed).toHaveLength(0);
    expect(await balances(payer.address, tools.payTo)).toEqual(before);
    expect(tools.settlements).toHaveLength(settled);
    // The server saw the unpaid call only.
    expect(tools.calls.slice(calls).map((call) => call.paid)).toEqual([false]);
    expect(await paid.payments.ledger.list()).toHaveLength(0);
  });

  it('shares one budget and ledger between MCP tool calls and HTTP 402 calls', async () => {
    const connection = await connectToolHost(tools, { name: 'Weather Tools' });
    open.push(connection);
    const { signer, signed } = countingSigner(payer);
    const payments = createMcpPayments({
      adapters: [x402Adapter({ assets: [localAsset(http.token)] })],
      wallets: [evmWallet({ account: signer, publicClient: http.chain.publicClient })],
      // Room for two $0.001 payments a day, not three.
      policy: { global: { limits: [{ usd: '0.0025', window: { calendar: 'day' } }] } },
    });
    const paid = withPayments(connection.client, { payments, server: 'weather.mcp' });

    await paid.callTool({ name: 'get_weather' });
    const response = await payments.fetch(`${http.url}/weather`);
    expect(response.status).toBe(200);
    const error = await paid.callTool({ name: 'get_weather' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('window_cap');
    expect(signed).toHaveLength(2);
    const records = await payments.ledger.list();
    expect(records.map((record) => [record.origin, record.committedUsdMicros])).toEqual([
      ['https://weather.mcp', 1000n],
      [http.url, WEATHER_PRICE],
    ]);
  });

  it('asks the user through elicitation when the policy wants an approval', async () => {
    const asked: string[] = [];
    let answer: 'yes' | 'no' = 'yes';
    const elicit = async (params: { message: string }) => {
      asked.push(params.message);
      return answer === 'yes'
        ? { action: 'accept' as const, content: { approve: true } }
        : { action: 'decline' as const };
    };
    const { paid, signed } = await setup({
      config: {
        policy: { global: { maxPerRequest: { usd: '0.01' }, approveAbove: '0.0005' } },
        elicit: (params) => elicit(params),
      },
    });
    const before = await balances(payer.address);

    const result = await paid.callTool({ name: 'get_weather' });
    expect(getToolPayment(result)?.status).toBe('paid');
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('$0.001');
    expect(asked[0]).toContain(tools.payTo);
    expect(asked[0]).toContain('https://weather-tools.mcp/tools/get_weather');

    answer = 'no';
    const error = await paid.callTool({ name: 'get_weather' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalError);
    expect((error as ApprovalError).reason).toBe('approval_denied');
    expect(asked).toHaveLength(2);
    expect(signed).toHaveLength(1);
    expect(await balances(payer.address)).toEqual([before[0]! - X402_MCP_PRICES.get_weather]);
  });

  it('holds the budget when the tool fails after the payment was verified (nothing settled)', async () => {
    const { paid } = await setup();
    const before = await balances(payer.address);
    const settled = tools.settlements.length;

    const result = await paid.callTool({ name: 'fail_after_payment' });

    expect(result.isError).toBe(true);
    expect(tools.calls.at(-1)?.outcome).toBe('tool_error');
    expect(tools.settlements).toHaveLength(settled);
    expect(await balances(payer.address)).toEqual(before);
    // The signed authorization is still valid: the outcome stays unknown until the chain says.
    const payment = getToolPayment(result);
    expect(payment?.status).toBe('unknown');
    expect(payment?.record.status).toBe('held');
  });

  it('reports a failed settlement as a typed error and keeps the still-valid authorization counted', async () => {
    const failing = await createX402McpTools({
      chain: http.chain,
      facilitator: http.facilitator,
      failSettlement: 'insufficient_funds',
    });
    const { paid, signed } = await setup({ host: failing });
    const before = await balances(payer.address);

    const error = await paid.callTool({ name: 'get_weather' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PaymentFailedError);
    // The facilitator's failure is the seller's word: the signed authorization stays valid, so
    // it stays counted (held) until it expires or the chain says it was never used.
    expect((error as PaymentFailedError).paid).toBe('unknown');
    expect(signed).toHaveLength(1);
    expect(failing.calls.map((call) => call.outcome)).toEqual([
      'payment_required',
      'settle_failed',
    ]);
    expect(await balances(payer.address)).toEqual(before);
    const [record] = await paid.payments.ledger.list();
    expect(record?.status).toBe('held');
  });

  it("accepts the reference x402 client's payment payload (testkit server conformance)", async () => {
    const connection = await connectToolHost(tools);
    open.push(connection);
    const reference = new x402Client()
      .register(http.token.network as `${string}:${string}`, new ExactEvmScheme(payer))
      .setSpendControls({
        allowedAssets: [{ network: http.token.network, asset: http.token.address }],
      });
    const before = await balances(payer.address);

    const unpaid = await connection.client.callTool({ name: 'get_weather' });
    expect(unpaid.isError).toBe(true);
    const text = JSON.parse((unpaid.content as { text: string }[])[0]!.text) as {
      'x402/error': { code: number; data: unknown };
    };
    expect(text['x402/error'].code).toBe(402);
    expect(text['x402/error'].data).toEqual(unpaid.structuredContent);

    const payload = await reference.createPaymentPayload(
      unpaid.structuredContent as unknown as PaymentRequired,
    );
    const paid = await connection.client.callTool({
      name: 'get_weather',
      _meta: { 'x402/payment': payload },
    });

    expect(paid.isError).toBeFalsy();
    const receipt = paid._meta?.['x402/payment-response'] as {
      success: boolean;
      transaction: string;
    };
    expect(receipt.success).toBe(true);
    expect(receipt.transaction).toBe(tools.settlements.at(-1)?.transaction);
    expect(await balances(payer.address)).toEqual([before[0]! - X402_MCP_PRICES.get_weather]);
  });
});
