/**
 * The three protocols through the BUILT packages in real Chromium (Debian's `chromium`, driven
 * by playwright-core), against the testkit servers: x402 (the reference `@x402/hono` server and
 * facilitator on anvil), L402 (the aperture-equivalent server, paid through the LND REST stand-in
 * over the simulated Lightning network) and MPP (the real mppx server with the Stripe
 * stand-ins). The page reaches them through a same-origin gateway; a second gateway serves them
 * cross-origin with `Access-Control-Expose-Headers`, a third one without it (the terms are then
 * hidden from the page: `CHALLENGE_HIDDEN`, nothing paid). Payments are counted at each rail.
 *
 * Needs `pnpm run build` first (the page bundles `dist/`); `.ci/run` builds before testing.
 */
import { fileURLToPath } from 'node:url';
import { DEV_ACCOUNTS } from '@stipend/testkit/chain';
import { createLightningNetwork, type L402Server, startL402Server } from '@stipend/testkit/l402';
import { type MppServer, startMppServer } from '@stipend/testkit/mpp';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { startX402Server, WEATHER_PRICE, type X402ServerHandle } from '@stipend/testkit/x402';
import { SPT_API_VERSION, stripeSptApi } from '@stipend/wallet-stripe';
import { build, type Plugin } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LndRestStandIn,
  startLndRestStandIn,
} from '../../packages/wallet-lightning/src/lnd-rest.test-helpers.js';
import { testAsset } from '../x402/setup.test-helpers.js';
import { type Gateway, startGateway } from './browser-gateway.test-helpers.js';
import type { CallResult, PageConfig } from './browser-page.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MACAROON_HEX = '0201036c6e6402f801030a10';
const payer = DEV_ACCOUNTS[9]!;
const seller = 'profile_browser';
const network = createLightningNetwork();

let x402: X402ServerHandle;
let l402: L402Server;
let lnd: LndRestStandIn;
let stripeApi: StripeStandIn;
let mpp: MppServer;
let page: Gateway;
let exposing: Gateway;
let hiding: Gateway;
let browser: Browser;
let script: string;
const sptCalls: string[] = [];

/** Which server serves a path (the testkit servers use distinct paths). */
function upstreamFor(path: string) {
  if (path === '/weather') return { origin: x402.url, path };
  if (path === '/quote') return { origin: l402.url, path };
  if (path === '/article') return { origin: mpp.url, path };
  if (path.startsWith('/lnd/')) return { origin: lnd.url, path: path.slice('/lnd'.length) };
  return undefined;
}

/** Bundles the page from the built packages; the LND REST backend from its built file. */
async function bundlePage(): Promise<string> {
  const lndRestDist = fileURLToPath(
    new URL('../../packages/wallet-lightning/dist/lnd-rest.js', import.meta.url),
  );
  const useDist: Plugin = {
    name: 'lnd-rest-dist',
    setup(b) {
      b.onResolve({ filter: /wallet-lightning\/src\/lnd-rest\.js$/ }, () => ({
        path: lndRestDist,
      }));
    },
  };
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./browser-page.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['browser', 'import', 'default'],
    // Loaded lazily by the wallets, never in a browser (server wallets, gRPC, NWC).
    external: ['@coinbase/cdp-sdk', 'lightning', '@getalby/sdk', '@getalby/sdk/*', 'node:*'],
    plugins: [useDist],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

beforeAll(async () => {
  const sptApi = () => stripeSptApi(stripeApi.createStripeClient(), SPT_API_VERSION);
  [x402, l402, stripeApi, script] = await Promise.all([
    startX402Server(),
    startL402Server({ network }),
    startStripeStandIn({ sellerProfile: seller }),
    bundlePage(),
  ]);
  await x402.chain.mint(payer.address, 1_000_000n);
  lnd = await startLndRestStandIn(network, MACAROON_HEX);
  mpp = await startMppServer({ networkId: seller, paymentIntents: stripeApi.paymentIntents });
  page = await startGateway({
    cors: 'none',
    upstreamFor,
    local: async (req, res, body) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const send = (status: number, type: string, text: string) => {
        res.writeHead(status, { 'content-type': type });
        res.end(text);
      };
      if (path === '/') {
        send(
          200,
          'text/html',
          '<!doctype html><title>stipend</title><script type="module" src="/bundle.js"></script>',
        );
        return true;
      }
      if (path === '/bundle.js') {
        send(200, 'text/javascript', script);
        return true;
      }
      if (path === '/bomb') {
        res.writeHead(402, {
          'payment-required': 'QUFB'.repeat(25_600),
          'content-type': 'application/json',
        });
        res.end('{}');
        return true;
      }
      // The page's backend for Shared Payment Tokens: the secret key stays on the server.
      const spt = /^\/spt\/(issue|[^/]+)(\/revoke)?$/.exec(path);
      if (!spt) return false;
      sptCalls.push(path);
      const api = sptApi();
      const token =
        spt[1] === 'issue'
          ? await api.issue({ ...JSON.parse(body.toString('utf8')), paymentMethod: 'pm_card_visa' })
          : spt[2]
            ? await api.revoke!(decodeURIComponent(spt[1]!))
            : await api.retrieve!(decodeURIComponent(spt[1]!));
      send(200, 'application/json', JSON.stringify(token));
      return true;
    },
  });
  exposing = await startGateway({ cors: 'expose', upstreamFor });
  hiding = await startGateway({ cors: 'hide', upstreamFor });
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
  for (const gateway of [page, exposing, hiding]) await gateway?.close();
  await mpp?.close();
  await lnd?.close();
  await stripeApi?.close();
  await l402?.close();
  await x402?.close();
  network.close();
});

describe('x402, L402 and MPP in Chromium through the built packages', () => {
  it('pays each protocol once, reuses the L402 credential, and refuses CORS-hidden terms without paying', async () => {
    const before = {
      settlements: x402.settlements.length,
      lightning: network.stats().succeeded,
      charged: stripeApi.paymentIntents.paymentIntents.length,
    };
    const tab = await browser.newPage();
    const pageErrors: string[] = [];
    tab.on('pageerror', (error) => pageErrors.push(String(error)));
    await tab.goto(page.origin);
    await tab.waitForFunction(() => window.__stipend !== undefined, null, { timeout: 20_000 });
    const config: PageConfig = {
      privateKey: payer.privateKey,
      asset: testAsset(x402.token),
      lndMacaroonHex: MACAROON_HEX,
      exposingOrigin: exposing.origin,
      hidingOrigin: hiding.origin,
    };
    const results = (await tab.evaluate((c) => window.__stipend!.run(c), config)) as Record<
      string,
      CallResult
    >;
    expect(pageErrors).toEqual([]);

    // x402: the reference server, same origin, then cross-origin with exposed headers.
    expect(results.x402).toMatchObject({ status: 200, payment: 'paid', record: 'committed' });
    expect(results.x402CrossOrigin).toMatchObject({
      status: 200,
      payment: 'paid',
      record: 'committed',
    });
    expect(x402.settlements.length - before.settlements).toBe(2);
    expect(x402.settlements.slice(-2).map((s) => s.amount)).toEqual([WEATHER_PRICE, WEATHER_PRICE]);

    // L402: paid once through LND REST, the second call rides the held credential.
    expect(results.l402).toMatchObject({ status: 200, payment: 'paid', record: 'committed' });
    expect(results.l402Again).toMatchObject({ status: 200 });
    expect(results.l402Again?.payment).toBeUndefined();
    expect(network.stats().succeeded - before.lightning).toBe(1);
    expect(lnd.requests.filter((r) => r.path === '/v2/router/send')).toHaveLength(1);

    // MPP: one token through the page's backend, one PaymentIntent charged.
    expect(results.mpp).toMatchObject({ status: 200, payment: 'paid', record: 'committed' });
    const charged = stripeApi.paymentIntents.paymentIntents.slice(before.charged);
    expect(charged.map((p) => [p.status, p.amount])).toEqual([['succeeded', 50n]]);
    expect(sptCalls.filter((p) => p === '/spt/issue')).toHaveLength(1);

    // CORS-hidden terms: their own error for every protocol (the JSON-bodied 402s of
    // @x402/hono and mppx included), nothing paid, no proof sent.
    for (const hidden of [results.hiddenX402, results.hiddenL402, results.hiddenMpp]) {
      expect(hidden?.code).toBe('CHALLENGE_HIDDEN');
    }
    expect(hiding.forwarded.map((r) => r.proof)).toEqual([false, false, false]);
    expect(x402.settlements.length - before.settlements).toBe(2);
    expect(network.stats().succeeded - before.lightning).toBe(1);
    expect(stripeApi.paymentIntents.paymentIntents.length - before.charged).toBe(1);

    // A 100 KiB PAYMENT-REQUIRED (past the 64 KiB cap): refused unread, nothing signed.
    expect(results.headerBomb?.code).toBe('CHALLENGE_INVALID');
    expect(results.headerBomb?.error).toMatch(/longer than 65536/);

    expect(results.ledger?.body).toEqual([
      'x402:committed',
      'l402:committed',
      'mpp:committed',
      'x402:committed',
    ]);
    await tab.close();
  });
});
