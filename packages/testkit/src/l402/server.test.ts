import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, randomBytes32, sha256Hex } from '../lightning/bytes.js';
import { lightningFaults } from '../lightning/faults.js';
import { decodeInvoice } from '../lightning/invoice.js';
import { macaroonFromBase64, macaroonToBase64 } from '../lightning/macaroon-binary.js';
import { macaroonLib } from '../lightning/macaroon-lib.js';
import { attenuateL402Macaroon } from './attenuate.js';
import type { L402ChallengeStyle } from './challenge.js';
import { decodeL402Identifier } from './identifier.js';
import { QUOTES_PRICE_MSAT } from './routes.js';
import { type L402Server, type L402ServerOptions, startL402Server } from './server.js';

const MAX_FEE = 10_000n;
const servers: L402Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: L402ServerOptions = {}): Promise<L402Server> {
  const server = await startL402Server(options);
  servers.push(server);
  return server;
}

/** Raw response header lines (fetch would join repeated WWW-Authenticate lines). */
function rawGet(
  url: string,
): Promise<{ status: number; wwwAuthenticate: string[]; body: string; raw: string[] }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        const lines: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          if (raw[i]?.toLowerCase() === 'www-authenticate') lines.push(raw[i + 1] ?? '');
        }
        resolve({
          status: res.statusCode ?? 0,
          wwwAuthenticate: lines,
          body: Buffer.concat(chunks).toString('utf8'),
          raw,
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const CHALLENGE = /^(LSAT|L402) macaroon="([A-Za-z0-9+/=]+)", invoice="(lnbcrt[0-9a-z]+)"$/;

function parseApertureLine(line: string): { scheme: string; macaroon: string; invoice: string } {
  const match = CHALLENGE.exec(line);
  if (!match) throw new Error(`not an aperture challenge line: ${line}`);
  return { scheme: match[1] as string, macaroon: match[2] as string, invoice: match[3] as string };
}

async function buy(server: L402Server, path = '/quote') {
  const first = await rawGet(`${server.url}${path}`);
  expect(first.status).toBe(402);
  const { macaroon, invoice } = parseApertureLine(first.wwwAuthenticate[1] as string);
  const paid = await server.network.pay(invoice, { maxFeeMsat: MAX_FEE });
  return { macaroon, invoice, preimage: paid.preimage };
}

function get(server: L402Server, path: string, authorization?: string) {
  return fetch(`${server.url}${path}`, authorization ? { headers: { authorization } } : {});
}

describe('startL402Server challenge', () => {
  it('answers 402 with two WWW-Authenticate lines, LSAT then L402, same macaroon and invoice', async () => {
    const server = await start();
    const res = await rawGet(`${server.url}/quote`);
    expect(res.status).toBe(402);
    expect(res.body).toBe('payment required');
    expect(res.wwwAuthenticate).toHaveLength(2);
    const lsat = parseApertureLine(res.wwwAuthenticate[0] as string);
    const l402 = parseApertureLine(res.wwwAuthenticate[1] as string);
    expect(lsat.scheme).toBe('LSAT');
    expect(l402.scheme).toBe('L402');
    expect(lsat.macaroon).toBe(l402.macaroon);
    expect(lsat.invoice).toBe(l402.invoice);

    const invoice = decodeInvoice(l402.invoice);
    expect(invoice.network).toBe('regtest');
    expect(invoice.amountMsat).toBe(QUOTES_PRICE_MSAT);
    expect(invoice.description).toBe('L402');
    expect(invoice.payeeNodeKey).toBe(server.node.pubkey);

    const mac = macaroonFromBase64(l402.macaroon);
    expect(mac.location).toBe('lsat');
    expect(mac.identifier).toHaveLength(66);
    const id = decodeL402Identifier(mac.identifier);
    expect(id.version).toBe(0);
    expect(id.paymentHash).toBe(invoice.paymentHash);
    const caveats = mac.caveats.map((c) => new TextDecoder().decode(c.identifier));
    expect(caveats[0]).toBe('services=quotes:0');
    expect(caveats[1]).toMatch(/^quotes_valid_until=\d+$/);
    const validUntil = Number(caveats[1]?.split('=')[1]);
    expect(validUntil - Math.floor(Date.now() / 1000)).toBeGreaterThan(31_557_000);

    // Same bytes as the macaroon package's own view of the token.
    const lib = macaroonLib.importMacaroon(l402.macaroon);
    expect(bytesToHex(lib.signature)).toBe(bytesToHex(mac.signature));

    // Node's fetch joins the two lines with ", ".
    const viaFetch = await get(server, '/quote');
    const joined = viaFetch.headers.get('www-authenticate') ?? '';
    expect(joined.startsWith('LSAT macaroon="')).toBe(true);
    expect(joined).toContain('", L402 macaroon="');
    expect(viaFetch.headers.get('cache-control')).toBe('no-store');
    expect(viaFetch.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');

    expect(server.stats()).toMatchObject({ challengesIssued: 2, invoicesIssued: 2 });
    expect(server.challenges).toHaveLength(2);
  });

  it('serves free routes without payment and 404s unknown paths', async () => {
    const server = await start();
    const free = await get(server, '/free');
    expect(free.status).toBe(200);
    expect(await free.json()).toEqual({ free: true });
    expect((await get(server, '/nope')).status).toBe(404);
    expect(server.stats()).toMatchObject({ challengesIssued: 0, requestsServed: 1 });
  });

  const variants: Array<[L402ChallengeStyle, RegExp[]]> = [
    ['l402', [/^L402 macaroon="[^"]+", invoice="lnbcrt[^"]+"$/]],
    ['lsat', [/^LSAT macaroon="[^"]+", invoice="lnbcrt[^"]+"$/]],
    ['token', [/^L402 version="0", token="[^"]+", invoice="lnbcrt[^"]+"$/]],
    ['missing-comma', [/^L402 version="0" token="[^"]+", invoice="lnbcrt[^"]+"$/]],
    ['unquoted', [/^L402 version=0 macaroon=[A-Za-z0-9+/=]+ invoice=lnbcrt[0-9a-z]+$/]],
    ['space-separated', [/^L402 macaroon="[^"]+" invoice="lnbcrt[^"]+"$/]],
    [
      'folded',
      [/^LSAT macaroon="[^"]+", invoice="[^"]+", L402 macaroon="[^"]+", invoice="[^"]+"$/],
    ],
    ['lowercase', [/^l402 macaroon="[^"]+", invoice="lnbcrt[^"]+"$/]],
    ['unsupported-version', [/^L402 version="1", token="[^"]+", invoice="lnbcrt[^"]+"$/]],
    [
      'with-payment',
      [
        /^LSAT macaroon=/,
        /^L402 macaroon=/,
        /^Payment id="[A-Za-z0-9_-]+", realm="127\.0\.0\.1:\d+", method="lightning", intent="charge", request="[A-Za-z0-9_-]+"$/,
      ],
    ],
    [
      'with-bearer',
      [/^Bearer realm="127\.0\.0\.1:\d+"$/, /^L402 macaroon="[^"]+", invoice="[^"]+"$/],
    ],
  ];
  for (const [style, patterns] of variants) {
    it(`emits the ${style} challenge variant`, async () => {
      const server = await start({ challengeStyle: style });
      const res = await rawGet(`${server.url}/quote`);
      expect(res.status).toBe(402);
      expect(res.wwwAuthenticate).toHaveLength(patterns.length);
      patterns.forEach((pattern, i) => {
        expect(res.wwwAuthenticate[i]).toMatch(pattern);
      });
      const issued = server.challenges[0];
      expect(res.wwwAuthenticate.join('\n')).toContain(issued?.macaroon ?? 'missing');
      expect(res.wwwAuthenticate.join('\n')).toContain(issued?.invoice ?? 'missing');
    });
  }

  it('with-payment carries a separate invoice in a JCS request and counts both invoices', async () => {
    const server = await start({ challengeStyle: 'with-payment' });
    const res = await rawGet(`${server.url}/quote`);
    const payment = res.wwwAuthenticate[2] ?? '';
    const request = /request="([^"]+)"/.exec(payment)?.[1] ?? '';
    const json = JSON.parse(Buffer.from(request, 'base64url').toString('utf8'));
    expect(json.amount).toBe('100');
    expect(json.currency).toBe('sat');
    expect(json.methodDetails.network).toBe('regtest');
    expect(decodeInvoice(json.methodDetails.invoice).paymentHash).toBe(
      json.methodDetails.paymentHash,
    );
    expect(json.methodDetails.invoice).not.toBe(server.challenges[0]?.invoice);
    expect(server.stats()).toMatchObject({ challengesIssued: 1, invoicesIssued: 2 });
  });

  it('accepts a custom renderer and can omit CORS headers', async () => {
    const server = await start({
      challengeStyle: ({ macaroon, invoice }) => [`L402 token=${macaroon}, invoice=${invoice}`],
      cors: false,
    });
    const res = await get(server, '/quote');
    expect(res.headers.get('www-authenticate')).toMatch(/^L402 token=\S+, invoice=lnbcrt/);
    expect(res.headers.get('access-control-expose-headers')).toBeNull();
  });
});

describe('startL402Server credentials', () => {
  it('pays through the simulator, then serves 200 and reuses the credential without paying again', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const auth = `L402 ${macaroon}:${preimage}`;
    const ok = await get(server, '/quote', auth);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ symbol: 'BTCUSD' });
    const again = await get(server, '/quote', auth);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    // LSAT scheme is accepted too.
    expect((await get(server, '/quote', `LSAT ${macaroon}:${preimage}`)).status).toBe(200);

    const tokenId = decodeL402Identifier(macaroonFromBase64(macaroon).identifier).tokenId;
    const stats = server.stats();
    expect(stats.servedByToken).toEqual({ [tokenId]: 3 });
    expect(stats.paidRequestsServed).toBe(3);
    expect(stats.challengesIssued).toBe(1);
    expect(server.network.stats().succeeded).toBe(1);
  });

  it('echoes a POST body with the same credential', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const res = await fetch(`${server.url}/echo`, {
      method: 'POST',
      headers: {
        authorization: `L402 ${macaroon}:${preimage}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('refuses a wrong preimage with a fresh 402 challenge', async () => {
    const server = await start();
    const { macaroon, invoice } = await buy(server);
    const wrong = bytesToHex(randomBytes32());
    const res = await rawGet(`${server.url}/quote`);
    expect(res.status).toBe(402);
    const rejected = await get(server, '/quote', `L402 ${macaroon}:${wrong}`);
    expect(rejected.status).toBe(402);
    const fresh = server.challenges.at(-1);
    expect(fresh?.invoice).not.toBe(invoice);
    expect(rejected.headers.get('www-authenticate')).toContain(fresh?.invoice ?? 'missing');
    expect(server.rejections.at(-1)?.reason).toMatch(/^invalid preimage for payment hash/);
  });

  it('refuses a wallet-reported wrong preimage (wrongPreimage fault)', async () => {
    const server = await start();
    server.network.injectFault(lightningFaults.wrongPreimage());
    const { macaroon, preimage } = await buy(server);
    const res = await get(server, '/quote', `L402 ${macaroon}:${preimage}`);
    expect(res.status).toBe(402);
  });

  it('refuses a tampered macaroon', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const fields = macaroonFromBase64(macaroon);
    // Widen the services caveat in place, keeping the old signature.
    fields.caveats[0] = { identifier: new TextEncoder().encode('services=quotes:0,reports:0') };
    const tampered = macaroonToBase64(fields);
    const res = await get(server, '/quote', `L402 ${tampered}:${preimage}`);
    expect(res.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toMatch(/signature mismatch/);

    // Flipping a signature byte fails too.
    const sigFlipped = macaroonFromBase64(macaroon);
    sigFlipped.signature[0] = (sigFlipped.signature[0] ?? 0) ^ 1;
    const res2 = await get(server, '/quote', `L402 ${macaroonToBase64(sigFlipped)}:${preimage}`);
    expect(res2.status).toBe(402);
  });

  it('accepts attenuated macaroons that narrow services or shorten valid_until', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const soon = Math.floor(Date.now() / 1000) + 600;
    // Through the macaroon package's addFirstPartyCaveat, serialised with our encoder.
    const m = macaroonLib.importMacaroon(macaroon);
    m.addFirstPartyCaveat('services=quotes:0');
    m.addFirstPartyCaveat(`quotes_valid_until=${soon}`);
    m.addFirstPartyCaveat('some_unknown_caveat=ignored');
    const narrowed = macaroonToBase64(m);
    expect(macaroonFromBase64(narrowed).caveats).toHaveLength(5);
    const res = await get(server, '/quote', `L402 ${narrowed}:${preimage}`);
    expect(res.status).toBe(200);
  });

  it('refuses an attenuated macaroon that widens services or lengthens valid_until', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const widened = attenuateL402Macaroon(macaroon, ['services=quotes:0,reports:0']);
    const res = await get(server, '/quote', `L402 ${widened}:${preimage}`);
    expect(res.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toBe('service reports not previously allowed');

    const later = attenuateL402Macaroon(macaroon, ['quotes_valid_until=99999999999']);
    expect((await get(server, '/quote', `L402 ${later}:${preimage}`)).status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toBe(
      'quotes_valid_until caveat violates increasing restrictiveness',
    );
  });

  it('scopes tokens to their service', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server, '/quote');
    const res = await get(server, '/report', `L402 ${macaroon}:${preimage}`);
    expect(res.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toBe('target service reports not authorized');
    const report = await buy(server, '/report');
    expect(decodeInvoice(report.invoice).amountMsat).toBe(250_000n);
    expect(
      (await get(server, '/report', `L402 ${report.macaroon}:${report.preimage}`)).status,
    ).toBe(200);
  });

  it('gives an expired valid_until a fresh 402', async () => {
    let clock = Date.now();
    const server = await start({ now: () => clock });
    const { macaroon, preimage } = await buy(server);
    expect((await get(server, '/quote', `L402 ${macaroon}:${preimage}`)).status).toBe(200);

    const past = attenuateL402Macaroon(macaroon, [
      `quotes_valid_until=${Math.floor(clock / 1000)}`,
    ]);
    const res = await get(server, '/quote', `L402 ${past}:${preimage}`);
    expect(res.status).toBe(402);
    expect(res.headers.get('www-authenticate')).toMatch(/^LSAT macaroon=/);
    expect(server.rejections.at(-1)?.reason).toBe(
      'not authorized to access service. L402 has expired',
    );

    clock += 31_557_600 * 1000;
    const expired = await get(server, '/quote', `L402 ${macaroon}:${preimage}`);
    expect(expired.status).toBe(402);
    expect(server.challenges).toHaveLength(3);
  });

  it('refuses credentials for invoices that were never paid (strict settlement check)', async () => {
    const server = await start();
    const challenge = server.issueChallenge('GET', '/quote');
    const preimage = server.unsafePreimageFor(challenge.paymentHash) ?? '';
    expect(sha256Hex(hexToBytes(preimage))).toBe(challenge.paymentHash);
    const res = await get(server, '/quote', `L402 ${challenge.macaroon}:${preimage}`);
    expect(res.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toBe('invoice not settled in the simulated network');

    const lax = await start({ requireSettled: false, network: server.network, node: server.node });
    const c2 = lax.issueChallenge('GET', '/quote');
    const p2 = lax.unsafePreimageFor(c2.paymentHash) ?? '';
    expect((await get(lax, '/quote', `L402 ${c2.macaroon}:${p2}`)).status).toBe(200);
  });

  it('refuses malformed Authorization values the way aperture does', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const urlSafe = macaroon.replaceAll('+', '-').replaceAll('/', '_');
    const bad = [
      `l402 ${macaroon}:${preimage}`,
      `L402 ${macaroon}:${preimage.toUpperCase()}`,
      `L402  ${macaroon}:${preimage}`,
      `L402 ${macaroon},${macaroon}:${preimage}`,
      `Bearer ${macaroon}`,
      `L402 ${macaroon}:${preimage.slice(2)}`,
    ];
    for (const value of bad) expect((await get(server, '/quote', value)).status).toBe(402);
    if (urlSafe !== macaroon) {
      expect((await get(server, '/quote', `L402 ${urlSafe}:${preimage}`)).status).toBe(402);
    }
    expect(server.stats().rejectedCredentials).toBeGreaterThanOrEqual(bad.length);
    expect((await get(server, '/quote', `L402 ${macaroon}:${preimage}`)).status).toBe(200);
  });

  it('revoked tokens get a fresh 402', async () => {
    const server = await start();
    const { macaroon, preimage } = await buy(server);
    const tokenId = decodeL402Identifier(macaroonFromBase64(macaroon).identifier).tokenId;
    expect(server.revokeToken(tokenId)).toBe(true);
    const res = await get(server, '/quote', `L402 ${macaroon}:${preimage}`);
    expect(res.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toMatch(/secret not found/);
  });

  it('emulates a settlement race for the first N uses of a token', async () => {
    const server = await start({ unconfirmedResponses: 1 });
    const { macaroon, preimage } = await buy(server);
    const auth = `L402 ${macaroon}:${preimage}`;
    const first = await get(server, '/quote', auth);
    expect(first.status).toBe(402);
    expect(await first.text()).toBe('payment not yet confirmed');
    expect((await get(server, '/quote', auth)).status).toBe(200);
  });

  it('answers 401 without a challenge on skipInvoiceCreation routes', async () => {
    const server = await start({
      routes: [
        {
          method: 'GET',
          path: '/private',
          service: 'quotes',
          priceMsat: 1_000n,
          skipInvoiceCreation: true,
        },
      ],
    });
    const res = await get(server, '/private');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(server.stats().invoicesIssued).toBe(0);
  });

  it('enforces a required capability only when the route asks for it', async () => {
    const server = await start({
      routes: [
        { method: 'GET', path: '/read', service: 'db', priceMsat: 2_000n, capabilities: ['read'] },
        {
          method: 'GET',
          path: '/write',
          service: 'db',
          priceMsat: 2_000n,
          capabilities: ['read'],
          requiredCapability: 'write',
        },
      ],
    });
    const { macaroon, preimage } = await buy(server, '/read');
    expect(
      macaroonFromBase64(macaroon).caveats.map((c) => new TextDecoder().decode(c.identifier))[1],
    ).toBe('db_capabilities=read');
    expect((await get(server, '/read', `L402 ${macaroon}:${preimage}`)).status).toBe(200);
    expect((await get(server, '/write', `L402 ${macaroon}:${preimage}`)).status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toBe('target capability write not authorized');
  });

  it('supports msat-priced routes and timeout-then-settle recovery', async () => {
    const server = await start({
      routes: [{ method: 'GET', path: '/tip', service: 'tips', priceMsat: 1_500n }],
    });
    const res = await rawGet(`${server.url}/tip`);
    const { macaroon, invoice } = parseApertureLine(res.wwwAuthenticate[1] as string);
    expect(invoice.startsWith('lnbcrt15n1')).toBe(true);
    server.network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 20 }));
    await expect(server.network.pay(invoice, { maxFeeMsat: MAX_FEE })).rejects.toThrow(/timed out/);
    const paymentHash = decodeInvoice(invoice).paymentHash;
    await server.network.idle();
    const looked = server.network.lookup(paymentHash);
    expect(looked.status).toBe('succeeded');
    const preimage = looked.status === 'succeeded' ? looked.preimage : '';
    expect((await get(server, '/tip', `L402 ${macaroon}:${preimage}`)).status).toBe(200);
    expect(server.network.stats().succeeded).toBe(1);
  });

  it('validates its configuration', async () => {
    await expect(
      startL402Server({ routes: [{ method: 'GET', path: '/x', service: 'x' }] }),
    ).rejects.toThrow(/needs priceMsat as a positive bigint/);
    await expect(
      startL402Server({ routes: [{ method: 'GET', path: '/x', service: 'a:b', priceMsat: 1n }] }),
    ).rejects.toThrow(/without , : =/);
    const server = await start();
    expect(() => server.issueChallenge('GET', '/free')).toThrow(/protected routes: GET \/quote/);
  });
});
