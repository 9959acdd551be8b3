/**
 * The spend console in real Chromium (Debian's `chromium`, driven by playwright-core): an
 * agent in another process (pending mode, file stores in a temp folder shared with the
 * console, its wallet on the stand-in rail of this process) waits for a person; the test
 * clicks Approve in the page and the agent's next call pays, counted at the rail, while the
 * chart and the budgets update live; Deny refuses; a held purchase is resolved by hand; a
 * request without the token is refused; a hostile ledger line renders as text.
 *
 * Also saves the screenshot `docs/console.png` (earlier spend on other hosts is seeded; see
 * history.test-helpers.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPaywall, createTestRail, TEST_USDC } from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OpenedConsoleStores,
  openConsoleStores,
  type RunningConsole,
  startConsole,
} from '../../packages/console/src/index.js';
import { bundleChild, type ChildBundle } from '../stores/bundle.test-helpers.js';
import { seedHistory } from './history.test-helpers.js';
import { AGENT_POLICY } from './policy.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/console.png', import.meta.url));

const rail = createTestRail();
let seller: TestServer;
let folder: string;
let bundle: ChildBundle;
let stores: OpenedConsoleStores;
let running: RunningConsole;
let browser: Browser;
let page: Page;
let agent: Agent;

/** The agent process: one command, one JSON answer. */
interface Agent {
  send(line: string): Promise<Record<string, unknown>>;
  readonly child: ChildProcess;
}

function startAgent(): Promise<Agent> {
  const child = spawn(process.execPath, [bundle.file, folder, seller.origin], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let buffer = '';
  let stderr = '';
  const waiting: ((line: string) => void)[] = [];
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the agent exited ${code}: ${stderr}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line === 'ready') {
          resolve({
            child,
            send(command) {
              child.stdin!.write(`${command}\n`);
              return new Promise((answer) => waiting.push((text) => answer(JSON.parse(text))));
            },
          });
        } else waiting.shift()?.(line);
        newline = buffer.indexOf('\n');
      }
    });
  });
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'stipend-console-'));
  const paywall = createTestPaywall({
    rail,
    routes: {
      '/report': { offers: [{ amount: 50_000n, unit: TEST_USDC }] },
      '/cheap': { offers: [{ amount: 1_000n, unit: TEST_USDC }] },
    },
  });
  seller = await startTestServer(async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/rail/pay') {
      const input = await request.json();
      return Response.json(rail.pay({ ...input, amount: BigInt(input.amount) }));
    }
    if (url.pathname === '/rail/lookup') {
      return Response.json({ status: rail.lookup(url.searchParams.get('reference') ?? '') });
    }
    return paywall(request);
  });
  bundle = await bundleChild(new URL('./agent.child.ts', import.meta.url));
  stores = await openConsoleStores({ dir: folder });
  await seedHistory(stores.budget, stores.ledger, Date.now());
  running = await startConsole({ stores, policy: AGENT_POLICY, pollMs: 250 });
  [browser, agent] = await Promise.all([
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    }),
    startAgent(),
  ]);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('dialog', (dialog) => void dialog.accept());
  await page.goto(running.url);
  await page.locator('#status.live').waitFor();
}, 60_000);

afterAll(async () => {
  agent?.child.stdin?.end();
  agent?.child.kill('SIGKILL');
  await browser?.close();
  await running?.close();
  await stores?.close();
  await seller?.close();
  bundle?.remove();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

const chartTotal = () =>
  page
    .locator('#chart-svg')
    .getAttribute('data-total-micros')
    .then((v) => BigInt(v ?? '0'));
const budgetCell = (scope: string, window: string, cell: string) =>
  page
    .locator(`#budgets tr[data-scope="${scope}"][data-window="${window}"] td.${cell}`)
    .textContent();

describe('the spend console in Chromium', () => {
  it('a request without the token is refused', async () => {
    const origin = new URL(running.url).origin;
    for (const path of ['/', '/console.js', '/api/state', `/${'x'.repeat(43)}/`]) {
      const response = await page.request.get(`${origin}${path}`);
      expect(response.status()).toBe(403);
      expect(await response.text()).not.toContain('ledger');
    }
  });

  it('Approve: the waiting agent’s next call pays, counted at the rail; chart and budgets update', async () => {
    const asked = await agent.send(`call order-1 ${seller.origin}/report`);
    expect(asked).toMatchObject({ status: 202 });
    const id = asked.approvalId as string;
    const card = page.locator(`.approval[data-approval-id="${id}"]`);
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain('$0.05');
    await expect(budgetCell('global', 'calendar:day', 'held-usd')).resolves.toBe('$0.05');
    const totalBefore = await chartTotal();
    const spentBefore = await budgetCell('tag:research', 'calendar:day', 'spent');
    expect(rail.payments()).toHaveLength(0);

    await card.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#approvals-flash', { hasText: 'Approved $0.05' }).waitFor();
    expect(await agent.send(`call order-1 ${seller.origin}/report`)).toEqual({ status: 200 });
    expect(rail.payments()).toHaveLength(1);
    expect(rail.settledTotal()).toBe(50_000n);

    // The page follows the stores: the chart gains the payment, the budgets count it.
    await expect.poll(chartTotal, { timeout: 5000 }).toBe(totalBefore + 50_000n);
    await expect
      .poll(() => budgetCell('tag:research', 'calendar:day', 'spent'), { timeout: 5000 })
      .not.toBe(spentBefore);
    await expect(budgetCell('tag:research', 'calendar:day', 'spent')).resolves.toBe('$0.05');
    await expect(budgetCell('global', 'calendar:day', 'held-usd')).resolves.toBe('$0.00');
    await expect.poll(() => card.count(), { timeout: 5000 }).toBe(0);
  });

  it('Deny: the agent’s next call is refused and nothing is paid', async () => {
    const asked = await agent.send(`call order-2 ${seller.origin}/report`);
    const id = asked.approvalId as string;
    const card = page.locator(`.approval[data-approval-id="${id}"]`);
    await card.getByRole('button', { name: 'Deny' }).click();
    await page.locator('#approvals-flash', { hasText: 'Denied $0.05' }).waitFor();
    await expect.poll(() => card.count(), { timeout: 5000 }).toBe(0);
    expect(await agent.send(`call order-2 ${seller.origin}/report`)).toEqual({
      error: 'APPROVAL_DENIED',
    });
    expect(rail.payments()).toHaveLength(1);
    await expect(budgetCell('global', 'calendar:day', 'held-usd')).resolves.toBe('$0.00');
  });

  it('a held purchase is resolved by hand, and the screenshot shows the console with data', async () => {
    const paidBefore = rail.payments().length;
    expect(await agent.send('fault unknown-after-paying')).toEqual({ ok: true });
    expect(await agent.send(`call order-3 ${seller.origin}/cheap`)).toEqual({
      error: 'OUTCOME_UNKNOWN',
    });
    expect(rail.payments()).toHaveLength(paidBefore + 1);
    const asked = await agent.send(`call order-4 ${seller.origin}/report`);
    await page.locator(`.approval[data-approval-id="${asked.approvalId}"]`).waitFor();
    const held = page.locator('.held').filter({ hasText: 'unknown' }).first();
    await held.waitFor();
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.screenshot({ path: SCREENSHOT });
    await page.setViewportSize({ width: 1280, height: 900 });

    const id = (await held.getAttribute('data-purchase-id'))!;
    await held.getByRole('button', { name: 'Mark paid' }).click();
    await page.locator('#held-flash', { hasText: `Recorded ${id} as paid` }).waitFor();
    // Paid, not delivered: still listed, now to be marked delivered.
    const after = page.locator(`.held[data-purchase-id="${id}"]`);
    await expect.poll(() => after.locator('.badge').textContent(), { timeout: 5000 }).toBe('paid');
    await after.getByRole('button', { name: 'Mark delivered' }).waitFor();
    const purchases = await stores.journal!.list({ states: ['paid'] });
    expect(purchases.map((p) => p.key)).toContain('order-3');
  });
  it('a ledger line with HTML renders as text; malformed lines show as invalid or are skipped', async () => {
    await stores.ledger.append({
      ...(await stores.ledger.list()).find((record) => record.id.startsWith('p_seed'))!,
      id: 'p_hostile',
      payee: '<img src=x onerror="window.__owned=1">',
      resource: 'https://api.example.com/<script>window.__owned=2</script>',
      tags: ['<b>bold</b>'],
    });
    await stores.ledger.append({ id: 'p_invalid', status: 'committed', amount: 'a lot' } as never);
    appendFileSync(join(folder, 'ledger.jsonl'), '{"this is not": json\n');
    const row = page.locator('#ledger tr[data-id="p_hostile"]');
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('<img src=x onerror="window.__owned=1">');
    await expect(row.textContent()).resolves.toContain('<b>bold</b>');
    expect(await page.locator('#ledger img, #ledger script, #ledger b').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __owned?: unknown }).__owned)).toBeUndefined();
    const invalid = page.locator('#ledger tr.invalid[data-id="p_invalid"]');
    await expect(invalid.textContent()).resolves.toContain('invalid');
    // Filters still work, and the CSV export is a download of the filtered rows.
    const local = (await stores.ledger.list()).filter((r) => r.origin === seller.origin);
    expect(local.length).toBeGreaterThan(0);
    await page.selectOption('#filters select[name="host"]', '127.0.0.1');
    await expect
      .poll(() => page.locator('#ledger tbody tr').count(), { timeout: 5000 })
      .toBe(local.length);
    const csv = await page.request.get(
      new URL((await page.locator('#csv').getAttribute('href'))!, running.url).href,
    );
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines).toHaveLength(1 + local.length);
    expect(lines.slice(1).every((line) => line.includes(seller.origin))).toBe(true);
    await page.selectOption('#filters select[name="host"]', '');
  });
});
