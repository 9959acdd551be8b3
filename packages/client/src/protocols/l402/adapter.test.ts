import { describe, expect, it } from 'vitest';
import { StipendError } from '../../errors/base.js';
import { ChallengeParseError } from '../../errors/challenge.js';
import type { PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type { RetryRequest } from '../adapter.js';
import { l402Adapter } from './adapter.js';
import { memoryCredentialStore } from './credentials.js';
import { challengeInput, type Minted, mint } from './l402.test-helpers.js';

const ORIGIN = 'https://api.example.com';

function request(path: string, headers: HeadersInit = {}): RetryRequest {
  return {
    method: 'GET',
    url: new URL(path, ORIGIN),
    headers: new Headers(headers),
    idempotencyKey: `GET ${path}`,
  };
}

function proof(offer: PaymentOffer, preimage: string): Proof {
  return { offerId: offer.id, reference: 'r', settlement: 'final', secret: { preimage } };
}

async function offerFor(adapter: ReturnType<typeof l402Adapter>, minted: Minted, path: string) {
  const lines = [`L402 macaroon="${minted.macaroon}", invoice="${minted.invoice}"`];
  const [offer] = await adapter.parse(challengeInput(lines, ORIGIN + path));
  return offer!;
}

/** Pays (in test) for `path`: parse, then the core's `remember` after an accepted retry. */
async function paid(adapter: ReturnType<typeof l402Adapter>, minted: Minted, path: string) {
  const offer = await offerFor(adapter, minted, path);
  adapter.remember!(offer, proof(offer, minted.preimage), request(path), new Response('ok'));
  return offer;
}

describe('l402Adapter proof', () => {
  it('builds exactly one Authorization line with the token as received and lowercase hex', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    const headers = adapter.proofHeaders(
      offer,
      proof(offer, minted.preimage.toUpperCase()),
      request('/quote'),
    );
    expect(headers).toEqual({ authorization: `L402 ${minted.macaroon}:${minted.preimage}` });
  });

  it('refuses a proof without a 32-byte hex preimage', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    expect(() => adapter.proofHeaders(offer, proof(offer, 'abcd'), request('/quote'))).toThrow(
      StipendError,
    );
  });

  it('settles 2xx as accepted and 401/402 as rejected with money moved', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    const p = proof(offer, minted.preimage);
    expect(adapter.settle(offer, p, new Response('ok'))).toEqual({ kind: 'accepted' });
    expect(adapter.settle(offer, p, new Response('x', { status: 500 }))).toEqual({
      kind: 'accepted',
    });
    for (const status of [401, 402]) {
      expect(adapter.settle(offer, p, new Response('no', { status }))).toMatchObject({
        kind: 'rejected',
        reason: 'verification_failed',
        moneyMoved: 'yes',
      });
    }
  });
});

describe('l402Adapter credential reuse', () => {
  it('holds a paid credential for the path where it was accepted', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    expect(adapter.heldCredential!(request('/quote'), Date.now())).toBeUndefined();
    await paid(adapter, minted, '/quote');
    const held = adapter.heldCredential!(request('/quote'), Date.now())!;
    expect(held.headers).toEqual({ authorization: `L402 ${minted.macaroon}:${minted.preimage}` });
    expect(held.reference).toBe(minted.paymentHash);
    expect(held.key.startsWith('path ')).toBe(true);
    // Never to another origin, never over an application's own Authorization header.
    const other: RetryRequest = {
      ...request('/quote'),
      url: new URL('https://evil.example/quote'),
    };
    expect(adapter.heldCredential!(other, Date.now())).toBeUndefined();
    expect(
      adapter.heldCredential!(request('/quote', { authorization: 'Bearer x' }), Date.now()),
    ).toBeUndefined();
  });

  it('matches by the services caveat on other paths of the same service, not of another', async () => {
    const adapter = l402Adapter();
    const quotes = mint({ caveats: ['services=quotes:0'] });
    await paid(adapter, quotes, '/quote');
    // The 402s seen for /echo (quotes) and /report (reports) taught the adapter their services.
    await offerFor(adapter, mint({ caveats: ['services=quotes:0'] }), '/api/echo');
    await offerFor(adapter, mint({ caveats: ['services=reports:0'] }), '/report');
    const echo = adapter.heldCredential!(request('/api/echo'), Date.now())!;
    expect(echo.key.startsWith('service ')).toBe(true);
    expect(echo.reference).toBe(quotes.paymentHash);
    expect(adapter.heldCredential!(request('/report'), Date.now())).toBeUndefined();
  });

  it('tries a credential speculatively under the accepted path prefix; a 402 there keeps it', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    await paid(adapter, minted, '/v1/quote');
    const guess = adapter.heldCredential!(request('/v1/other'), Date.now())!;
    expect(guess.key.startsWith('prefix ')).toBe(true);
    expect(adapter.heldCredential!(request('/v2/other'), Date.now())).toBeUndefined();
    adapter.dropCredential!(guess, new URL(`${ORIGIN}/v1/other`));
    // Not tried again where it failed, still used where it was accepted.
    expect(adapter.heldCredential!(request('/v1/other'), Date.now())).toBeUndefined();
    expect(adapter.heldCredential!(request('/v1/quote'), Date.now())?.reference).toBe(
      minted.paymentHash,
    );
  });

  it('forgets a credential that was refused where it had been accepted', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    await paid(adapter, minted, '/quote');
    adapter.dropCredential!(
      adapter.heldCredential!(request('/quote'), Date.now())!,
      new URL(`${ORIGIN}/quote`),
    );
    expect(adapter.heldCredential!(request('/quote'), Date.now())).toBeUndefined();
    expect(adapter.credentials.list(ORIGIN)).toEqual([]);
  });

  it('a credential refused at another route of its origin is kept for its own routes and never sent there again', async () => {
    const adapter = l402Adapter();
    const basic = mint({ caveats: ['services=quotes:0'] });
    await paid(adapter, basic, '/quote');
    // /premium belongs to the same service (another tier): the credential is tried there.
    await offerFor(adapter, mint({ caveats: ['services=quotes:1'] }), '/premium');
    const tried = adapter.heldCredential!(request('/premium'), Date.now())!;
    expect(tried.reference).toBe(basic.paymentHash);
    adapter.dropCredential!(tried, new URL(`${ORIGIN}/premium`));
    // Not sent to /premium again (its own 402 is bought separately)…
    expect(adapter.heldCredential!(request('/premium'), Date.now())).toBeUndefined();
    // …and still held where it was accepted.
    expect(adapter.heldCredential!(request('/quote'), Date.now())?.reference).toBe(
      basic.paymentHash,
    );
    expect(adapter.credentials.list(ORIGIN)[0]?.refused).toEqual(['/premium']);
  });

  it('a same-origin redirect to another route that refuses the credential keeps it', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    await paid(adapter, minted, '/quote');
    const held = adapter.heldCredential!(request('/quote'), Date.now())!;
    adapter.dropCredential!(held, new URL(`${ORIGIN}/login`));
    expect(adapter.heldCredential!(request('/quote'), Date.now())?.reference).toBe(
      minted.paymentHash,
    );
  });

  it('a refusal from another origin (after a redirect) keeps the credential untouched', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    await paid(adapter, minted, '/quote');
    const before = adapter.credentials.list(ORIGIN);
    const held = adapter.heldCredential!(request('/quote'), Date.now())!;
    adapter.dropCredential!(held, new URL('https://cdn.example.net/quote'));
    expect(adapter.credentials.list(ORIGIN)).toEqual(before);
    expect(adapter.heldCredential!(request('/quote'), Date.now())?.reference).toBe(
      minted.paymentHash,
    );
  });

  it('a route accepting a credential it had refused clears the refusal', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    await paid(adapter, minted, '/quote');
    adapter.dropCredential!(
      adapter.heldCredential!(request('/quote'), Date.now())!,
      new URL(`${ORIGIN}/other`),
    );
    expect(adapter.credentials.list(ORIGIN)[0]?.refused).toEqual(['/other']);
    await paid(adapter, minted, '/other');
    expect(adapter.credentials.list(ORIGIN)[0]?.refused).toBeUndefined();
    expect(adapter.heldCredential!(request('/other'), Date.now())?.reference).toBe(
      minted.paymentHash,
    );
  });

  it('drops a credential once its *_valid_until caveat has passed', async () => {
    const adapter = l402Adapter();
    const minted = mint({ caveats: ['services=quotes:0', 'quotes_valid_until=1800000000'] });
    await paid(adapter, minted, '/quote');
    expect(adapter.heldCredential!(request('/quote'), 1_799_999_999_000)).toBeDefined();
    expect(adapter.heldCredential!(request('/quote'), 1_800_000_000_000)).toBeUndefined();
    expect(adapter.credentials.list(ORIGIN)).toEqual([]);
  });

  it('prefers the newest credential and keeps at most maxCredentialsPerOrigin', async () => {
    const adapter = l402Adapter({ maxCredentialsPerOrigin: 2 });
    const [a, b, c] = [mint(), mint(), mint()];
    await paid(adapter, a, '/quote');
    await paid(adapter, b, '/quote');
    expect(adapter.heldCredential!(request('/quote'), Date.now())?.reference).toBe(b.paymentHash);
    await paid(adapter, c, '/quote');
    expect(adapter.credentials.list(ORIGIN).map((x) => x.id)).toEqual([
      b.paymentHash,
      c.paymentHash,
    ]);
  });

  it('keeps a credential refused right after payment (settlement race) for one more try', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    adapter.settle(offer, proof(offer, minted.preimage), new Response('wait', { status: 402 }));
    expect(adapter.heldCredential!(request('/quote'), Date.now())?.reference).toBe(
      minted.paymentHash,
    );
  });

  it('stops paying an origin that refuses a freshly paid credential twice (402 loop)', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    adapter.settle(offer, proof(offer, minted.preimage), new Response('no', { status: 402 }));
    // Tried again on the next request and refused again: the origin is looping.
    adapter.dropCredential!(
      adapter.heldCredential!(request('/quote'), Date.now())!,
      new URL(`${ORIGIN}/quote`),
    );
    const error = await Promise.resolve()
      .then(() => offerFor(adapter, mint(), '/quote'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(/402 loop/);
    // Another origin is unaffected.
    const other = challengeInput(
      [`L402 macaroon="${minted.macaroon}", invoice="${minted.invoice}"`],
      'https://other.example/quote',
    );
    expect(await adapter.parse(other)).toHaveLength(1);
  });

  it('a settlement race (refused once, accepted next) does not trip the loop guard', async () => {
    const adapter = l402Adapter();
    const minted = mint();
    const offer = await offerFor(adapter, minted, '/quote');
    adapter.settle(offer, proof(offer, minted.preimage), new Response('wait', { status: 402 }));
    expect(adapter.heldCredential!(request('/quote'), Date.now())).toBeDefined();
    // (accepted: no drop) — a later 402 on another service is a new purchase as usual.
    expect(
      await offerFor(adapter, mint({ caveats: ['services=reports:0'] }), '/report'),
    ).toBeDefined();
  });

  it('single-flights per origin and services', async () => {
    const adapter = l402Adapter();
    const a = await offerFor(adapter, mint({ caveats: ['services=reports:0,quotes:1'] }), '/x');
    const b = await offerFor(adapter, mint({ caveats: ['services=quotes:0,reports:2'] }), '/y');
    const c = await offerFor(adapter, mint({ caveats: ['services=quotes:0'] }), '/z');
    expect(adapter.reuseKey!(a)).toBe('l402 https://api.example.com quotes,reports');
    expect(adapter.reuseKey!(b)).toBe(adapter.reuseKey!(a));
    expect(adapter.reuseKey!(c)).toBe('l402 https://api.example.com quotes');
  });

  it('does nothing of the sort with reuse: false', async () => {
    const adapter = l402Adapter({ reuse: false });
    const minted = mint();
    const offer = await paid(adapter, minted, '/quote');
    expect(adapter.heldCredential!(request('/quote'), Date.now())).toBeUndefined();
    expect(adapter.reuseKey!(offer)).toBeUndefined();
  });

  it('reads credentials a parent put in a shared store (delegation)', () => {
    const minted = mint();
    const store = memoryCredentialStore([
      {
        id: minted.paymentHash,
        origin: ORIGIN,
        token: minted.macaroon,
        preimage: minted.preimage,
        services: ['quotes'],
        paths: ['/quote'],
        createdAt: 1,
      },
    ]);
    const child = l402Adapter({ credentials: store });
    expect(child.heldCredential!(request('/quote'), Date.now())?.headers.authorization).toBe(
      `L402 ${minted.macaroon}:${minted.preimage}`,
    );
  });
});
