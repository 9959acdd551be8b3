/**
 * `stipend quote` (run in-process on the sources): it sends the request once, unpaid, and
 * prints the offers, the policy's verdict on each and the decision — and pays nothing: the
 * chain, the x402 facilitator, the Lightning simulator and the Stripe stand-in count nothing
 * new, and the ledger stays empty.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { startTestServer } from '@stipend/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../packages/cli/src/main.js';
import { isTerminalControl } from '../../packages/cli/src/output/words.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';
import { policyFile, tempHome, walletsFile } from './cli.test-helpers.js';

let market: Marketplace;
let home: string;
let wallets: string;

beforeAll(async () => {
  market = await startMarketplace();
  home = tempHome('stipend-quote-');
  wallets = walletsFile(market, home);
});
afterAll(async () => {
  await market?.close();
});

async function quote(args: readonly string[]) {
  const io = memoryIo({ env: { STIPEND_HOME: home } });
  const code = await main(['quote', ...args, '--wallets', wallets], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe('stipend quote', () => {
  it('shows both offers of a two-protocol route, the one it would pay, and pays nothing', async () => {
    const before = await market.counters();
    const run = await quote([`${market.urls.gateway}/bundle/forecast`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(
      `Quote: GET ${market.urls.gateway}/bundle/forecast answered 402 with 2 offers. Nothing was paid.`,
    );
    expect(run.stdout).toMatch(
      /^1\s+x402 exact\s+0\.002 USDC\s+\$0\.002\s+0x90F7…b906\s+.*—\s+✓ would pay\s+evm:0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc$/m,
    );
    expect(run.stdout).toMatch(
      /^2\s+l402 bolt11\s+3 sat \+ ≤ 10\.03 sat fee\s+\$0\.01303\s+\S+ ✓\s+in 24 h\s+✓ allowed\s+lightning-lnd-rest$/m,
    );
    expect(run.stdout).toMatch(
      /^Decision: would pay offer 1 \(x402 exact, \$0\.002\) with wallet evm:0x/m,
    );
    expect(run.stdout).toMatch(/^ {2}global \(UTC day\): \$1\.00 of \$1\.00$/m);
    expect(run.stdout).not.toMatch(/does not report balances/);
    expect(await market.counters()).toEqual(before);
    expect(existsSync(join(home, 'ledger.jsonl'))).toBe(false);
  });

  it('--json prints the Quote with every amount as { value, unit, display }', async () => {
    const before = await market.counters();
    const run = await quote([`${market.urls.x402}/weather`, '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.quote).toMatchObject({
      kind: 'priced',
      status: 402,
      decision: {
        outcome: 'pay',
        usdMicros: { value: '1000', unit: 'usd:micro', display: '$0.001' },
      },
    });
    expect(out.quote.offers[0]).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      verdict: 'chosen',
      amount: { value: '1000', display: '0.001 USDC' },
      usdMicros: { value: '1000', unit: 'usd:micro', display: '$0.001' },
    });
    expect(out.quote.offers[0].amount.unit).toMatch(/^eip155:31337\/0x/);
    expect(out.policy).toBe('default');
    expect(await market.counters()).toEqual(before);
  });

  it('says why the policy would pay nothing, exits 3, and pays nothing', async () => {
    const policy = policyFile(home, { global: { maxPerRequest: { usd: '0.10' } } }, 'cheap.json');
    const before = await market.counters();
    const run = await quote([`${market.urls.mpp}/article`, '--policy', policy]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/✗ /);
    expect(run.stdout).toMatch(/^Decision: would pay nothing \(/m);
    expect(await market.counters()).toEqual(before);
  });

  it('--max tightens the quote like it tightens fetch, and is named in the reason', async () => {
    const run = await quote([`${market.urls.x402}/weather`, '--max', '0.0005']);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/--max/);
  });

  it('a free resource is quoted as free', async () => {
    const run = await quote([`${market.urls.x402}/free`]);
    expect(run.stdout).toMatch(
      /answered 200 without asking for payment: free\. Nothing was paid\./,
    );
    expect(run.code).toBe(0);
  });

  it('refuses a URL without a scheme with the fix', async () => {
    const run = await quote(['127.0.0.1:1/x']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/add the scheme, e\.g\. stipend quote http:\/\/127\.0\.0\.1:1\/x/);
  });
});

describe('stipend quote against a hostile seller', () => {
  it('never passes a server-chosen control character (ANSI escape, bidi override) to the terminal', async () => {
    const evil = 'profile_\u001b]0;pwned\u0007\u001b[2J\u202eevil';
    const request = Buffer.from(
      JSON.stringify({ amount: '50', currency: 'usd', methodDetails: { networkId: evil } }),
    ).toString('base64url');
    const site = await startTestServer(
      async () =>
        new Response('pay', {
          status: 402,
          headers: {
            'www-authenticate': `Payment id="ch_1", realm="evil.test", method="stripe", intent="charge", expires="${new Date(Date.now() + 300_000).toISOString()}", request="${request}"`,
          },
        }),
    );
    try {
      const loose = policyFile(home, { global: { maxPerRequest: { usd: '1.00' } } }, 'loose.json');
      const run = await quote([`${site.origin}/x`, '--policy', loose]);
      expect(run.stdout).toMatch(/stripe\.charge/);
      expect(run.stdout).toMatch(/profil…evil/);
      // The decision names the whole payee: made printable, not passed through.
      expect(run.stdout).toMatch(
        /to profile_\ufffd\]0;pwned\ufffd\ufffd\[2J\ufffdevil with wallet stripe/,
      );
      const steering = [...(run.stdout + run.stderr)].filter((char) => {
        const code = char.codePointAt(0)!;
        return code !== 0x0a && isTerminalControl(code);
      });
      expect(steering).toEqual([]);
    } finally {
      await site.close();
    }
  });
});
