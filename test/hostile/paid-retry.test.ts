/**
 * Attacks on what happens after the proof is sent (invariants 2, 4, 8 and the purchase
 * lifecycle): the seller answers the paid retry with another 402, a 500, a receipt that lies
 * about the amount or the payee, or sets cookies. The seller's words never release money that
 * can still move, never make the client pay twice, and never decide what is recorded.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Seller, startSeller } from './sellers.test-helpers.js';
import {
  b64,
  challenge402,
  countingWallet,
  end,
  PAY_TO,
  payingFetchFor,
  paymentRequired,
  receipt,
  requirement,
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
});

/** A policy that allows exactly one cent a day. */
const ONE_CENT_A_DAY = {
  global: {
    maxPerRequest: { usd: '0.05' },
    limits: [{ usd: '0.01', window: { calendar: 'day' as const } }],
  },
};

/** A refusal of the proof with fresh terms, as x402 servers send it. */
function refusal(error = 'invalid_exact_evm_payload_signature') {
  return paymentRequired([requirement()], { error });
}

describe('hostile answers to the paid retry', () => {
  it(
    'rule 2: a 402 on the paid retry ends typed and is never paid again in the same call',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(402, { 'payment-required': refusal() }).end('{}');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${a.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      typed(ended);
      expect(wallet.signed).toHaveLength(1);
      expect(a.hits.filter((hit) => hit.headers['payment-signature'])).toHaveLength(1);
    },
  );

  it(
    'finding 2: a refusal does not release money that can still move: with one cent a day, the next call is denied',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(402, { 'payment-required': refusal() }).end('{}');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet, { policy: ONE_CENT_A_DAY });
      await end(payingFetch(`${a.origin}/paid`));
      const second = await end(payingFetch(`${a.origin}/other`));
      expect(typed(second).code).toBe('POLICY_DENIED');
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 2: a 402 answered to every proof, called 5 times with one idempotency key: signed once',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(402, { 'payment-required': refusal() }).end('{}');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      for (let i = 0; i < 5; i++) {
        await end(payingFetch(`${a.origin}/paid`, { payment: { idempotencyKey: 'order-1' } }));
      }
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 6: a 500 on the paid retry holds the outcome as unknown (typed, paid: unknown) and the URL is not signed again',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature']) res.writeHead(500).end('oops');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      const first = await end(payingFetch(`${a.origin}/paid`));
      expect((typed(first) as { paid?: unknown }).paid).toBe('unknown');
      await end(payingFetch(`${a.origin}/paid`));
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 8: a 200 whose receipt claims a smaller amount commits what was signed: two cents a day allow two calls, never three',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(200, { 'payment-response': receipt({ amount: '1' }) }).end('ok');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet, {
        policy: {
          global: {
            maxPerRequest: { usd: '0.05' },
            limits: [{ usd: '0.02', window: { calendar: 'day' } }],
          },
        },
      });
      const outcomes = [];
      for (let i = 0; i < 3; i++) outcomes.push(await end(payingFetch(`${a.origin}/r${i}`)));
      expect(wallet.signed).toHaveLength(2);
      expect(typed(outcomes[2]!).code).toBe('POLICY_DENIED');
    },
  );

  it(
    'rule 8: a receipt naming another payee, payer and network changes nothing recorded: the ledger has the payee that was signed',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res
            .writeHead(200, {
              'payment-response': receipt({
                payer: '0x0000000000000000000000000000000000000bad',
                payTo: '0x000000000000000000000000000000000000dead',
                network: 'eip155:1',
                amount: '1',
              }),
            })
            .end('ok');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      const ended = await end(payingFetch(`${a.origin}/paid`));
      if ('error' in ended) throw ended.error;
      const records = await payingFetch.ledger.list();
      expect(records).toHaveLength(1);
      expect(records[0]!.payee).toBe(PAY_TO);
      expect(records[0]!.network).toBe('eip155:84532');
      expect(records[0]!.amount.value).toBe(10_000n);
      expect(records[0]!.committedUsdMicros).toBe(10_000n);
    },
  );

  it('a receipt header of junk base64 on a 200 ends the call, signed once', CASE, async () => {
    a.handler = (hit, res) => {
      if (hit.headers['payment-signature'])
        res.writeHead(200, { 'payment-response': `${b64('{"success":tru')}!!` }).end('ok');
      else res.writeHead(...challenge402()).end('{}');
    };
    const wallet = countingWallet();
    const { ms } = await timed(payingFetchFor(wallet)(`${a.origin}/paid`));
    expect(ms).toBeLessThan(ENDS_WITHIN);
    expect(wallet.signed).toHaveLength(1);
  });

  it(
    'a receipt with success:false on a 200 ends typed, and the same key is not signed again',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res
            .writeHead(200, {
              'payment-response': receipt({ success: false, errorReason: 'unexpected_error' }),
            })
            .end('ok');
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      const first = await end(
        payingFetch(`${a.origin}/paid`, { payment: { idempotencyKey: 'k' } }),
      );
      typed(first);
      await end(payingFetch(`${a.origin}/paid`, { payment: { idempotencyKey: 'k' } }));
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 4: cookies a seller sets are never sent by the paid retry, nor to another origin',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res
            .writeHead(200, {
              'payment-response': receipt(),
              'set-cookie': ['paid=1; Path=/', 'tracker=a; Domain=127.0.0.1; Path=/'],
            })
            .end('ok');
        else
          res
            .writeHead(402, {
              'payment-required': paymentRequired(),
              'set-cookie': 'challenge=secret-from-402; Path=/',
            })
            .end('{}');
      };
      b.handler = (_hit, res) => res.writeHead(200).end('b');
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      await end(payingFetch(`${a.origin}/paid`));
      await end(payingFetch(`${b.origin}/free`));
      for (const hit of [...a.hits, ...b.hits]) expect(hit.headers.cookie).toBeUndefined();
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 4: a seller asking the paid retry to carry a header (Vary, Access-Control-*) adds nothing to it',
    CASE,
    async () => {
      a.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(200, { 'payment-response': receipt() }).end();
        else
          res
            .writeHead(402, {
              'payment-required': paymentRequired(),
              vary: 'Authorization, Cookie',
              'access-control-allow-headers': 'authorization, cookie',
              'access-control-allow-credentials': 'true',
            })
            .end('{}');
      };
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/paid`));
      const paid = a.hits.find((hit) => hit.headers['payment-signature']);
      expect(paid?.headers.authorization).toBeUndefined();
      expect(paid?.headers.cookie).toBeUndefined();
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'invariant 4: the proof goes only to the origin that asked, never to the one the app called first',
    CASE,
    async () => {
      a.handler = (_hit, res) => res.writeHead(302, { location: `${b.origin}/paid` }).end();
      b.handler = (hit, res) => {
        if (hit.headers['payment-signature'])
          res.writeHead(200, { 'payment-response': receipt() }).end();
        else res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      await end(payingFetchFor(wallet)(`${a.origin}/start`));
      for (const hit of a.hits) expect(hit.headers['payment-signature']).toBeUndefined();
      expect(wallet.signed.length).toBeLessThanOrEqual(1);
    },
  );
});
