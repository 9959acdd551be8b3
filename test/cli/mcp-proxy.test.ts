/**
 * `stipend mcp proxy -- <command …>` as MCP hosts run it: a real MCP SDK client starts the
 * command (bundled from the sources, run with plain Node) over stdio; the proxy starts a paid
 * MCP server (the REAL mppx server in another process, charging through this process's Stripe
 * stand-in) and pays its paid tool with the wallet of the STIPEND_* settings, within the policy,
 * into the ledger file. Counted at the rail: one PaymentIntent per paid call, none for a call the
 * policy refuses. The fronted server never sees a STIPEND_* variable.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StdioClientTransport } from '../../packages/mcp/src/sdk.test-helpers.js';

const seller = 'profile_test_cli_proxy';
let stripeApi: StripeStandIn;
let dir: string;
let client: Client;
const stderr: string[] = [];

const bundle = (entry: string, outfile: string) =>
  build({
    entryPoints: [entry],
    outfile,
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
  });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stipend-mcp-proxy-'));
  const cli = join(dir, 'stipend.mjs');
  const upstream = join(dir, 'upstream.mjs');
  const [api] = await Promise.all([
    startStripeStandIn({ sellerProfile: seller }),
    bundle(fileURLToPath(new URL('../../packages/cli/src/bin.ts', import.meta.url)), cli),
    bundle(fileURLToPath(new URL('./proxy-upstream.fixture.ts', import.meta.url)), upstream),
  ]);
  stripeApi = api;
  const policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ global: { maxPerRequest: { usd: '0.75' } } }));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'mcp', 'proxy', '--policy', policy, '--', process.execPath, upstream],
    env: {
      STIPEND_HOME: dir,
      STIPEND_STRIPE_SECRET_KEY: stripeApi.secretKey,
      STIPEND_STRIPE_PAYMENT_METHOD: 'pm_card_visa',
      STIPEND_STRIPE_API_URL: `http://127.0.0.1:${stripeApi.port}`,
      TEST_STRIPE_SECRET: stripeApi.secretKey,
      TEST_STRIPE_PORT: String(stripeApi.port),
      TEST_SELLER: seller,
    },
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  client = new Client({ name: 'cli-proxy-test-host', version: '1.0.0' });
  await client.connect(transport);
}, 90_000);

afterAll(async () => {
  await client?.close();
  await stripeApi?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const succeeded = () =>
  stripeApi.paymentIntents.paymentIntents.filter((intent) => intent.status === 'succeeded');
const textOf = (result: unknown) =>
  (((result as { content?: unknown }).content as { text?: string }[] | undefined) ?? [])
    .map((c) => c.text ?? '')
    .join('\n');

describe('stipend mcp proxy -- <command …>', () => {
  it('shows the fronted server and its tools to the host', async () => {
    expect(client.getServerVersion()?.name).toBe('Paid Articles');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      'get_article',
      'get_digest',
      'ping',
      'env_names',
    ]);
    expect(stderr.join('')).toMatch(
      /^stipend mcp proxy: fronting .*upstream\.mjs as paid-articles\.mcp — policy .*policy\.json; wallets: Stripe pm_card_visa/m,
    );
  });

  it('pays a paid tool call once with the configured wallet, into the ledger file', async () => {
    const before = succeeded().length;
    const result = await client.callTool({ name: 'get_article', arguments: { id: '42' } });
    expect(result.isError).toBeFalsy();
    expect(succeeded()).toHaveLength(before + 1);
    const ledger = (await readFile(join(dir, 'ledger.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(ledger.at(-1)).toMatchObject({
      protocol: 'mpp',
      scheme: 'stripe.charge',
      status: 'committed',
      payee: seller,
      tags: ['mcp', 'mcp:get_article'],
    });
  });

  it('refuses a call above the policy with a tool error, creating no PaymentIntent', async () => {
    const intents = stripeApi.paymentIntents.paymentIntents.length;
    const result = await client.callTool({ name: 'get_digest', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^POLICY_DENIED: .*\$1\.00.*\$0\.75/);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(intents);
  });

  it('starts the fronted server without any STIPEND_* variable (no wallet key reaches it)', async () => {
    const result = await client.callTool({ name: 'env_names', arguments: {} });
    expect(JSON.parse(textOf(result))).toEqual([]);
  });
});
