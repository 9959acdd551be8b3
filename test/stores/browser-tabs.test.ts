/**
 * Two tabs of one real Chromium (Debian's, driven by playwright-core) share one budget
 * through the browser store (IndexedDB + Web Locks): each tab fires 50 concurrent
 * reservations against a budget for 30, and exactly 30 succeed in total. The same holds
 * with Web Locks turned off (fenced IndexedDB appends alone).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TabReport, TabRun } from './browser-tabs.page.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./browser-tabs.page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['@stipend/source', 'browser', 'import', 'default'],
    logLevel: 'error',
  });
  const script = bundle.outputFiles[0]!.text;
  // The browser entry must not pull Node built-ins.
  expect(script).not.toMatch(/from\s*["']node:|require\(["'](fs|crypto|os|path)["']\)/);
  server = createServer((request, response) => {
    if (request.url === '/bundle.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      response
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          '<!doctype html><title>stipend tabs</title><script type="module" src="/bundle.js"></script>',
        );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
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
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function openTab(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(origin);
  await page.waitForFunction(() => 'stipendTab' in globalThis);
  return page;
}

function runTab(page: Page, run: TabRun): Promise<TabReport> {
  return page.evaluate(
    (args) =>
      (globalThis as unknown as { stipendTab(a: TabRun): Promise<TabReport> }).stipendTab(args),
    run,
  );
}

describe('browser budget store shared by tabs of real Chromium', () => {
  it.each([
    ['with Web Locks', true, 'web-locks'],
    ['without Web Locks (fenced appends alone)', false, 'none'],
  ] as const)(
    'two tabs × 50 concurrent payments, budget 30, %s → exactly 30',
    async (_label, useLocks, locking) => {
      const context = await browser.newContext();
      const errors: string[] = [];
      const tabs = await Promise.all([openTab(context, errors), openTab(context, errors)]);
      const name = `shared-${locking}`;
      const startAt = Date.now() + 1_000;
      const run = { name, payments: 50, budget: 30, price: '25000', useLocks, startAt };
      const reports = await Promise.all(
        tabs.map((page, i) => runTab(page, { ...run, tab: `t${i}` })),
      );
      const [a, b] = reports.map((r) => r.span) as [[number, number], [number, number]];
      const elapsed = Math.max(a[1], b[1]) - Math.min(a[0], b[0]);
      // The tabs really ran at the same time.
      expect(a[0] <= b[1] && b[0] <= a[1]).toBe(true);
      expect(errors).toEqual([]);
      for (const report of reports) expect(report.locking).toBe(locking);
      const committed = reports.flatMap((r) => r.committed);
      expect(committed).toHaveLength(30);
      expect(new Set(committed).size).toBe(30);
      expect(reports[0]!.refused + reports[1]!.refused).toBe(70);
      const conflicts = reports[0]!.conflicts + reports[1]!.conflicts;
      // Web Locks serialise the tabs; without them the IndexedDB fence resolved real races.
      if (useLocks) expect(conflicts).toBe(0);
      else expect(conflicts).toBeGreaterThan(0);

      // A third tab, opened afterwards, sees exactly the 30 committed payments.
      const late = await openTab(context, errors);
      const after = await runTab(late, { ...run, tab: 't2', payments: 1, startAt: 0 });
      expect(after.committed).toEqual([]);
      expect(after.usage).toEqual({ committed: String(30n * 25_000n), held: '0', count: 30 });
      console.log(
        `browser-tabs ${locking}: 100 reservations + 30 commits across 2 tabs in ${elapsed} ms; ` +
          `split ${reports.map((r) => r.committed.length).join('/')}, ${conflicts} lost appends retried`,
      );
      await context.close();
    },
  );
});
