/**
 * Every message issue 13 lists says the one thing to change, in the words of the interface the
 * person is in (a CLI flag, an env var): `stipend` run in-process from its sources against
 * small local servers (a hand-written x402 402, the testkit's L402 server, a server that never
 * answers), so no build is needed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type L402Server, startL402Server } from '@stipend/testkit/l402';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../packages/cli/src/io.js';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';

const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
const UNKNOWN_TOKEN = '0x0000000000000000000000000000000000000bad';
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
/** Anvil's first public test key: never holds anything real. */
const TEST_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

let x402: Server;
let x402Url: string;
let l402: L402Server;
let silent: TcpServer;
let silentUrl: string;

/** A 402 with x402 v2 terms for `asset` (1000 atomic units on Base). */
function x402Terms(asset: string, url: string): string {
  return Buffer.from(
    JSON.stringify({
      x402Version: 2,
      resource: { url, mimeType: 'application/json' },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:8453',
          amount: '1000',
          asset,
          payTo: PAY_TO,
          maxTimeoutSeconds: 60,
          extra: { name: 'USD Coin', version: '2' },
        },
      ],
    }),
  ).toString('base64');
}

beforeAll(async () => {
  x402 = createServer((req, res) => {
    const url = `${x402Url}${req.url}`;
    const asset = req.url?.startsWith('/unknown') ? UNKNOWN_TOKEN : BASE_USDC;
    res.writeHead(402, { 'payment-required': x402Terms(asset, url) }).end('{}');
  });
  await new Promise<void>((resolve) => x402.listen(0, '127.0.0.1', resolve));
  x402Url = `http://127.0.0.1:${(x402.address() as { port: number }).port}`;
  l402 = await startL402Server();
  // Accepts connections, reads the request, never answers.
  silent = createTcpServer((socket) => socket.on('data', () => {}));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
});
afterAll(async () => {
  x402?.closeAllConnections();
  await new Promise((resolve) => x402?.close(resolve));
  await l402?.close();
  await new Promise((resolve) => silent?.close(resolve));
});

function home(): string {
  return mkdtempSync(join(tmpdir(), 'stipend-messages-'));
}

async function run(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo({ env: { STIPEND_HOME: home(), ...env } });
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('with no wallet, "no wallet" is said first (and alone)', () => {
  it('x402 with an unknown token: set STIPEND_EVM_PRIVATE_KEY, not "add the asset"', async () => {
    const result = await run(['fetch', `${x402Url}/unknown`]);
    expect(result.code).toBe(EXIT.refused);
    expect(result.err).toMatch(
      /^ {2}this 402 offers x402 \(exact\) .*no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY/m,
    );
    expect(result.err).not.toMatch(/add it to "assets"/);
  });

  it('L402 without a BTC price: set a Lightning wallet, not STIPEND_BTC_USD', async () => {
    const result = await run(['fetch', `${l402.url}/quote`]);
    expect(result.code).toBe(EXIT.refused);
    expect(result.err).toMatch(/no Lightning wallet is configured: set STIPEND_LND_REST_URL/);
    expect(result.err).not.toMatch(/STIPEND_BTC_USD/);
  });

  it('with the wallet, the unknown token is what is left, and its hint names peg', async () => {
    const result = await run(['fetch', `${x402Url}/unknown`], {
      STIPEND_EVM_PRIVATE_KEY: TEST_KEY,
    });
    expect(result.code).toBe(EXIT.refused);
    expect(result.err).toMatch(/add it to "assets" in .* "peg": "USD"/);
    expect(result.err).not.toMatch(/no EVM wallet/);
  });
});

describe('messages in the words of the command line', () => {
  it('a --max refusal says to raise --max, not the library override field', async () => {
    const result = await run(['fetch', `${x402Url}/known`, '--max', '0.0005'], {
      STIPEND_EVM_PRIVATE_KEY: TEST_KEY,
    });
    expect(result.code).toBe(EXIT.refused);
    expect(result.err).toMatch(/raise --max to at least \$0\.001/);
    expect(result.err).not.toMatch(/per-call override|this call's override/);
  });

  it('a regtest invoice with a mainnet Lightning wallet names STIPEND_LIGHTNING_NETWORK', async () => {
    const policy = join(home(), 'policy.json');
    writeFileSync(
      policy,
      JSON.stringify({
        global: {
          maxPerRequest: { usd: '1' },
          limits: [{ usd: '5', window: { calendar: 'day' } }],
        },
      }),
    );
    const result = await run(['fetch', `${l402.url}/quote`, '--policy', policy], {
      STIPEND_LND_REST_URL: 'https://127.0.0.1:9',
      STIPEND_LND_MACAROON: '0201036c6e6402',
      STIPEND_LIGHTNING_NETWORK: 'mainnet',
      STIPEND_BTC_USD: '97000',
    });
    expect(result.code).toBe(EXIT.refused);
    expect(result.err).toMatch(/set STIPEND_LIGHTNING_NETWORK=regtest/);
  });

  it('stipend ledger --ledger with no such file fails and names the flag', async () => {
    const result = await run(['ledger', '--ledger', '/no/such/file.jsonl']);
    expect(result.code).toBe(EXIT.error);
    expect(result.err).toMatch(
      /^stipend ledger: there is no ledger file at \/no\/such\/file\.jsonl \(--ledger\): check the path/,
    );
    expect(result.out).not.toMatch(/nothing has been paid/);
  });

  it('a server that never answers ends the command after --timeout, naming --timeout', async () => {
    const started = Date.now();
    const result = await run(['fetch', `${silentUrl}/hang`, '--timeout', '1']);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(result.code).not.toBe(EXIT.ok);
    expect(result.err).toMatch(
      /^stipend: failed: .* did not answer within 1000 ms; allow longer with --timeout <seconds>/,
    );
    expect(result.err).not.toMatch(/timeoutMs/);
  });
});

describe('stipend policy check', () => {
  function file(text: string): string {
    const path = join(home(), 'policy.json');
    writeFileSync(path, text);
    return path;
  }

  it('reports every mistake at once, each with its line and column', async () => {
    const path = file(
      [
        '{',
        '  "global": {',
        '    "maxPerRequest": { "usd": "0.1.0" },',
        '    "limits": [{ "usd": "5", "window": { "calendar": "fortnight" } }]',
        '  },',
        '  "hosts": { "api.example.com": { "action": "maybe" } }',
        '}',
      ].join('\n'),
    );
    const result = await run(['policy', 'check', path]);
    expect(result.code).toBe(EXIT.error);
    const lines = result.err.trim().split('\n');
    expect(lines[0]).toBe(`✗ ${path} has 3 mistakes:`);
    expect(lines[1]).toMatch(
      new RegExp(`^ {2}${path}:3:24 policy\\.global\\.maxPerRequest\\.usd: `),
    );
    expect(lines[2]).toMatch(
      new RegExp(`^ {2}${path}:4:30 policy\\.global\\.limits\\[0\\]\\.window: `),
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^ {2}${path}:6:35 policy\\.hosts\\["api\\.example\\.com"\\]\\.action: must be "allow"`,
      ),
    );
  });

  it('reports a JSON syntax error by line and column, not by character offset', async () => {
    const path = file('{\n  "global": {\n    "limits": [,]\n  }\n}');
    const result = await run(['policy', 'check', path]);
    expect(result.code).toBe(EXIT.error);
    expect(result.err).toContain(
      `${path}:3:16 not valid JSON: unexpected "," (expected a value: a string, a number,`,
    );
    expect(result.err).not.toMatch(/position/);
  });

  it('warns about a dropped daily limit, an unknown prefer name and an unreachable cap', async () => {
    const path = file(
      JSON.stringify({
        global: { maxPerRequest: { usd: '0.05' } },
        tags: {
          bulk: {
            maxPerRequest: { usd: '5' },
            limits: [{ usd: '1', window: { calendar: 'day' } }],
          },
        },
        prefer: ['x402:exakt'],
      }),
    );
    const result = await run(['policy', 'check', path]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.err).toMatch(
      /⚠ policy\.global has no "limits": .*add "limits": \[\{"usd": "1\.00", "window": \{"calendar": "day"\}\}\]/,
    );
    expect(result.err).toMatch(
      /⚠ policy\.prefer\[0\] "x402:exakt" matches no offer: x402 offers are "x402:exact", "x402:upto"/,
    );
    expect(result.err).toMatch(
      /⚠ policy\.tags\["bulk"\]\.maxPerRequest\.usd \(\$5\.00\) is above the \$1\.00 per UTC day limit of tags\["bulk"\]/,
    );
  });

  it('a valid policy that keeps the defaults warns about nothing', async () => {
    const path = file(
      JSON.stringify({
        hosts: { 'api.example.com': { approveAbove: '0.02' } },
        prefer: ['l402', 'x402:exact'],
      }),
    );
    const result = await run(['policy', 'check', path]);
    expect(result.code).toBe(EXIT.ok);
    expect(result.err).toBe('');
  });
});
