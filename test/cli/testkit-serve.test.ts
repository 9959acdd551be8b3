/**
 * `stipend testkit serve` (the BUILT binary): starts the marketplace in its own process,
 * prints its URLs and the agent's wallet settings, serves another process's `stipend fetch`
 * (x402 on its chain, L402 through its LND REST stand-in), and stops everything on SIGINT.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  assertBuilt,
  BIN,
  childEnv,
  finished,
  policyFile,
  ROOT,
  stipend,
  tempHome,
} from './cli.test-helpers.js';

describe('stipend testkit serve', () => {
  it('serves the marketplace to other processes until SIGINT, then stops it all', async () => {
    assertBuilt();
    const dir = tempHome();
    const walletsPath = join(dir, 'wallets.json');
    const child = spawn(
      process.execPath,
      [BIN, 'testkit', 'serve', '--json', '--wallets-out', walletsPath],
      {
        cwd: ROOT,
        env: childEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // A failed assertion must not leave the marketplace (and its anvil) running.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    });
    const done = finished(child, 60_000);
    const firstLine = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const newline = buffered.indexOf('\n');
        if (newline >= 0) resolve(buffered.slice(0, newline));
      });
      child.once('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
    });
    const ready = JSON.parse(firstLine) as {
      urls: Record<string, string>;
      items: { key: string; url: string }[];
      env: Record<string, string>;
      wallets: unknown;
    };
    expect(Object.keys(ready.urls).sort()).toEqual([
      'gateway',
      'l402',
      'lndRest',
      'mpp',
      'rpc',
      'stripeApi',
      'x402',
    ]);
    expect(JSON.parse(readFileSync(walletsPath, 'utf8'))).toEqual(ready.wallets);
    expect(ready.env.STIPEND_LND_REST_URL).toBe(ready.urls.lndRest);

    // Another process pays it, configured through the environment variables it printed.
    const forecast = ready.items.find((item) => item.key === 'forecast')!.url;
    const paid = await stipend(['fetch', forecast, '--json'], {
      env: { STIPEND_HOME: dir, ...ready.env },
    });
    expect(paid.code).toBe(0);
    expect(JSON.parse(paid.stdout)).toMatchObject({
      status: 200,
      json: { soldBy: 'x402' },
      payment: {
        status: 'paid',
        record: {
          protocol: 'x402',
          committedUsdMicros: { value: '2000', unit: 'usd:micro', display: '$0.002' },
        },
      },
    });
    const report = ready.items.find((item) => item.key === 'report')!.url;
    const policy = policyFile(dir, { global: { maxPerRequest: { usd: '0.50' } } }, 'report.json');
    const l402 = await stipend(['fetch', report, '--wallets', walletsPath, '--policy', policy], {
      env: { STIPEND_HOME: dir },
    });
    expect(l402.stderr).toMatch(/paid \$0\.25125 \(250 sat via l402:bolt11/);
    expect(JSON.parse(l402.stdout)).toEqual({ report: 'quarterly', pages: 12 });

    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /Stopping \(SIGINT\)…\nStopped: anvil, the sellers, the gateway and the stand-ins\.\n$/,
    );
    for (const url of [ready.urls.x402, ready.urls.rpc, ready.urls.lndRest]) {
      await expect(fetch(url!)).rejects.toThrow();
    }
  }, 60_000);
});
