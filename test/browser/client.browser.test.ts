/**
 * The built @stipend/client in real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against a local 402 server. `.ci/run` installs Chromium.
 */

import { fileURLToPath } from 'node:url';
import { createTestPaywall, createTestRail, TEST_USDC } from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: TestServer;
/** Another origin: allows CORS but does not expose the challenge header. */
let hiding: TestServer;
let browser: Browser;
const rail = createTestRail();

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./page-entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    // The client under test resolves to its built dist/ (default condition); the testkit's
    // stand-in rail is bundled from source.
    conditions: ['browser', 'import', 'default'],
    alias: {
      '@stipend/testkit/core': fileURLToPath(
        new URL('../../packages/testkit/src/core/index.ts', import.meta.url),
      ),
    },
  });
  const script = bundle.outputFiles[0]!.text;
  const paywall = createTestPaywall({
    rail,
    routes: {
      '/paid': { offers: [{ amount: 1000n, unit: TEST_USDC }] },
      '/echo': {
        offers: [{ amount: 2000n, unit: TEST_USDC }],
        respond: (request, body) =>
          Response.json({ contentType: request.headers.get('content-type'), body }),
      },
      '/dear': { offers: [{ amount: 500_000n, unit: TEST_USDC }] },
    },
  });
  server = await startTestServer(async (request) => {
    const url = new URL(request.url);
    if (url.pathname === '/') {
      return new Response(
        '<!doctype html><title>stipend</title><script type="module" src="/bundle.js"></script>',
        {
          headers: { 'content-type': 'text/html' },
        },
      );
    }
    if (url.pathname === '/bundle.js')
      return new Response(script, { headers: { 'content-type': 'text/javascript' } });
    if (url.pathname === '/rail/pay') {
      const input = await request.json();
      return Response.json(rail.pay({ ...input, amount: BigInt(input.amount) }));
    }
    if (url.pathname === '/rail/lookup') {
      return Response.json({ status: rail.lookup(url.searchParams.get('reference') ?? '') });
    }
    return paywall(request);
  });
  hiding = await startTestServer(async (request) => {
    const response = await paywall(request);
    const headers = new Headers(response.headers);
    headers.set('access-control-allow-origin', '*');
    headers.set('access-control-allow-headers', '*');
    return new Response(response.body, { status: response.status, headers });
  });
  // launch() gives every run a fresh, temporary user-data-dir.
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
  await server?.close();
  await hiding?.close();
});

describe('@stipend/client in Chromium', () => {
  it('passes through, pays, replays FormData and stream bodies, refuses above the cap, reports CORS-hidden terms', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(String(error)));
    await page.goto(`${server.url}?other=${encodeURIComponent(hiding.origin)}`);
    await page.waitForFunction(
      () => window.__results !== undefined || window.__error !== undefined,
      null,
      {
        timeout: 20_000,
      },
    );
    const error = await page.evaluate(() => window.__error);
    expect(error).toBeUndefined();
    const results = (await page.evaluate(() => window.__results)) as Record<string, any>;
    expect(consoleErrors).toEqual([]);
    expect(results.free).toEqual({ status: 200, payment: null });
    expect(results.paid).toMatchObject({
      status: 200,
      body: { paid: true, path: '/paid' },
      payment: 'paid',
    });
    expect(results.form.status).toBe(200);
    expect(results.form.body.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(results.form.body.body).toContain('from the browser');
    expect(results.stream).toEqual({
      status: 200,
      body: { contentType: null, body: 'stream-body' },
    });
    expect(results.dear).toMatchObject({
      code: 'POLICY_DENIED',
      details: { reason: 'per_request_cap' },
    });
    expect(results.ledger).toEqual([
      { status: 'committed', usd: '1000' },
      { status: 'committed', usd: '2000' },
      { status: 'committed', usd: '2000' },
    ]);
    // The server-side rail saw exactly three payments, all redeemed once.
    expect(rail.payments().map((p) => [p.amount, p.redeemed])).toEqual([
      [1000n, true],
      [2000n, true],
      [2000n, true],
    ]);
    await page.close();
  });
});
