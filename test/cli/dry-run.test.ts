/**
 * `stipend fetch --dry-run` (the BUILT binary, as a process): it shows the offers and the
 * policy's decision and pays nothing — chain balance, x402 settlements, the Lightning
 * simulator and the Stripe stand-in counters are unchanged, and the ledger stays empty.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
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

const dryRun = (args: readonly string[], env: Record<string, string> = {}) =>
  stipend(['fetch', '--dry-run', ...args], { env: { STIPEND_HOME: home, ...env } });

describe('stipend fetch --dry-run', () => {
  it('compares a two-protocol route, names the offer it would pay, and pays nothing', async () => {
    const before = await market.counters();
    const run = await dryRun([`${market.urls.gateway}/bundle/forecast`, '--wallets', wallets]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(
      `Dry run: GET ${market.urls.gateway}/bundle/forecast answered 402 with 2 offers. Nothing was paid.`,
    );
    expect(run.stdout).toMatch(
      /1\s+x402 exact\s+0\.002 USDC\s+—\s+\$0\.002\s+0x90F79bf6…93b906\s+✓ would pay/,
    );
    expect(run.stdout).toMatch(
      /2\s+l402 bolt11\s+3 sat\s+10\.03 sat\s+\$0\.01303\s+unverified\s+✓ allowed/,
    );
    expect(run.stdout).toMatch(
      /Decision: would pay offer 1 \(x402 exact, \$0\.002\) with wallet evm:0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc; approval not needed\./,
    );
    expect(await market.counters()).toEqual(before);
    expect(market.gateway.requests.at(-1)).toMatchObject({ forwardedTo: 'terms', status: 402 });
    expect(existsSync(join(home, 'ledger.jsonl'))).toBe(false);
  });

  it('prints the same as JSON, and says when approval would be needed', async () => {
    const policy = policyFile(
      home,
      { global: { maxPerRequest: { usd: '1.00' }, approveAbove: '0.25' } },
      'approvals.json',
    );
    const before = await market.counters();
    const run = await dryRun([
      `${market.urls.mpp}/article`,
      '--wallets',
      wallets,
      '--policy',
      policy,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      dryRun: true,
      status: 402,
      paymentAsked: true,
      policy,
      offers: [
        {
          index: 0,
          protocol: 'mpp',
          scheme: 'stripe.charge',
          amount: { value: '50', unit: 'iso4217:USD', display: '$0.50' },
          usdMicros: { value: '500000', unit: 'usd:micro', display: '$0.50' },
          payee: 'profile_demo_daily_article',
          allowed: true,
        },
      ],
      decision: {
        pay: true,
        offerIndex: 0,
        walletId: 'stripe',
        usdMicros: { value: '500000', unit: 'usd:micro', display: '$0.50' },
        approval: 'needed',
      },
      hints: [],
    });
    expect(await market.counters()).toEqual(before);
  });

  it('shows why it would pay nothing: the cap, a missing wallet, a missing BTC price', async () => {
    const before = await market.counters();
    const capped = await dryRun([`${market.urls.l402}/dataset`, '--wallets', wallets]);
    expect(capped.code).toBe(3);
    expect(capped.stdout).toMatch(
      /1\s+l402 bolt11\s+1000 sat\s+20 sat\s+\$1\.02\s+unverified\s+✗ per_request_cap/,
    );
    expect(capped.stdout).toMatch(
      /offer 1: costs \$1\.02 \(incl\. max fee \$0\.02\), above the per-request cap of \$0\.10/,
    );
    expect(capped.stdout).toMatch(
      /Decision: would pay nothing — the policy allows no offer that a wallet can pay\./,
    );

    // No wallets at all, no token list, no BTC price: the gateway's two offers say why.
    const bare = await dryRun([`${market.urls.gateway}/bundle/forecast`, '--json'], {
      STIPEND_HOME: tempHome(),
    });
    expect(bare.code).toBe(3);
    const report = JSON.parse(bare.stdout);
    expect(report.offers).toEqual([
      expect.objectContaining({ protocol: 'l402', allowed: false, code: 'price_unavailable' }),
    ]);
    expect(report.errors).toEqual([expect.stringMatching(/^x402: .*is not a known asset/)]);
    // No wallet for either rail: that is the one thing to fix first (a token list or a BTC
    // price would not make them payable), so it is all the hints say.
    expect(report.hints).toEqual([
      expect.stringMatching(/^this 402 offers l402 \(bolt11\) .*no Lightning wallet is configured/),
      expect.stringMatching(/^this 402 offers x402 \(exact\) but no EVM wallet is configured/),
    ]);

    const noWallet = await dryRun([`${market.urls.x402}/weather`], {
      STIPEND_HOME: tempHome(),
      STIPEND_ASSETS: JSON.stringify(market.wallets.assets),
    });
    expect(noWallet.code).toBe(3);
    expect(noWallet.stdout).toMatch(/✗ no_wallet/);
    expect(noWallet.stdout).toContain(
      'this 402 offers x402 (exact) on eip155:31337 but no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY',
    );
    expect(await market.counters()).toEqual(before);
  });

  it('says so when the server asks for no payment', async () => {
    const run = await dryRun([`${market.urls.x402}/free`, '--wallets', wallets]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `Dry run: GET ${market.urls.x402}/free answered 200 without asking for payment. Nothing to pay.\n`,
    );
  });
});
