/**
 * `stipend fetch`, the BUILT binary run as a process against the testkit marketplace (a real
 * anvil chain with the official x402 server, the L402 server over the Lightning simulator —
 * reached through the LND REST stand-in, the mppx server with the Stripe stand-in): paid
 * fetches on the three protocols, JSON output, the per-request cap, the missing-wallet error,
 * budgets remembered across runs through the ledger file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MarketCounters, type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, policyFile, stipend, tempHome, walletsFile } from './cli.test-helpers.js';

let market: Marketplace;
let home: string;
let wallets: string;

beforeAll(async () => {
  assertBuilt();
  market = await startMarketplace();
  home = tempHome();
  wallets = walletsFile(market, home);
});
afterAll(async () => {
  await market?.close();
});

/** Runs `stipend fetch` with its own home (ledger, credentials) and the marketplace wallets. */
function fetchCli(
  args: readonly string[],
  options: { home?: string; input?: string; env?: Record<string, string> } = {},
) {
  return stipend(['fetch', ...args], {
    env: { STIPEND_HOME: options.home ?? home, ...options.env },
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

function ledgerLines(dir: string): Record<string, unknown>[] {
  const path = join(dir, 'ledger.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function diff(before: MarketCounters, after: MarketCounters) {
  return {
    tokens: before.agentTokenBalance - after.agentTokenBalance,
    x402: after.x402Settlements - before.x402Settlements,
    mpp: after.mppPayments - before.mppPayments,
    lightning: after.lightningAttempts - before.lightningAttempts,
    spt: after.sptIssued - before.sptIssued,
    intents: after.paymentIntents - before.paymentIntents,
  };
}
const NOTHING = { tokens: 0n, x402: 0, mpp: 0, lightning: 0, spt: 0, intents: 0 };

describe('stipend fetch pays', () => {
  it('an x402 route on the chain: body on stdout, the payment on stderr, a ledger line', async () => {
    const dir = tempHome();
    const before = await market.counters();
    const run = await fetchCli([`${market.urls.x402}/weather`, '--wallets', wallets], {
      home: dir,
    });
    expect(run.stderr).toMatch(
      /^stipend: paid \$0\.001 \(0\.001 USDC via x402:exact to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC\); ledger record s_/m,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      report: { city: 'Testville', weather: 'sunny', temperatureC: 21 },
    });
    expect(diff(before, await market.counters())).toEqual({ ...NOTHING, tokens: 1000n, x402: 1 });
    const lines = ledgerLines(dir);
    expect(lines.at(-1)).toMatchObject({
      status: 'committed',
      protocol: 'x402',
      scheme: 'exact',
      amount: { value: '1000' },
      committedUsdMicros: '1000',
    });
  });

  it('an L402 route through the LND REST stand-in, then reuses the credential in the next run', async () => {
    const dir = tempHome();
    // 100 sat + up to 11 sat of routing fee at $100,000/BTC: $0.111, above the default $0.10 cap.
    const policy = policyFile(dir, { global: { maxPerRequest: { usd: '0.50' } } });
    const args = [`${market.urls.l402}/quote`, '--wallets', wallets, '--policy', policy];
    const before = await market.counters();
    const first = await fetchCli(args, { home: dir });
    expect(first.stderr).toMatch(/paid \$0\.1011 \(100 sat via l402:bolt11/);
    expect(JSON.parse(first.stdout)).toMatchObject({ symbol: 'BTCUSD' });
    const second = await fetchCli(args, { home: dir });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(
      /reused a credential paid earlier \(l402, payment [0-9a-f]{64}\); nothing new was paid/,
    );
    expect(diff(before, await market.counters())).toEqual({ ...NOTHING, lightning: 1 });
    expect(
      market.lightning.lndRest.requests.filter((r) => r.path === '/v2/router/send'),
    ).toHaveLength(1);
    expect(ledgerLines(dir).filter((r) => r.status === 'committed')).toHaveLength(1);
  });

  it('an MPP Stripe charge with --yes above the approval threshold, and a POST body', async () => {
    const dir = tempHome();
    const policy = policyFile(dir, {
      global: { maxPerRequest: { usd: '1.00' }, approveAbove: '0.10' },
    });
    const before = await market.counters();
    const run = await fetchCli(
      [`${market.urls.mpp}/article`, '--wallets', wallets, '--policy', policy, '--yes'],
      { home: dir },
    );
    expect(run.stderr).toMatch(
      /^approved by --yes: Pay \$0\.50 \(\$0\.50 via mpp stripe\.charge\)/m,
    );
    expect(run.stderr).toMatch(
      /paid \$0\.50 .* via mpp:stripe\.charge to profile_demo_daily_article/,
    );
    expect(JSON.parse(run.stdout)).toEqual({ title: 'Testkit article', body: 'Paid content.' });
    expect(diff(before, await market.counters())).toEqual({
      ...NOTHING,
      mpp: 1,
      spt: 1,
      intents: 1,
    });

    const echo = await fetchCli(
      [
        `${market.urls.x402}/echo`,
        '-d',
        'hello=world',
        '-H',
        'Content-Type: text/plain',
        '--wallets',
        wallets,
      ],
      { home: dir },
    );
    expect(echo.code).toBe(0);
    expect(echo.stdout).toBe('hello=world');
  });
});

describe('stipend fetch --json', () => {
  it('prints status, headers, body, the payment outcome and the ledger record, bigints as strings', async () => {
    const run = await fetchCli([
      `${market.urls.gateway}/bundle/forecast`,
      '--wallets',
      wallets,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      status: 200,
      method: 'GET',
      json: { soldBy: 'x402' },
      payment: {
        status: 'paid',
        record: {
          protocol: 'x402',
          scheme: 'exact',
          status: 'committed',
          // Every amount in one shape: { value, unit, display }.
          amount: { value: '2000', unit: expect.stringMatching(/^eip155:/), display: '0.002 USDC' },
          committedUsdMicros: { value: '2000', unit: 'usd:micro', display: '$0.002' },
          reservedUsdMicros: { value: '2000', unit: 'usd:micro', display: '$0.002' },
          rate: { numerator: expect.any(String), denominator: expect.any(String) },
        },
        receipt: { protocol: 'x402' },
      },
      credentialReused: null,
      policy: 'default',
    });
    expect(out.headers['payment-response']).toEqual(expect.any(String));
    expect(JSON.parse(out.body)).toEqual(out.json);
    expect(run.stderr).toBe('');
  });
});

describe('stipend fetch refuses', () => {
  it('a call above --max, paying nothing', async () => {
    const dir = tempHome();
    const before = await market.counters();
    const run = await fetchCli(
      [`${market.urls.mpp}/article`, '--wallets', wallets, '--max', '0.10'],
      { home: dir },
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^stipend: refused: Stipend paid nothing for GET .*\/article: mpp\/stripe\.charge costs \$0\.50, above the per-request cap of \$0\.10/m,
    );
    expect(diff(before, await market.counters())).toEqual(NOTHING);
    expect(ledgerLines(dir)).toEqual([]);
  });

  it('a 402 whose protocol has no wallet configured, saying which variable to set', async () => {
    const before = await market.counters();
    const run = await fetchCli([`${market.urls.x402}/weather`], {
      home: tempHome(),
      env: { STIPEND_ASSETS: JSON.stringify(market.wallets.assets) },
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      'this 402 offers x402 (exact) on eip155:31337 but no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY',
    );
    const dir = tempHome();
    const policy = policyFile(dir, { global: { maxPerRequest: { usd: '0.50' } } });
    const json = await fetchCli([`${market.urls.l402}/quote`, '--json', '--policy', policy], {
      home: dir,
      env: { STIPEND_BTC_USD: '100000' },
    });
    expect(json.code).toBe(3);
    const out = JSON.parse(json.stdout);
    expect(out.error).toMatchObject({ code: 'POLICY_DENIED' });
    expect(out.hints).toEqual([
      expect.stringMatching(
        /^this 402 offers l402 \(bolt11\) on \S+ but no Lightning wallet is configured: set STIPEND_LND_REST_URL and STIPEND_LND_MACAROON/,
      ),
    ]);
    expect(diff(before, await market.counters())).toEqual(NOTHING);
  });

  it('an approval without a terminal and without --yes, saying how to approve', async () => {
    const dir = tempHome();
    const policy = policyFile(dir, { global: { approveAbove: '0.0005' } });
    const before = await market.counters();
    const run = await fetchCli(
      [`${market.urls.x402}/weather`, '--wallets', wallets, '--policy', policy],
      { home: dir },
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /needs a person's approval .* and stdin is not a terminal to ask on: pass --yes to approve it/,
    );
    expect(diff(before, await market.counters())).toEqual(NOTHING);
  });

  it('a second payment once the ledger of earlier runs has used the daily budget', async () => {
    const dir = tempHome();
    const policy = policyFile(dir, {
      global: { limits: [{ usd: '0.0015', window: { calendar: 'day' } }] },
    });
    const args = [`${market.urls.x402}/weather`, '--wallets', wallets, '--policy', policy];
    const first = await fetchCli(args, { home: dir });
    expect(first.code).toBe(0);
    const before = await market.counters();
    const second = await fetchCli(args, { home: dir });
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/window_cap|\$0\.0005 left|would exceed/);
    expect(diff(before, await market.counters())).toEqual(NOTHING);
    // The ledger command reads what the two runs left.
    const ledger = await stipend(['ledger'], { env: { STIPEND_HOME: dir } });
    expect(ledger.stdout).toMatch(/x402:exact\s+1\s+\$0\.001/);
    expect(ledger.stdout).toMatch(/Total: 1 payment, \$0\.001 spent\./);
  });
});
