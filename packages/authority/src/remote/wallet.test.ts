import { WalletError } from '@stipend/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  manualClock,
  payRequest,
  START,
  testAuthority,
  testOffer,
} from '../authority/fixtures.test-helpers.js';
import { type AuthorityServer, startAuthorityServer } from '../authority/server.js';
import { DelegationExceededError } from './errors.js';
import { attenuate } from './token.js';
import { REMOTE_RAILS, remoteWallet } from './wallet.js';

const setup = testAuthority();
let server: AuthorityServer;
const calls: string[] = [];
const countingFetch: typeof fetch = (input, init) => {
  calls.push(String(input));
  return fetch(input, init);
};

beforeAll(async () => {
  server = await startAuthorityServer(setup.authority);
});
afterAll(() => server.close());

function context(
  offer: { resource: string },
  key = `k-${Math.random()}`,
  reservationId = `r-${Math.random()}`,
) {
  return {
    request: { method: 'GET', url: offer.resource },
    idempotencyKey: key,
    maxAuthorizationTtlSec: 300,
    reservationId,
    now: START,
  };
}

describe('remoteWallet', () => {
  it('advertises the key-free rails, narrowed by the token', () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    expect(remoteWallet({ url: server.url, token, now: setup.clock.now }).rails).toEqual(
      REMOTE_RAILS,
    );
    expect(REMOTE_RAILS.some((rail) => rail.startsWith('l402'))).toBe(false);
    const x402Only = setup.authority.mint({ totalUsd: '1', protocols: ['x402'] });
    expect(remoteWallet({ url: server.url, token: x402Only, now: setup.clock.now }).rails).toEqual([
      'x402:exact',
      'x402:upto',
    ]);
    const custom = remoteWallet({
      url: server.url,
      token,
      rails: ['stipend-test:charge'],
      now: setup.clock.now,
    });
    expect(custom.rails).toEqual(['stipend-test:charge']);
    expect(custom.id).toMatch(/^remote:[0-9a-f]{8}$/);
  });

  it('refuses locally (no call to the authority) what the caveats exclude', async () => {
    const clock = manualClock();
    const token = setup.authority.mint({
      totalUsd: '1',
      perRequestUsd: '0.01',
      hosts: ['api.example.com'],
      expiresAt: START + 60_000,
    });
    const wallet = remoteWallet({ url: server.url, token, fetch: countingFetch, now: clock.now });
    const before = calls.length;
    expect(await wallet.canPay(testOffer(10_000n))).toBe(true);
    expect(await wallet.canPay(testOffer(10_001n))).toMatch(/^DELEGATION_EXCEEDED: /);
    expect(await wallet.canPay(testOffer(1n, { origin: 'https://evil.example' }))).toMatch(
      /^DELEGATION_OUT_OF_SCOPE: /,
    );
    expect(await wallet.canPay(testOffer(1n, { protocol: 'l402', scheme: 'bolt11' }))).toMatch(
      /^DELEGATION_RAIL_REFUSED: .*preimage/,
    );
    clock.advance(60_000);
    expect(await wallet.canPay(testOffer(1n))).toMatch(/^DELEGATION_EXPIRED: /);
    const error = await wallet.pay(testOffer(1n), context(testOffer(1n))).catch((e) => e);
    expect(error).toBeInstanceOf(WalletError);
    expect((error as WalletError).code).toBe('DELEGATION_EXPIRED');
    expect((error as WalletError).paid).toBe(false);
    expect(calls.length).toBe(before);
  });

  it('pays through the authority and returns its proof', async () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    const wallet = remoteWallet({
      url: `${server.url}/`,
      token,
      rails: ['stipend-test:charge'],
      now: setup.clock.now,
    });
    const offer = testOffer(10_000n);
    const proof = await wallet.pay(offer, context(offer));
    expect(proof.offerId).toBe(offer.id);
    expect(proof.reference).toMatch(/^ref_/);
    expect(Object.isFrozen(proof)).toBe(true);
    expect(await wallet.lookup!(proof.reference, offer)).toBe('pending');
    const status = await wallet.status();
    expect(status.scopes[0]?.heldUsdMicros).toBe(10_000n);
  });

  it("turns the authority's refusals into WalletErrors with its code and typed cause", async () => {
    const root = setup.authority.mint({ totalUsd: '0.05' });
    const token = attenuate(root, { totalUsd: '0.02' });
    const wallet = remoteWallet({ url: server.url, token, now: setup.clock.now });
    const offer = testOffer(30_000n);
    // Locally the wallet cannot know the spend so far; the authority counts it.
    expect(await wallet.canPay(offer)).toBe(true);
    const error = (await wallet.pay(offer, context(offer)).catch((e) => e)) as WalletError;
    expect(error).toBeInstanceOf(WalletError);
    expect(error.code).toBe('DELEGATION_EXCEEDED');
    expect(error.paid).toBe(false);
    expect(error.cause).toBeInstanceOf(DelegationExceededError);
    expect(error.shortMessage).toMatch(/\$0\.02 total of this delegation token/);
  });

  it('reports paid: false when the authority is unreachable, unknown when its answer is unreadable', async () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    const closed = await startAuthorityServer(setup.authority);
    await closed.close();
    const offline = remoteWallet({ url: closed.url, token, now: setup.clock.now });
    const offer = testOffer(1n);
    const refused = (await offline.pay(offer, context(offer)).catch((e) => e)) as WalletError;
    expect(refused.paid).toBe(false);

    const garbled = remoteWallet({
      url: server.url,
      token,
      now: setup.clock.now,
      fetch: async () => new Response('<html>bad gateway</html>', { status: 502 }),
    });
    const unknown = (await garbled
      .pay(offer, context(offer, 'key-1', 'r1'))
      .catch((e) => e)) as WalletError;
    expect(unknown.paid).toBe('unknown');
    expect(unknown.reference).toBe('idem:key-1 #r1');

    const wrongProof = remoteWallet({
      url: server.url,
      token,
      now: setup.clock.now,
      fetch: async () =>
        Response.json({
          proof: { offerId: 'other', reference: 'r', settlement: 'final', secret: 's' },
        }),
    });
    const mismatch = (await wrongProof.pay(offer, context(offer)).catch((e) => e)) as WalletError;
    expect(mismatch.paid).toBe('unknown');
  });

  it('gives up on an authority that does not answer in time', async () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    const slow = remoteWallet({
      url: server.url,
      token,
      now: setup.clock.now,
      timeoutMs: 30,
      fetch: (_input, init) =>
        new Promise((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    });
    const offer = testOffer(1n);
    const error = (await slow.pay(offer, context(offer, 'slow')).catch((e) => e)) as WalletError;
    expect(error.paid).toBe('unknown');
    expect(error.message).toMatch(/within 30 ms/);
  });

  it('refuses a malformed token at creation', () => {
    expect(() => remoteWallet({ url: server.url, token: 'bm90IGEgdG9rZW4=' })).toThrow(
      /not a Stipend delegation token/,
    );
  });

  it('sends the token only to the authority URL it was given', async () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    const seen: string[] = [];
    const wallet = remoteWallet({
      url: server.url,
      token,
      now: setup.clock.now,
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    });
    const offer = testOffer(1n);
    await wallet.pay(offer, context(offer));
    await wallet.lookup!('idem:none', offer);
    expect(seen).toEqual([`${server.url}/v1/pay`, `${server.url}/v1/lookup`]);
  });

  it('keys idempotency per payment attempt (purchase key + reservation id)', async () => {
    const token = setup.authority.mint({ totalUsd: '1' });
    const offer = testOffer(10_000n);
    const payments = setup.rail.payments().length;
    const a = await setup.authority.pay(token, payRequest(offer, { key: 'GET /x #r-1' }));
    const wallet = remoteWallet({ url: server.url, token, now: setup.clock.now });
    // The same attempt asked again (a lost answer, say): the same proof, no new payment.
    const b = await wallet.pay(offer, context(offer, 'GET /x', 'r-1'));
    expect(b.reference).toBe(a.reference);
    expect(setup.rail.payments()).toHaveLength(payments + 1);
    // A later purchase of the same URL (same purchase key, new reservation) pays again.
    const c = await wallet.pay(offer, context(offer, 'GET /x', 'r-2'));
    expect(c.reference).not.toBe(a.reference);
    expect(setup.rail.payments()).toHaveLength(payments + 2);
    expect(await wallet.lookup!('idem:GET /x #r-2', offer)).toBe('pending');
  });
});
