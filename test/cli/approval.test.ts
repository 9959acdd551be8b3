/**
 * The approval prompt of `stipend fetch` (the BUILT binary): asked on a real pseudo-terminal
 * (util-linux `script` gives the command a pty) and answered by typing, and asked on a piped
 * stdin when `STIPEND_INTERACTIVE=1` says to. A "y" pays; anything else pays nothing.
 */
import { spawn } from 'node:child_process';
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  BIN,
  childEnv,
  finished,
  policyFile,
  ROOT,
  stipend,
  tempHome,
  walletsFile,
} from './cli.test-helpers.js';

let market: Marketplace;
let home: string;
let wallets: string;
let policy: string;

beforeAll(async () => {
  assertBuilt();
  market = await startMarketplace();
  home = tempHome();
  wallets = walletsFile(market, home);
  // Every payment above $0.0005 needs a person: the $0.001 weather report does.
  policy = policyFile(
    home,
    { global: { approveAbove: '0.0005', limits: [{ usd: '1.00', window: { calendar: 'day' } }] } },
    'ask.json',
  );
});
afterAll(async () => {
  await market?.close();
});

/**
 * Runs `stipend fetch` under `script` (a pseudo-terminal), types `answer` once the prompt
 * shows, and returns what the terminal showed.
 */
async function onTerminal(url: string, answer: string) {
  const command = [process.execPath, BIN, 'fetch', url, '--wallets', wallets, '--policy', policy]
    .map((part) => `'${part}'`)
    .join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: ROOT,
    env: childEnv({ STIPEND_HOME: tempHome(), TERM: 'dumb' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let shown = '';
  let answered = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    shown += chunk;
    if (!answered && shown.includes('Approve? [y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  const run = await finished(child);
  child.stdin.end();
  return { ...run, shown, answered };
}

describe('stipend fetch asks for approval', () => {
  it('on a terminal: typing y pays', async () => {
    const before = await market.counters();
    const run = await onTerminal(`${market.urls.x402}/weather`, 'y');
    expect(run.answered).toBe(true);
    expect(run.code).toBe(0);
    expect(run.shown).toMatch(
      /Pay \$0\.001 \(0\.001 USDC via x402 exact\) to 0x3C44…93BC for GET http:\/\/127\.0\.0\.1:\d+\/weather\? Asked because it is above the approval threshold; afterwards \$0\.999 left in the global budget per UTC day\.\r?\nApprove\? \[y\/N\]/,
    );
    expect(run.shown).toMatch(/approved\r?\n/);
    expect(run.shown).toMatch(/stipend: paid \$0\.001/);
    expect(run.shown).toContain('"weather":"sunny"');
    const after = await market.counters();
    expect(after.x402Settlements - before.x402Settlements).toBe(1);
    expect(before.agentTokenBalance - after.agentTokenBalance).toBe(1000n);
  });

  it('on a terminal: typing n pays nothing and exits 3', async () => {
    const before = await market.counters();
    const run = await onTerminal(`${market.urls.x402}/weather`, 'n');
    expect(run.answered).toBe(true);
    expect(run.code).toBe(3);
    expect(run.shown).toMatch(/not approved\r?\n/);
    expect(run.shown).toMatch(/stipend: refused: The approver refused the x402\/exact payment/);
    expect(await market.counters()).toEqual(before);
  });

  it('on a piped stdin with STIPEND_INTERACTIVE=1', async () => {
    const before = await market.counters();
    const yes = await stipend(
      [
        'fetch',
        `${market.urls.l402}/report`,
        '--wallets',
        wallets,
        '--policy',
        policyFile(
          home,
          {
            global: { maxPerRequest: { usd: '0.50' }, approveAbove: '0.20' },
          },
          'report.json',
        ),
      ],
      { env: { STIPEND_HOME: tempHome(), STIPEND_INTERACTIVE: '1' }, input: 'yes\n' },
    );
    expect(yes.stderr).toMatch(
      /Pay \$0\.2625 \(250 sat via l402 bolt11\) to 0[23][0-9a-f]{4}…[0-9a-f]{4} for GET .*\/report\?/,
    );
    expect(yes.stderr).toMatch(/Approve\? \[y\/N\] approved\n/);
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toEqual({ report: 'quarterly', pages: 12 });
    const after = await market.counters();
    expect(after.lightningPayments - before.lightningPayments).toBe(1);

    // End of input before an answer is a no.
    const silent = await stipend(
      ['fetch', `${market.urls.x402}/weather`, '--wallets', wallets, '--policy', policy],
      {
        env: { STIPEND_HOME: tempHome(), STIPEND_INTERACTIVE: '1' },
        input: '',
      },
    );
    expect(silent.code).toBe(3);
    expect(silent.stderr).toMatch(/Approve\? \[y\/N\] not approved\n/);
    expect((await market.counters()).x402Settlements).toBe(after.x402Settlements);
  });
});
