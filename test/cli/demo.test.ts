/**
 * The README's demo command, exactly as written (`pnpm demo` from the repository root), run as
 * a child process: it must end as scripted, print its summary, write the ledger file, stop
 * everything it started and exit 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertBuilt, childEnv, finished, ROOT } from './cli.test-helpers.js';

const LEDGER = join(ROOT, '.stipend/demo-ledger.jsonl');

describe('pnpm demo', () => {
  it('is the command the README gives', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(/npm i -g pnpm@10 && pnpm install && pnpm demo\n/);
    // …and then the command, from the clone and from the registry.
    expect(readme).toMatch(/\npnpm stipend --help +#/);
    expect(readme).toContain('`npx @stipend/cli fetch https://api.example.com/report --max 0.05`');
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.stipend).toBe('node packages/cli/scripts/workspace-run.mjs');
  });

  it('runs the agent scenario on the local marketplace, prints the summary, writes the ledger, exits 0', async () => {
    assertBuilt();
    rmSync(LEDGER, { force: true });
    const started = Date.now();
    const child = spawn('pnpm', ['demo'], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = await finished(child, 110_000);
    const seconds = (Date.now() - started) / 1000;
    expect(run.stderr).not.toMatch(/demo: step/);
    expect(run.code).toBe(0);
    const out = run.stdout;

    // Progress, step by step.
    for (const n of [1, 2, 3, 4, 5, 6, 7]) expect(out).toContain(`[${n}/7] `);
    expect(out).toContain('Lightning at a FIXED $100,000 per BTC (fixedPriceSource)');
    expect(out).toMatch(
      /\? Pay \$0\.50 \(\$0\.50 via mpp stripe\.charge\) to Daily Article .*\n\s+→ yes \(scripted answer\)/,
    );
    expect(out).toMatch(/→ no \(scripted answer: one article a day is enough\)/);
    expect(out).toMatch(
      /compared in USD \(max fees included\): x402 exact \$0\.002 · l402 bolt11 \$0\.01303 → the cheapest allowed one pays, once/,
    );

    // The summary table: what was paid, to whom, by which rail, at what cost; what was refused.
    const summary = out.slice(out.indexOf('Summary\n'));
    const row = (n: number) => summary.split('\n').find((line) => line.startsWith(`${n}  `)) ?? '';
    expect(row(1)).toMatch(
      /GET \/weather\s+paid\s+Weather Co \(0x3C44…93BC\)\s+x402:exact\s+\$0\.001/,
    );
    expect(row(2)).toMatch(
      /GET \/quote\s+paid\s+Quotes Co(?: \([0-9a-f]{6}…[0-9a-f]{4}\))?\s+l402:bolt11\s+\$0\.1011/,
    );
    expect(row(3)).toMatch(
      /GET \/quote\s+reused\s+Quotes Co(?: \([0-9a-f]{6}…[0-9a-f]{4}\))?\s+l402:bolt11\s+\$0\.00\s+credential from step 2/,
    );
    expect(row(4)).toMatch(
      /GET \/article\s+paid\s+Daily Article .*mpp:stripe\.charge\s+\$0\.50\s+approved by a person/,
    );
    expect(row(5)).toMatch(
      /GET \/bundle\/forecast\s+paid\s+Forecast Co \(0x90F7…b906\)\s+x402:exact\s+\$0\.002\s+cheaper than l402 \$0\.01303/,
    );
    expect(row(6)).toMatch(/GET \/dataset\s+refused\s+—\s+—\s+—\s+above the per-request cap/);
    expect(row(7)).toMatch(/GET \/multi\s+refused\s+—\s+—\s+—\s+the person said no/);
    // The session errand: 50 calls on one Lightning session (2 sat each, 60-sat deposits, one
    // top-up), closed with the refund; the client's count checked against the seller and the rail.
    expect(out).toContain('[session] Text generation — an MPP Lightning session');
    expect(summary).toContain(
      "Session: 50 calls for 2 Lightning payment(s); deposit 120 sat, spent 100 sat, refunded 20 sat ($0.10212 with routing fees); the seller's books and the rail agree.",
    );
    // $0.6041 for the seven steps + $0.10212 for the session (100 sat + routing fees).
    expect(summary).toContain('Spent $0.70622 of the $2.00 daily budget; $1.29378 left today.');
    expect(summary).toMatch(
      /· \/dataset: POLICY_DENIED — l402 bolt11: costs \$1\.02 .*above the per-request cap of \$0\.75/,
    );
    expect(summary).toMatch(/· \/multi: APPROVAL_DENIED — The approver refused/);
    expect(summary).toContain('Approvals asked: 2 (1 yes, 1 no).');
    expect(summary).toContain(
      "the agent's USDC went from 10.000000 to 9.997000 (2 x402 settlement(s) on-chain)",
    );
    expect(summary).toContain('Every step ended as scripted.');
    expect(summary).toMatch(/Stopped everything it started: anvil, /);

    // The ledger file: one line per payment, final states, bigints as strings.
    expect(existsSync(LEDGER)).toBe(true);
    const records = readFileSync(LEDGER, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const isSession = (r: Record<string, unknown>) => String(r.purchaseKey).startsWith('session:');
    const sessionRecords = records.filter(isSession);
    // The session: its opening deposit and one top-up, and one record per call (2 sat each).
    expect(sessionRecords.filter((r) => r.reservedUsdMicros !== '0')).toHaveLength(2);
    const uses = sessionRecords.filter((r) => r.reservedUsdMicros === '0');
    expect(uses).toHaveLength(50);
    expect(uses.every((r) => r.status === 'committed' && r.committedUsdMicros === '2000')).toBe(
      true,
    );
    expect(
      records
        .filter((r) => !isSession(r))
        .map((r) => `${r.protocol}:${r.scheme} ${r.status} ${r.committedUsdMicros}`),
    ).toEqual([
      'x402:exact committed 1000',
      'l402:bolt11 committed 101100',
      'mpp:stripe.charge committed 500000',
      'x402:exact committed 2000',
    ]);
    expect(records.every((r) => (r.tags as string[]).includes('demo-agent'))).toBe(true);

    // Everything it started is gone: the chain no longer answers.
    const rpc = /chain (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(rpc).toBeDefined();
    await expect(
      fetch(rpc!, { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' }),
    ).rejects.toThrow();
    // Well under a minute once built (the build itself is pnpm test's, or the demo's first run).
    expect(seconds).toBeLessThan(100);
  }, 120_000);
});
