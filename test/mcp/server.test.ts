/**
 * The Stipend MCP server (`startMcpServer`, what `stipend mcp` runs) from a real MCP SDK client
 * over the SDK's in-memory transport: its tools, a paid `fetch` of the testkit's x402 HTTP server
 * (reference middleware + facilitator on anvil) through the allow-list, loopback and private
 * targets refused by default (DNS-resolved `localhost` included), caps, budgets, elicitation.
 */
import { type SpendPolicy, x402Adapter } from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import {
  startX402Server,
  WEATHER_PRICE,
  WEATHER_REPORT,
  type X402ServerHandle,
} from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Client,
  connectClient,
  type ElicitAnswer,
} from '../../packages/mcp/src/sdk.test-helpers.js';
import {
  type McpServerHandle,
  type McpServerOptions,
  startMcpServer,
} from '../../packages/mcp/src/server/index.js';
import { countingSigner, localAsset } from './setup.test-helpers.js';

const payer = devAccount(6);
let http: X402ServerHandle;
const running: { client: Client; handle: McpServerHandle }[] = [];

beforeAll(async () => {
  http = await startX402Server();
  await http.chain.mint(payer.address, 1_000_000n);
});
afterAll(async () => {
  for (const { client, handle } of running) {
    await client.close();
    await handle.close();
  }
  await http?.close();
});

const POLICY: SpendPolicy = {
  global: { maxPerRequest: { usd: '0.01' }, limits: [{ usd: '1', window: { calendar: 'day' } }] },
};

const balances = (...owners: Address[]) =>
  Promise.all(owners.map((owner) => http.chain.balanceOf(owner)));

async function start(options: Partial<McpServerOptions> = {}, elicit?: ElicitAnswer) {
  const { signer, signed } = countingSigner(payer);
  let handle: McpServerHandle | undefined;
  const client = await connectClient(
    async (transport) => {
      handle = await startMcpServer({
        wallets: [evmWallet({ account: signer, publicClient: http.chain.publicClient })],
        adapters: [x402Adapter({ assets: [localAsset(http.token)] })],
        policy: POLICY,
        env: {},
        transport,
        ...options,
      });
    },
    elicit ? { elicit } : {},
  );
  running.push({ client, handle: handle! });
  return { client, handle: handle!, signed };
}

type ToolText = { content: { type: string; text: string }[]; isError?: boolean };
const textOf = (result: unknown) => (result as ToolText).content[0]?.text ?? '';

describe('Stipend MCP server (startMcpServer) from a real MCP client', () => {
  it('offers exactly fetch and budget_status: no tool can change the policy', async () => {
    const { client } = await start();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['budget_status', 'fetch']);
    const fetchTool = tools.find((tool) => tool.name === 'fetch')!;
    expect(fetchTool.inputSchema.required).toEqual(['url']);
    expect(Object.keys(fetchTool.inputSchema.properties ?? {}).sort()).toEqual([
      'body',
      'headers',
      'max_usd',
      'method',
      'url',
    ]);
    const unknown = await client
      .callTool({ name: 'set_policy', arguments: {} })
      .catch((e: unknown) => e);
    expect((unknown as { code?: number }).code).toBe(-32602);
  });

  it('pays a 402 API through the allow-list and reports it in budget_status', async () => {
    const { client, signed } = await start({ allowHosts: ['127.0.0.1'] });
    const [payerBefore, payeeBefore] = await balances(payer.address, http.payTo);
    const settled = http.settlements.length;

    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather` },
    });

    expect(result.isError).toBeFalsy();
    const structured = result.structuredContent as {
      status: number;
      body: string;
      payment: { status: string; rail: string; usd: string; reference: string };
    };
    expect(structured.status).toBe(200);
    expect(JSON.parse(structured.body)).toEqual({ report: WEATHER_REPORT });
    expect(structured.payment).toMatchObject({ status: 'paid', rail: 'x402:exact', usd: '$0.001' });
    expect(http.settlements).toHaveLength(settled + 1);
    expect(structured.payment.reference).toBe(http.settlements.at(-1)?.transaction);
    expect(await balances(payer.address, http.payTo)).toEqual([
      payerBefore! - WEATHER_PRICE,
      payeeBefore! + WEATHER_PRICE,
    ]);
    expect(signed).toHaveLength(1);
    expect(textOf(result)).toContain('Payment: paid $0.001 via x402:exact');

    const status = await client.callTool({ name: 'budget_status', arguments: {} });
    const report = status.structuredContent as {
      maxPerRequest: { rule: string; usd: string }[];
      budgets: { scope: string; window: string; spentUsd: string; remainingUsd: string }[];
      recent: { origin: string; usd: string; status: string }[];
    };
    expect(report.maxPerRequest).toEqual([{ rule: 'global', usd: '$0.01' }]);
    expect(report.budgets).toEqual([
      expect.objectContaining({
        scope: 'global',
        window: 'calendar day',
        spentUsd: '$0.001',
        remainingUsd: '$0.999',
      }),
    ]);
    expect(report.recent).toEqual([
      expect.objectContaining({ origin: http.url, usd: '$0.001', status: 'committed' }),
    ]);
  });

  it('refuses loopback, private and link-local targets by default, after DNS resolution', async () => {
    const { client, signed } = await start();
    const requests = http.requests.length;
    const { port } = http;
    for (const url of [
      `${http.url}/weather`,
      `http://localhost:${port}/weather`,
      `http://[::1]:${port}/weather`,
      `http://127.1:${port}/weather`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.255.255.1/',
    ]) {
      const result = await client.callTool({ name: 'fetch', arguments: { url } });
      expect(result.isError, url).toBe(true);
      expect(textOf(result), url).toMatch(/^TARGET_BLOCKED: Refused to connect/);
    }
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `http://localhost:${port}/weather` },
    });
    expect(textOf(result)).toContain('127.0.0.1 (loopback)');
    // Nothing reached the server; nothing was signed.
    expect(http.requests).toHaveLength(requests);
    expect(signed).toHaveLength(0);
  });

  it('reaches a DNS name only through an address the allow-list covers', async () => {
    const { client } = await start({ env: { STIPEND_MCP_ALLOW_HOSTS: '127.0.0.1' } });
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `http://localhost:${http.port}/free` },
    });
    expect(result.isError).toBeFalsy();
    expect((result.structuredContent as { status: number }).status).toBe(200);
  });

  it('refuses a payment above max_usd: typed error, nothing signed', async () => {
    const { client, signed } = await start({ allowHosts: ['127.0.0.1'] });
    const before = await balances(payer.address);
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather`, max_usd: '0.0005' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^POLICY_DENIED: /);
    expect(result.structuredContent).toMatchObject({
      error: { code: 'POLICY_DENIED', details: { reason: 'per_request_cap' } },
    });
    expect(signed).toHaveLength(0);
    expect(await balances(payer.address)).toEqual(before);
  });

  it('rejects bad arguments with a message saying what to fix', async () => {
    const { client } = await start();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ url: 'ftp://example.com/' }, /url must use http or https/],
      [{ url: 'https://example.com/', method: 'GET', body: 'x' }, /A GET request has no body/],
      [{ url: 'https://example.com/', headers: { Host: 'evil' } }, /Header Host cannot be set/],
      [{ url: 'https://example.com/', max_usd: 'ten' }, /^TOOL_INPUT_INVALID: max_usd/],
      [{ url: 'https://user:pw@example.com/' }, /user name or password/],
    ];
    for (const [args, pattern] of cases) {
      const result = await client.callTool({ name: 'fetch', arguments: args });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(pattern);
    }
  });

  it('asks the host user through elicitation when the policy wants an approval', async () => {
    const questions: string[] = [];
    let approve = true;
    const { client, signed } = await start(
      {
        allowHosts: ['127.0.0.1'],
        policy: { global: { maxPerRequest: { usd: '0.01' }, approveAbove: '0.0005' } },
      },
      (request) => {
        questions.push(request.message);
        return approve ? { action: 'accept', content: { approve: true } } : { action: 'decline' };
      },
    );

    const paid = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather` },
    });
    expect((paid.structuredContent as { payment: { status: string } }).payment.status).toBe('paid');
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain(`Approve a payment of $0.001`);
    expect(questions[0]).toContain(`${http.url}/weather`);

    approve = false;
    const refused = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather` },
    });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/^APPROVAL_DENIED: The approver refused/);
    expect(signed).toHaveLength(1);
  });

  it('refuses approval-needing payments when the host cannot elicit', async () => {
    const { client, signed } = await start({
      allowHosts: ['127.0.0.1'],
      policy: { global: { maxPerRequest: { usd: '0.01' }, approveAbove: '0.0005' } },
    });
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather` },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('does not support form elicitation');
    expect(signed).toHaveLength(0);
  });
});
