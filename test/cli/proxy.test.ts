/**
 * `stipend fetch` honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (undici's EnvHttpProxyAgent as
 * the dispatcher of the fetch the paying fetch sends with): a local CONNECT proxy started
 * here sees the request — the 402 and the paid retry too — and NO_PROXY bypasses it.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, stipend, tempHome, walletsFile } from './cli.test-helpers.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './tls.test-helpers.js';

let proxy: Server;
let proxyUrl: string;
/** `CONNECT` targets the proxy tunnelled, in order. */
const tunnels: string[] = [];
let target: Server;
let targetUrl: string;
let secure: HttpsServer;
let secureUrl: string;
let caFile: string;
let market: Marketplace;

beforeAll(async () => {
  assertBuilt();
  // A minimal forward proxy: CONNECT tunnels (what undici's proxy agent uses), nothing else.
  proxy = createServer((_req, res) => {
    res.writeHead(405).end('this test proxy only tunnels (CONNECT)');
  });
  proxy.on('connect', (req, clientSocket, head) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  target = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, via: req.headers['x-forwarded-for'] ?? 'direct' }));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  secure = createHttpsServer({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, tls: true }));
  });
  await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
  secureUrl = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  // The child trusts the test certificate (and nothing else extra) through NODE_EXTRA_CA_CERTS.
  caFile = join(tempHome(), 'test-ca.pem');
  writeFileSync(caFile, TEST_TLS_CERT);
  market = await startMarketplace();
});
afterAll(async () => {
  proxy?.closeAllConnections();
  target?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await new Promise((resolve) => target?.close(resolve));
  secure?.closeAllConnections();
  await new Promise((resolve) => secure?.close(resolve));
  await market?.close();
});

describe('stipend fetch through a proxy', () => {
  it('sends through HTTP_PROXY', async () => {
    tunnels.length = 0;
    const run = await stipend(['fetch', `${targetUrl}/hello`], {
      env: { STIPEND_HOME: tempHome(), HTTP_PROXY: proxyUrl },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ path: '/hello', via: 'direct' });
    expect(tunnels).toEqual([new URL(targetUrl).host]);
  });

  it('sends https URLs through HTTPS_PROXY (a CONNECT tunnel; TLS end to end)', async () => {
    tunnels.length = 0;
    const run = await stipend(['fetch', `${secureUrl}/secret`], {
      env: {
        STIPEND_HOME: tempHome(),
        HTTPS_PROXY: proxyUrl,
        HTTP_PROXY: 'http://127.0.0.1:9',
        NODE_EXTRA_CA_CERTS: caFile,
      },
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ path: '/secret', tls: true });
    expect(tunnels).toEqual([new URL(secureUrl).host]);
  });

  it('honours NO_PROXY (lower-case variables too)', async () => {
    tunnels.length = 0;
    const run = await stipend(['fetch', `${targetUrl}/bypass`], {
      env: { STIPEND_HOME: tempHome(), http_proxy: proxyUrl, no_proxy: '127.0.0.1' },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ path: '/bypass', via: 'direct' });
    expect(tunnels).toEqual([]);
  });

  it('pays a 402 through the proxy: the challenge, the chain reads and the paid retry all go through it', async () => {
    tunnels.length = 0;
    const dir = tempHome();
    const before = await market.counters();
    const run = await stipend(
      ['fetch', `${market.urls.x402}/weather`, '--wallets', walletsFile(market, dir)],
      { env: { STIPEND_HOME: dir, HTTP_PROXY: proxyUrl } },
    );
    expect(run.stderr).toMatch(/^stipend: paid \$0\.001/m);
    expect(run.code).toBe(0);
    const after = await market.counters();
    expect(after.x402Settlements - before.x402Settlements).toBe(1);
    const x402Host = new URL(market.urls.x402).host;
    expect(tunnels).toContain(x402Host);
    expect(tunnels).toContain(new URL(market.urls.rpc).host);
  });
});
