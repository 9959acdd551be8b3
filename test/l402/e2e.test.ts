/**
 * L402 end to end: `createPayingFetch` + the L402 adapter + `lightningWallet` against the
 * testkit's aperture-equivalent L402 server (real v2 macaroons, real signed BOLT 11 regtest
 * invoices, aperture's caveat rules) and its simulated Lightning network (a stand-in: no real
 * node or channel). Reuse and single flight go through the core's adapter hooks.
 */
import {
  createPayingFetch,
  getCredentialUse,
  getPayment,
  PaymentFailedError,
  PolicyDeniedError,
} from '@stipend/client';
import {
  createLightningNetwork,
  DEFAULT_L402_ROUTES,
  type L402Server,
  lightningFaults,
  startL402Server,
} from '@stipend/testkit/l402';
import { addCaveats, delegateL402Credential, readL402Token } from '@stipend/wallet-lightning';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingFetch, l402Adapter, payingSetup, policy, prices } from './helpers.js';

let skew = 0;
const now = () => Date.now() + skew;
const network = createLightningNetwork({ now });
let server: L402Server;

beforeAll(async () => {
  server = await startL402Server({
    network,
    now,
    routes: [
      ...DEFAULT_L402_ROUTES,
      // Short-lived tokens: `flash_valid_until` = mint time + 60 s.
      { method: 'GET', path: '/flash', service: 'flash', priceMsat: 20_000n, validForSeconds: 60 },
      // aperture's authskipinvoicecreationpaths: 401 without a challenge.
      {
        method: 'GET',
        path: '/members',
        service: 'members',
        priceMsat: 1_000n,
        skipInvoiceCreation: true,
      },
    ],
  });
});
afterAll(async () => {
  await server.close();
  network.close();
});

const paid = () => network.stats().succeeded;

describe('L402 end to end', () => {
  it('pays on the first call, then reuses the credential: one round trip, no payment', async () => {
    const { payingFetch, sent } = payingSetup(network, { now });
    const before = paid();
    const first = await payingFetch(`${server.url}/quote`);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ symbol: 'BTCUSD' });
    expect(getPayment(first)?.status).toBe('paid');
    expect(sent).toEqual(['GET /quote', 'GET /quote']);
    const reference = getPayment(first)!.record.reference;

    for (let i = 0; i < 4; i++) {
      const again = await payingFetch(`${server.url}/quote`);
      expect(again.status).toBe(200);
      expect(getPayment(again)).toBeUndefined();
      expect(getCredentialUse(again)).toEqual({ protocol: 'l402', reference });
    }
    expect(sent).toHaveLength(2 + 4);
    expect(paid() - before).toBe(1);
    // The one Authorization line aperture accepts, the token echoed as received.
    const token = server.challenges.at(-1)!.macaroon;
    expect(
      server.rejections.filter((r) => r.tokenId === server.challenges.at(-1)!.tokenId),
    ).toEqual([]);
    expect(readL402Token(token).services).toEqual([{ name: 'quotes', tier: 0 }]);
  });

  it('reuses a credential on another path of its service and buys another service once', async () => {
    const { payingFetch, sent } = payingSetup(network, { now });
    const before = paid();
    await payingFetch(`${server.url}/quote`);
    const echo = await payingFetch(`${server.url}/echo`, { method: 'POST', body: 'ping' });
    expect(await echo.text()).toBe('ping');
    expect(getCredentialUse(echo)?.protocol).toBe('l402');
    expect(paid() - before).toBe(1);

    // /report is another service: the quotes token is tried once, refused, then reports is bought.
    const report = await payingFetch(`${server.url}/report`);
    expect(report.status).toBe(200);
    expect(getPayment(report)?.status).toBe('paid');
    expect(paid() - before).toBe(2);
    // Both credentials stay usable, each on its own service: no more payments, one trip each.
    sent.length = 0;
    for (const path of ['/quote', '/report', '/quote', '/report']) {
      expect((await payingFetch(`${server.url}${path}`)).status).toBe(200);
    }
    expect(sent).toEqual(['GET /quote', 'GET /report', 'GET /quote', 'GET /report']);
    expect(paid() - before).toBe(2);
  });

  // Waits on the core: a call whose 402 arrives after the one purchase has finished (no
  // purchase in flight any more) must re-check held credentials before buying again.
  it('pays exactly once for 50 concurrent cold calls', async () => {
    const { payingFetch, decisions } = payingSetup(network, { now });
    const before = paid();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => payingFetch(`${server.url}/quote`)),
    );
    expect(responses.map((r) => r.status)).toEqual(new Array(50).fill(200));
    expect(paid() - before).toBe(1);
    expect(decisions).toHaveLength(1);
    expect(responses.filter((r) => getPayment(r)?.status === 'paid')).toHaveLength(1);
  });

  it('an expired credential (valid_until passed) leads to one new decision and one payment', async () => {
    const { payingFetch, decisions, sent } = payingSetup(network, { now });
    const before = paid();
    expect((await payingFetch(`${server.url}/flash`)).status).toBe(200);
    expect((await payingFetch(`${server.url}/flash`)).status).toBe(200);
    expect(paid() - before).toBe(1);
    skew += 61_000;
    try {
      sent.length = 0;
      const after = await payingFetch(`${server.url}/flash`);
      expect(after.status).toBe(200);
      expect(getPayment(after)?.status).toBe('paid');
      // Dropped before sending: no wasted round trip with the dead token.
      expect(sent).toEqual(['GET /flash', 'GET /flash']);
      expect(decisions).toHaveLength(2);
      expect(paid() - before).toBe(2);
    } finally {
      skew -= 61_000;
    }
  });

  it('a credential the server stops accepting (revoked) is dropped: one new decision, one payment', async () => {
    const { payingFetch, decisions, adapter } = payingSetup(network, { now });
    const before = paid();
    await payingFetch(`${server.url}/quote`);
    server.revokeToken(server.challenges.at(-1)!.tokenId);
    const after = await payingFetch(`${server.url}/quote`);
    expect(after.status).toBe(200);
    expect(getPayment(after)?.status).toBe('paid');
    expect(decisions).toHaveLength(2);
    expect(paid() - before).toBe(2);
    expect(adapter.credentials.list(server.url)).toHaveLength(1);
  });

  it('a 401 without a challenge is returned as is and never paid', async () => {
    const { payingFetch, decisions } = payingSetup(network, { now });
    const before = network.stats().attempts;
    const response = await payingFetch(`${server.url}/members`);
    expect(response.status).toBe(401);
    expect(decisions).toEqual([]);
    expect(network.stats().attempts).toBe(before);
  });

  it('timeout-then-settle pays once and still returns the resource', async () => {
    const { payingFetch } = payingSetup(network, { now });
    const before = network.stats();
    network.injectFault(lightningFaults.timeoutThenSettle({ settleAfterMs: 150 }));
    const response = await payingFetch(`${server.url}/quote`);
    expect(response.status).toBe(200);
    expect(getPayment(response)?.status).toBe('paid');
    const after = network.stats();
    expect(after.attempts - before.attempts).toBe(1);
    expect(after.succeeded - before.succeeded).toBe(1);
  });

  it('a wrong preimage is caught before the retry: money moved, nothing sent with it', async () => {
    const { payingFetch, sent } = payingSetup(network, { now });
    const rejectedBefore = server.stats().rejectedCredentials;
    network.injectFault(lightningFaults.wrongPreimage());
    const error = await payingFetch(`${server.url}/quote`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentFailedError);
    expect((error as PaymentFailedError).paid).toBe(true);
    expect((error as PaymentFailedError).code).toBe('WALLET_FAILED');
    expect(sent).toEqual(['GET /quote']);
    expect(server.stats().rejectedCredentials).toBe(rejectedBefore);
  });

  it('a sub-agent with an attenuated credential and no wallet: accepted when narrower, refused when it widens', async () => {
    const parent = payingSetup(network, { now });
    await parent.payingFetch(`${server.url}/quote`);
    const before = network.stats().attempts;

    const child = delegateL402Credential({
      from: parent.adapter.credentials,
      origin: server.url,
      services: ['quotes'],
      validUntil: new Date(now() + 10 * 60_000),
      caveats: ['agent=child-1'],
    });
    const childFetch = createPayingFetch({
      wallets: [],
      adapters: [l402Adapter({ credentials: child.store })],
      policy,
      prices,
    });
    const ok = await childFetch(`${server.url}/quote`);
    expect(ok.status).toBe(200);
    expect(getCredentialUse(ok)?.reference).toBe(child.credential.id);
    const plain = await fetch(`${server.url}/quote`, { headers: child.headers });
    expect(plain.status).toBe(200);

    // Widening by hand (a later services caveat naming more than the earlier one) is refused
    // by the server with a fresh 402; the child has no wallet, so nothing is paid.
    const widened = addCaveats(child.credential.token, ['services=quotes:0,reports:0']);
    const refused = await fetch(`${server.url}/report`, {
      headers: { authorization: `L402 ${widened}:${child.credential.preimage}` },
    });
    expect(refused.status).toBe(402);
    expect(server.rejections.at(-1)?.reason).toMatch(/not previously allowed/);
    const widenedFetch = createPayingFetch({
      wallets: [],
      adapters: [
        l402Adapter({
          credentials: delegateL402Credential({
            credential: { ...child.credential, token: widened },
          }).store,
        }),
      ],
      policy,
      prices,
    });
    const denied = await widenedFetch(`${server.url}/quote`).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PolicyDeniedError);
    expect(network.stats().attempts).toBe(before);
  });

  it('sends exactly one Authorization: L402 line with the token as received', async () => {
    const seen: string[] = [];
    const counter = countingFetch();
    const { payingFetch } = payingSetup(network, {
      now,
      config: {
        fetch: (input, init) => {
          const auth = new Headers(init?.headers).get('authorization');
          if (auth) seen.push(auth);
          return counter.fetch(input, init);
        },
      },
    });
    await payingFetch(`${server.url}/quote`);
    const challenge = server.challenges.at(-1)!;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(
      new RegExp(`^L402 ${challenge.macaroon.replace(/[+/=]/g, '\\$&')}:[0-9a-f]{64}$`),
    );
  });
});
