/**
 * Redirect attacks (invariant 4: a proof goes only to the origin that issued the challenge,
 * and the paid retry carries only what fetch itself would send to that origin). A seller
 * controls `Location` before the 402 and on the paid retry: another origin, a `data:` URL,
 * a loop, a method-changing status. Sellers A and B are separate origins; both record what
 * they received.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Seller, startSeller } from './sellers.test-helpers.js';
import {
  challenge402,
  countingWallet,
  end,
  payingFetchFor,
  receipt,
  TIMEOUT_MS,
  timed,
  typed,
} from './x402.test-helpers.js';

const CASE = { timeout: 10_000 };
const ENDS_WITHIN = TIMEOUT_MS * 4;

let a: Seller;
let b: Seller;
beforeAll(async () => {
  a = await startSeller();
  b = await startSeller();
});
afterAll(async () => {
  await a.close();
  await b.close();
});
beforeEach(() => {
  a.hits.length = 0;
  b.hits.length = 0;
  a.handler = (_hit, res) => res.writeHead(500).end();
  b.handler = (_hit, res) => res.writeHead(500).end();
});

/** The app's credentials for origin A. */
const APP_HEADERS = {
  authorization: 'Bearer app-secret-for-A',
  cookie: 'session=app-secret-for-A',
  'proxy-authorization': 'Basic YXBwOnNlY3JldA==',
  'x-app': 'kept',
};
const SECRETS = ['app-secret-for-A', 'YXBwOnNlY3JldA=='];

/** A 402 seller that accepts any proof with 200 and a receipt. */
function paywall(res: ServerResponse, proof: string | string[] | undefined, body = 'resource') {
  if (proof) res.writeHead(200, { 'payment-response': receipt() }).end(body);
  else res.writeHead(...challenge402()).end('{}');
}

function redirect(res: ServerResponse, status: number, location: string) {
  res.writeHead(status, { location }).end();
}

/** No app credential in anything this seller received. */
function expectNoAppCredential(seller: Seller) {
  const seen = JSON.stringify(seller.hits.map((hit) => hit.headers));
  for (const secret of SECRETS) expect(seen).not.toContain(secret);
  for (const hit of seller.hits) {
    expect(hit.headers.authorization).toBeUndefined();
    expect(hit.headers.cookie).toBeUndefined();
    expect(hit.headers['proxy-authorization']).toBeUndefined();
  }
}

describe('hostile redirects before the 402 (finding 7)', () => {
  it(
    'rule 4: a GET redirected to another origin that asks for payment: the paid retry carries no app Authorization, Cookie or Proxy-Authorization there',
    CASE,
    async () => {
      a.handler = (_hit, res) => redirect(res, 302, `${b.origin}/paid`);
      b.handler = (hit, res) => paywall(res, hit.headers['payment-signature']);
      const wallet = countingWallet();
      const ended = await end(
        payingFetchFor(wallet)(`${a.origin}/start`, { headers: APP_HEADERS }),
      );
      expect(wallet.signed.length).toBeLessThanOrEqual(1);
      expectNoAppCredential(b);
      // Whatever the outcome, the app's other headers are what fetch would send.
      if ('response' in ended && ended.response.status === 200) {
        expect(b.hits.at(-1)?.headers['x-app']).toBe('kept');
        expect(wallet.signed[0]?.origin).toBe(b.origin);
      }
    },
  );

  it(
    'rule 4: a POST redirected (302 → GET) to another origin’s 402 is refused with REDIRECTED_CHALLENGE, nothing signed, no proof anywhere',
    CASE,
    async () => {
      a.handler = (_hit, res) => redirect(res, 302, `${b.origin}/paid`);
      b.handler = (hit, res) => paywall(res, hit.headers['payment-signature']);
      const wallet = countingWallet();
      const ended = await end(
        payingFetchFor(wallet)(`${a.origin}/start`, {
          method: 'POST',
          body: '{"order":1}',
          headers: { ...APP_HEADERS, 'content-type': 'application/json' },
        }),
      );
      expect(typed(ended).code).toBe('REDIRECTED_CHALLENGE');
      expect(wallet.signed).toHaveLength(0);
      expect(b.hits.every((hit) => hit.headers['payment-signature'] === undefined)).toBe(true);
      expectNoAppCredential(b);
    },
  );

  it(
    'rule 4: a POST redirected within its own origin (307) is refused too (the response cannot say what fetch changed)',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/start') redirect(res, 307, '/paid');
        else paywall(res, hit.headers['payment-signature']);
      };
      const wallet = countingWallet();
      const ended = await end(
        payingFetchFor(wallet)(`${a.origin}/start`, { method: 'POST', body: 'x' }),
      );
      expect(typed(ended).code).toBe('REDIRECTED_CHALLENGE');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'a GET redirected within its own origin is paid with the app’s headers (they were meant for that origin)',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/old') redirect(res, 301, '/new');
        else paywall(res, hit.headers['payment-signature']);
      };
      const wallet = countingWallet();
      const ended = await end(payingFetchFor(wallet)(`${a.origin}/old`, { headers: APP_HEADERS }));
      if ('error' in ended) throw ended.error;
      expect(ended.response.status).toBe(200);
      expect(wallet.signed).toHaveLength(1);
      expect(a.hits.at(-1)?.headers.authorization).toBe(APP_HEADERS.authorization);
    },
  );

  it(
    'rule 4: the same server reached under another name (localhost vs 127.0.0.1) is another origin: no app credential follows',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/start') redirect(res, 302, `${a.otherName}/paid`);
        else paywall(res, hit.headers['payment-signature']);
      };
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/start`, { headers: APP_HEADERS }));
      expect(wallet.signed.length).toBeLessThanOrEqual(1);
      const later = a.hits.filter((hit) => hit.path === '/paid');
      for (const hit of later) expect(hit.headers.authorization).toBeUndefined();
      for (const hit of later) expect(hit.headers.cookie).toBeUndefined();
    },
  );

  it('a redirect to a data: URL before the 402 ends the call, nothing signed', CASE, async () => {
    a.handler = (_hit, res) => redirect(res, 302, 'data:text/plain,owned');
    const wallet = countingWallet();
    const { ended, ms } = await timed(payingFetchFor(wallet)(`${a.origin}/start`));
    expect(ms).toBeLessThan(ENDS_WITHIN);
    expect('error' in ended).toBe(true);
    expect(wallet.signed).toHaveLength(0);
  });

  it(
    'a redirect loop before the 402 ends the call (fetch’s 20 hops), nothing signed',
    CASE,
    async () => {
      a.handler = (_hit, res) => redirect(res, 302, '/loop');
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${a.origin}/loop`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect('error' in ended).toBe(true);
      expect(wallet.signed).toHaveLength(0);
      expect(a.hits.length).toBeLessThanOrEqual(21);
    },
  );
});

describe('hostile redirects on the paid retry', () => {
  it(
    'rule 4: a paid retry redirected to another origin: the proof and the app’s credentials stay at the paying origin',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature']) redirect(res, 302, `${b.origin}/elsewhere`);
        else res.writeHead(...challenge402()).end('{}');
      };
      b.handler = (_hit, res) => res.writeHead(200).end('from B');
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/paid`, { headers: APP_HEADERS }));
      expect(wallet.signed).toHaveLength(1);
      expectNoAppCredential(b);
      for (const hit of b.hits) expect(hit.headers['payment-signature']).toBeUndefined();
    },
  );

  it(
    'rule 4: A → B → A on the paid retry: what the cross-origin hop dropped is not sent again',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/paid' && hit.headers['payment-signature'])
          redirect(res, 307, `${b.origin}/bounce`);
        else if (hit.path === '/paid') res.writeHead(...challenge402()).end('{}');
        else res.writeHead(200).end('back');
      };
      b.handler = (_hit, res) => redirect(res, 307, `${a.origin}/back`);
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/paid`, { headers: APP_HEADERS }));
      const back = a.hits.filter((hit) => hit.path === '/back');
      expect(back.length).toBeLessThanOrEqual(1);
      for (const hit of back) {
        expect(hit.headers['payment-signature']).toBeUndefined();
        expect(hit.headers.authorization).toBeUndefined();
      }
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 4: a paid retry redirected to a data: URL ends with a typed REDIRECT_NOT_FOLLOWED, signed once, no forged content',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res
            .writeHead(302, { location: 'data:text/plain,forged', 'payment-response': receipt() })
            .end();
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const ended = await end(payingFetchFor(wallet)(`${a.origin}/paid`));
      expect(typed(ended).code).toBe('REDIRECT_NOT_FOLLOWED');
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 7: a redirect loop on the paid retry ends with a typed error after 20 hops, signed once',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/paid' && !hit.headers['payment-signature'])
          res.writeHead(...challenge402()).end('{}');
        else redirect(res, 307, '/loop');
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${a.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN * 2);
      expect(typed(ended).code).toBe('REDIRECT_NOT_FOLLOWED');
      expect(wallet.signed).toHaveLength(1);
      expect(a.hits.length).toBeLessThanOrEqual(2 + 20);
    },
  );

  it(
    'fetch’s 303 rule on the paid retry: the next hop is a GET without body or Content-Type',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.path === '/paid' && hit.headers['payment-signature'])
          res.writeHead(303, { location: '/result', 'payment-response': receipt() }).end();
        else if (hit.path === '/paid') res.writeHead(...challenge402()).end('{}');
        else res.writeHead(200).end('result');
      };
      const wallet = countingWallet();
      const ended = await end(
        payingFetchFor(wallet)(`${a.origin}/paid`, {
          method: 'POST',
          body: '{"q":1}',
          headers: { 'content-type': 'application/json' },
        }),
      );
      if ('error' in ended) throw ended.error;
      const result = a.hits.find((hit) => hit.path === '/result');
      expect(result?.method).toBe('GET');
      expect(result?.body).toBe('');
      expect(result?.headers['content-type']).toBeUndefined();
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'a 304 with Location on the paid retry is not a redirect (only 301/302/303/307/308 are)',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(304, { location: `${b.origin}/x`, 'payment-response': receipt() }).end();
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/paid`, { headers: APP_HEADERS }));
      expect(b.hits).toHaveLength(0);
      expect(wallet.signed).toHaveLength(1);
    },
  );
});
