/**
 * `stipend discover` (run in-process on the sources) against a seller that publishes a
 * `/.well-known/x402` manifest in front of the marketplace's real x402 server: it lists the
 * priced endpoints with their USD cost (the marketplace's token from the wallet settings) and
 * pays nothing — the facilitator settles nothing and the agent's balance does not move.
 */
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Discover, discoverCommand } from '../../packages/cli/src/commands/discover.js';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';

// The command loads `discover` from the entry `@stipend/client/discover`; until the client's
// package.json declares that entry, the test passes the same function from its source.
import { discover as discoverFn } from '../../packages/client/src/discover/index.js';
import { tempHome, walletsFile } from './cli.test-helpers.js';

let market: Marketplace;
let front: TestServer;
let home: string;
let wallets: string;

beforeAll(async () => {
  market = await startMarketplace();
  home = tempHome('stipend-discover-');
  wallets = walletsFile(market, home);
  front = await startTestServer(async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/.well-known/x402') {
      return Response.json({
        x402Version: 2,
        kind: 'resource-server',
        resources: [`${url.origin}/weather`, `${url.origin}/free`],
      });
    }
    return fetch(`${market.urls.x402}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
    });
  });
});
afterAll(async () => {
  await front?.close();
  await market?.close();
});

async function discover(args: readonly string[]) {
  const io = memoryIo({ env: { STIPEND_HOME: home } });
  const code = await discoverCommand([...args, '--wallets', wallets], io, {
    discover: discoverFn as unknown as Discover,
  });
  return { code, stdout: io.out(), stderr: io.err() };
}

describe('stipend discover', () => {
  it('lists the priced endpoints a seller publishes and pays nothing', async () => {
    const before = await market.counters();
    const run = await discover([front.origin]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(
      `Discovery: ${front.origin} publishes 1 priced endpoint. Nothing was paid.`,
    );
    expect(run.stdout).toMatch(
      /^GET \/weather\s+x402 exact\s+0\.001 USDC\s+\$0\.001\s+0x\S+\s+its 402$/m,
    );
    expect(run.stdout).toMatch(
      /\/\.well-known\/x402: 2 endpoints|\/\.well-known\/x402: \d endpoint/,
    );
    expect(run.stdout).toMatch(/\/openapi\.json: not published/);
    expect(await market.counters()).toEqual(before);
  });

  it('--json prints the discovery with every amount as { value, unit, display }', async () => {
    const before = await market.counters();
    const run = await discover([front.origin, '--json']);
    expect(run.code).toBe(0);
    const found = JSON.parse(run.stdout);
    expect(found.origin).toBe(front.origin);
    expect(found.endpoints).toHaveLength(1);
    expect(found.endpoints[0]).toMatchObject({
      method: 'GET',
      path: '/weather',
      source: 'x402-402',
      cheapestUsdMicros: { value: '1000', unit: 'usd:micro', display: '$0.001' },
      offers: [{ protocol: 'x402', amount: { value: '1000', display: '0.001 USDC' } }],
    });
    expect(await market.counters()).toEqual(before);
  });

  it('exits 3 when the seller publishes nothing, saying what it read', async () => {
    const run = await discover([market.urls.mpp]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/publishes 0 priced endpoints/);
    expect(run.stdout).toMatch(/openapi\.json: not published/);
  });

  it('takes an origin, not a path, and refuses a URL without a scheme', async () => {
    const io = memoryIo({ env: { STIPEND_HOME: home } });
    expect(await main(['discover', 'api.example.com'], io)).toBe(2);
    expect(io.err()).toMatch(/add the scheme, e\.g\. stipend discover https:\/\/api\.example\.com/);
  });
});
