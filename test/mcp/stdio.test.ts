/**
 * The Stipend MCP server as a separate process over stdio (as MCP hosts run `stipend mcp`): a
 * real MCP SDK client spawns it, lists its tools, pays a 402 API of the testkit's x402 server
 * through the allow-list given in STIPEND_MCP_ALLOW_HOSTS, reads budget_status, and sees a
 * private address refused. The policy comes from a JSON file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_ACCOUNTS, devAccount } from '@stipend/testkit/chain';
import { startX402Server, WEATHER_PRICE, type X402ServerHandle } from '@stipend/testkit/x402';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StdioClientTransport } from '../../packages/mcp/src/sdk.test-helpers.js';

const payerIndex = 7;
const payer = devAccount(payerIndex);
let http: X402ServerHandle;
let dir: string;
let client: Client;
let transport: StdioClientTransport;
const stderr: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stipend-mcp-stdio-'));
  const bundle = join(dir, 'server.mjs');
  const [server] = await Promise.all([
    startX402Server(),
    build({
      entryPoints: [fileURLToPath(new URL('./stdio-server.fixture.ts', import.meta.url))],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: ['@stipend/source'],
      // Loaded lazily by @stipend/wallet-evm's CDP signer only; not used here.
      external: ['@coinbase/cdp-sdk'],
      logLevel: 'silent',
      // CommonJS dependencies inside an ES module bundle need a real `require`.
      banner: {
        js: "import { createRequire as __stipendRequire } from 'node:module'; const require = __stipendRequire(import.meta.url);",
      },
    }),
  ]);
  http = server;
  await http.chain.mint(payer.address, 1_000_000n);
  const policyFile = join(dir, 'policy.json');
  await writeFile(
    policyFile,
    JSON.stringify({
      global: {
        maxPerRequest: { usd: '0.01' },
        limits: [{ usd: '0.50', window: { calendar: 'day' } }],
      },
    }),
  );
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [bundle],
    env: {
      TEST_PAYER_KEY: DEV_ACCOUNTS[payerIndex]!.privateKey,
      TEST_TOKEN: JSON.stringify(http.token),
      TEST_POLICY_FILE: policyFile,
      STIPEND_MCP_ALLOW_HOSTS: '127.0.0.1',
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  client = new Client({ name: 'stdio-test-host', version: '1.0.0' });
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await http?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('stipend MCP server over stdio (a separate process)', () => {
  it('lists its two tools', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['budget_status', 'fetch']);
    expect(client.getServerVersion()?.name).toBe('stipend');
  });

  it('pays a 402 API on the allow-list within the file policy, and reports it', async () => {
    const [before] = await Promise.all([http.chain.balanceOf(payer.address)]);
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: `${http.url}/weather` },
    });
    expect(result.isError, stderr.join('')).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      status: 200,
      payment: { status: 'paid', rail: 'x402:exact' },
    });
    expect(await http.chain.balanceOf(payer.address)).toBe(before - WEATHER_PRICE);
    expect(http.settlements.at(-1)?.payer).toBe(payer.address);

    const status = await client.callTool({ name: 'budget_status', arguments: { recent: 5 } });
    expect(status.structuredContent).toMatchObject({
      budgets: [{ scope: 'global', limitUsd: '$0.50', spentUsd: '$0.001', remainingUsd: '$0.499' }],
      totals: { spentUsd: '$0.001', payments: 1 },
    });
  });

  it('refuses a private address that is not on the allow-list', async () => {
    const result = await client.callTool({
      name: 'fetch',
      arguments: { url: 'http://192.168.255.254/admin' },
    });
    expect(result.isError).toBe(true);
    expect((result.content as { text: string }[])[0]?.text).toContain('192.168.255.254 (private)');
  });

  it('closes cleanly and exits when the host closes its stdin', async () => {
    const pid = transport.pid;
    expect(pid).toBeGreaterThan(0);
    const started = Date.now();
    await client.close();
    // The SDK's transport ends stdin and waits 2 s before it sends SIGTERM: exiting sooner, with
    // the clean-close line, means the server noticed stdin end by itself.
    expect(Date.now() - started).toBeLessThan(1500);
    expect(stderr.join('')).toContain('stipend mcp: closed cleanly');
    expect(() => process.kill(pid!, 0)).toThrow();
  });
});
