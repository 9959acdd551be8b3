/**
 * The paying MCP proxy (`startMcpProxy`, what `stipend mcp proxy` runs) in front of the
 * testkit's paid MCP tool servers, driven by the real MCP SDK client: tools pass through; a
 * paid tool call is paid once under the policy (x402 on anvil through the reference
 * facilitator; MPP through the real mppx server and the Stripe stand-in), counted at the rail;
 * the policy's refusals and approvals (MCP elicitation, or a typed refusal without it) pay
 * nothing.
 */
import { createMemoryLedger, mppAdapter, type SpendPolicy, x402Adapter } from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { startX402Server, type X402ServerHandle } from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { stripeWallet } from '@stipend/wallet-stripe';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Client,
  connectClient,
  type ElicitAnswer,
  serveToolHostHttp,
  toolHostTransport,
} from '../../packages/mcp/src/sdk.test-helpers.js';
import {
  type McpProxyHandle,
  type McpProxyOptions,
  startMcpProxy,
} from '../../packages/mcp/src/server/index.js';
import {
  createMppMcpTools,
  createX402McpTools,
  type MppMcpTools,
  X402_MCP_PRICES,
  type X402McpTools,
} from '../../packages/testkit/src/mcp/index.js';
import { countingSigner, localAsset } from './setup.test-helpers.js';

const payer = devAccount(6);
let http: X402ServerHandle;
let x402Tools: X402McpTools;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  http = await startX402Server();
  await http.chain.mint(payer.address, 1_000_000n);
  x402Tools = await createX402McpTools({ chain: http.chain, facilitator: http.facilitator });
});
afterAll(async () => {
  for (const item of open.reverse()) await item.close().catch(() => {});
  await http?.close();
});

const POLICY: SpendPolicy = {
  global: { maxPerRequest: { usd: '0.01' }, limits: [{ usd: '1', window: { calendar: 'day' } }] },
};

const balances = (...owners: Address[]) =>
  Promise.all(owners.map((owner) => http.chain.balanceOf(owner)));

/** A proxy in front of the x402 tools (in memory), and a real SDK client in front of it. */
async function x402Proxy(
  options: { policy?: SpendPolicy; elicit?: ElicitAnswer; extra?: Partial<McpProxyOptions> } = {},
) {
  const upstream = await toolHostTransport(x402Tools, { name: 'Weather Tools' });
  open.push(upstream);
  const { signer, signed } = countingSigner(payer);
  const ledger = createMemoryLedger();
  let proxy!: McpProxyHandle;
  const client = await connectClient(
    async (transport) => {
      proxy = await startMcpProxy({
        upstream: { transport: upstream.transport },
        adapters: [x402Adapter({ assets: [localAsset(http.token)] })],
        wallets: [evmWallet({ account: signer, publicClient: http.chain.publicClient })],
        policy: options.policy ?? POLICY,
        ledger,
        transport,
        ...options.extra,
      });
    },
    options.elicit ? { elicit: options.elicit } : {},
  );
  open.push({ close: () => client.close() }, proxy);
  return { client, proxy, signed, ledger };
}

const textOf = (result: unknown) =>
  (((result as { content?: unknown }).content as { text?: string }[] | undefined) ?? [])
    .map((c) => c.text ?? '')
    .join('\n');

describe('the paying MCP proxy, x402 MCP transport (reference facilitator on anvil)', () => {
  it('passes tools/list through unchanged', async () => {
    const { client } = await x402Proxy();
    const listed = await client.listTools();
    expect(listed.tools.map((tool) => tool.name)).toEqual(x402Tools.tools.map((tool) => tool.name));
    expect(client.getServerVersion()?.name).toBe('Weather Tools');
  });

  it('pays a paid tool call once within the policy, counted on chain, and books it', async () => {
    const { client, signed, ledger, proxy } = await x402Proxy();
    const [payerBefore, payeeBefore] = await balances(payer.address, x402Tools.payTo);
    const settled = x402Tools.settlements.length;
    const calls = x402Tools.calls.length;

    const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });

    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ city: 'Oslo', forecast: 'sunny', temperatureC: 21 });
    const price = X402_MCP_PRICES.get_weather;
    expect(await balances(payer.address, x402Tools.payTo)).toEqual([
      payerBefore! - price,
      payeeBefore! + price,
    ]);
    expect(x402Tools.settlements).toHaveLength(settled + 1);
    expect(x402Tools.calls.slice(calls).map((call) => call.outcome)).toEqual([
      'payment_required',
      'settled',
    ]);
    expect(signed).toHaveLength(1);
    expect(proxy.host).toBe('weather-tools.mcp');
    expect(await ledger.list()).toMatchObject([
      {
        protocol: 'x402',
        status: 'committed',
        committedUsdMicros: 1000n,
        resource: 'https://weather-tools.mcp/tools/get_weather',
        tags: ['mcp', 'mcp:get_weather'],
      },
    ]);
  });

  it('passes a free tool call through without paying', async () => {
    const { client, signed } = await x402Proxy();
    const settled = x402Tools.settlements.length;
    const result = await client.callTool({ name: 'ping' });
    expect(textOf(result)).toBe('pong');
    expect(signed).toHaveLength(0);
    expect(x402Tools.settlements).toHaveLength(settled);
  });

  it('answers a call the policy refuses with a typed tool error, signing and settling nothing', async () => {
    const { client, signed, ledger } = await x402Proxy();
    const settled = x402Tools.settlements.length;
    const before = await balances(payer.address);
    const result = await client.callTool({ name: 'premium_report', arguments: { topic: 'x' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^POLICY_DENIED: /);
    expect((result.structuredContent as { error: { code: string } }).error.code).toBe(
      'POLICY_DENIED',
    );
    expect(signed).toHaveLength(0);
    expect(x402Tools.settlements).toHaveLength(settled);
    expect(await balances(payer.address)).toEqual(before);
    expect(await ledger.list()).toEqual([]);
  });

  it('asks the host user through MCP elicitation, and pays only on an explicit yes', async () => {
    const asked: string[] = [];
    const approving = await x402Proxy({
      policy: { global: { ...POLICY.global, approveAbove: '0.0005' } },
      elicit: (request) => {
        asked.push(request.message);
        return { action: 'accept', content: { approve: true } };
      },
    });
    const settled = x402Tools.settlements.length;
    const paid = await approving.client.callTool({
      name: 'get_weather',
      arguments: { city: 'Rome' },
    });
    expect(paid.isError).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/Approve a payment of \$0\.001/);
    expect(x402Tools.settlements).toHaveLength(settled + 1);

    const declining = await x402Proxy({
      policy: { global: { ...POLICY.global, approveAbove: '0.0005' } },
      elicit: () => ({ action: 'decline' }),
    });
    const refused = await declining.client.callTool({ name: 'get_weather', arguments: {} });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/^APPROVAL_DENIED: /);
    expect(declining.signed).toHaveLength(0);
    expect(x402Tools.settlements).toHaveLength(settled + 1);
  });

  it('refuses, typed, when the policy asks a person and the host cannot elicit: nothing signed', async () => {
    const { client, signed } = await x402Proxy({
      policy: { global: { ...POLICY.global, approveAbove: '0.0005' } },
    });
    const settled = x402Tools.settlements.length;
    const result = await client.callTool({ name: 'get_weather', arguments: {} });
    expect(result.isError).toBe(true);
    const error = (result.structuredContent as { error: { code: string } }).error;
    expect(error.code).toMatch(/^APPROVAL_/);
    expect(textOf(result)).toMatch(/does not support form elicitation/);
    expect(signed).toHaveLength(0);
    expect(x402Tools.settlements).toHaveLength(settled);
  });

  it('a policy rule for the server name given with `server` applies to its calls', async () => {
    const { client, signed } = await x402Proxy({
      policy: { ...POLICY, hosts: { 'weather.example': { action: 'deny' } } },
      extra: { server: 'weather.example' },
    });
    const result = await client.callTool({ name: 'get_weather', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^POLICY_DENIED: /);
    expect(signed).toHaveLength(0);
  });
});

describe('the paying MCP proxy against a server that refuses the paid retry', () => {
  it('pays at most once: a second demand for payment after paying is a typed error, not a second payment', async () => {
    const refusing = await createX402McpTools({
      chain: http.chain,
      facilitator: http.facilitator,
      failSettlement: 'settlement failed on purpose',
    });
    const upstream = await toolHostTransport(refusing, { name: 'Refusing Tools' });
    open.push(upstream);
    const { signer, signed } = countingSigner(payer);
    let proxy!: McpProxyHandle;
    const client = await connectClient(async (transport) => {
      proxy = await startMcpProxy({
        upstream: { transport: upstream.transport },
        adapters: [x402Adapter({ assets: [localAsset(http.token)] })],
        wallets: [evmWallet({ account: signer, publicClient: http.chain.publicClient })],
        policy: POLICY,
        transport,
      });
    });
    open.push({ close: () => client.close() }, proxy);
    const before = await balances(payer.address);
    const result = await client.callTool({ name: 'get_weather', arguments: {} });
    expect(result.isError).toBe(true);
    const error = (result.structuredContent as { error: { code: string } }).error;
    expect(error.code).toMatch(/^(PAYMENT_FAILED|OUTCOME_UNKNOWN)$/);
    expect(signed).toHaveLength(1);
    expect(refusing.calls.map((call) => call.paid)).toEqual([false, true]);
    expect(await balances(payer.address)).toEqual(before);
  });
});

describe('the paying MCP proxy, MPP MCP transport over streamable HTTP (real mppx, Stripe stand-in)', () => {
  const seller = 'profile_test_proxy_seller';
  let stripeApi: StripeStandIn;
  let mppTools: MppMcpTools;
  let site: Awaited<ReturnType<typeof serveToolHostHttp>>;
  beforeAll(async () => {
    stripeApi = await startStripeStandIn({ sellerProfile: seller });
    mppTools = createMppMcpTools({ paymentIntents: stripeApi.paymentIntents, networkId: seller });
    site = await serveToolHostHttp(mppTools, { name: 'Articles' });
  });
  afterAll(async () => {
    await site?.close();
    await stripeApi?.close();
  });
  const succeeded = () =>
    stripeApi.paymentIntents.paymentIntents.filter((intent) => intent.status === 'succeeded');

  async function mppProxy(policy: SpendPolicy): Promise<{ client: Client; proxy: McpProxyHandle }> {
    let proxy!: McpProxyHandle;
    const client = await connectClient(async (transport) => {
      proxy = await startMcpProxy({
        upstream: { url: site.url },
        adapters: [mppAdapter()],
        wallets: [
          stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
        ],
        policy,
        transport,
      });
    });
    open.push({ close: () => client.close() }, proxy);
    return { client, proxy };
  }

  it('pays a paid tool once (one PaymentIntent) and names the server by its URL host', async () => {
    const { client, proxy } = await mppProxy({ global: { maxPerRequest: { usd: '0.75' } } });
    expect(proxy.host).toBe('127.0.0.1');
    const before = succeeded().length;
    const result = await client.callTool({ name: 'get_article', arguments: { id: '7' } });
    expect(result.isError).toBeFalsy();
    expect(succeeded()).toHaveLength(before + 1);
    expect(mppTools.payments.at(-1)).toBeDefined();
    expect(
      site.requests.every(
        (request) =>
          request.startsWith('POST /mcp') ||
          request.startsWith('GET /mcp') ||
          request.startsWith('DELETE /mcp'),
      ),
    ).toBe(true);
  });

  it('refuses a tool above the cap: no token issued, no PaymentIntent', async () => {
    const { client } = await mppProxy({ global: { maxPerRequest: { usd: '0.75' } } });
    const intents = stripeApi.paymentIntents.paymentIntents.length;
    const tokens = stripeApi.ledger.list().length;
    const result = await client.callTool({ name: 'get_digest', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^POLICY_DENIED: /);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(intents);
    expect(stripeApi.ledger.list()).toHaveLength(tokens);
  });

  it('will not send proofs to a plain-HTTP server that is not loopback', async () => {
    await expect(
      startMcpProxy({
        upstream: { url: 'http://tools.example.com/mcp' },
        wallets: [],
        transport: 'stdio',
      }),
    ).rejects.toMatchObject({ code: 'INSECURE_TRANSPORT' });
  });
});
