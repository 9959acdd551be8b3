/**
 * Timing attacks (invariant 7: every read and every request has a deadline; every call
 * ends). A seller controls when each byte arrives: it can drip, stall, never answer, or
 * answer just after the caller gave up. Each case ends within a bound, signs nothing beyond
 * policy (counted at the wallet) and ends with a typed error.
 */
import type { PaymentInit } from '@stipend/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  drip,
  type RawSeller,
  type Seller,
  startRawSeller,
  startSeller,
} from './sellers.test-helpers.js';
import {
  challenge402,
  countingWallet,
  payingFetchFor,
  receipt,
  sleep,
  TIMEOUT_MS,
  timed,
  typed,
  v1Body,
} from './x402.test-helpers.js';

/** A call bounded by TIMEOUT_MS must end well within this (ms). */
const ENDS_WITHIN = TIMEOUT_MS * 4;
const CASE = { timeout: 10_000 };

let seller: Seller;
let raw: RawSeller;
const stops: (() => void)[] = [];
beforeAll(async () => {
  seller = await startSeller();
  raw = await startRawSeller();
});
afterAll(async () => {
  await seller.close();
  await raw.close();
});
beforeEach(() => {
  seller.hits.length = 0;
  raw.heads.length = 0;
  for (const stop of stops.splice(0)) stop();
});

/** Answers the proof with 200 and a receipt; anything else with `first`. */
function payOnProof(first: (res: import('node:http').ServerResponse) => void) {
  seller.handler = (hit, res) => {
    if (hit.headers['payment-signature']) {
      res.writeHead(200, { 'payment-response': receipt() }).end('ok');
      return;
    }
    first(res);
  };
}

describe('hostile timing: every call ends', () => {
  it(
    'rule 7, first send: a seller that never answers ends the call with TIMEOUT, nothing signed',
    CASE,
    async () => {
      seller.handler = () => {};
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(typed(ended).code).toBe('TIMEOUT');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'rule 7, first send: headers that arrive one byte at a time end the call with TIMEOUT, nothing signed',
    CASE,
    async () => {
      raw.onRequest = (socket) => {
        stops.push(
          drip((byte) => socket.write(byte), 30, 'HTTP/1.1 402 Payment Required\r\nx-a: '),
        );
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${raw.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(typed(ended).code).toBe('TIMEOUT');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'rule 7, 402 body: terms in a body that drips one byte at a time end with TIMEOUT, nothing signed',
    CASE,
    async () => {
      seller.handler = (_hit, res) => {
        res.writeHead(402, { 'content-type': 'application/json' });
        res.write(v1Body().slice(0, 20));
        stops.push(drip((byte) => res.write(byte), 20));
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(typed(ended).code).toBe('TIMEOUT');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'rule 7, 402 body: a body that never sends a byte and never ends: TIMEOUT, nothing signed',
    CASE,
    async () => {
      seller.handler = (_hit, res) => {
        res.writeHead(402, { 'content-type': 'application/json' });
        res.flushHeaders();
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect(typed(ended).code).toBe('TIMEOUT');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'terms in the headers are not held hostage by a 402 body that never ends: paid once, the call ends',
    CASE,
    async () => {
      payOnProof((res) => {
        res.writeHead(...challenge402());
        stops.push(drip((byte) => res.write(byte), 20));
      });
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      if ('error' in ended) throw ended.error;
      expect(ended.response.status).toBe(200);
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 7: a 402 that arrives after the deadline is never paid, not even late',
    CASE,
    async () => {
      seller.handler = (_hit, res) => {
        setTimeout(() => {
          try {
            res.writeHead(...challenge402()).end('{}');
          } catch {}
        }, TIMEOUT_MS + 300);
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(TIMEOUT_MS + 300);
      expect(typed(ended).code).toBe('TIMEOUT');
      await sleep(600);
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it(
    'rule 7, paid retry: a seller that never answers the proof ends the call (outcome unknown, typed), signed once',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) return;
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      const { ended, ms } = await timed(payingFetch(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      const error = typed(ended);
      expect((error as { paid?: unknown }).paid).toBe('unknown');
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 6, after an unknown outcome the same URL is not signed again before reconciliation',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) return;
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const payingFetch = payingFetchFor(wallet);
      await timed(payingFetch(`${seller.origin}/paid`));
      const second = await timed(payingFetch(`${seller.origin}/paid`));
      expect(second.ms).toBeLessThan(ENDS_WITHIN);
      typed(second.ended);
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 7, paid retry: a refusal (402) whose v1 body drips ends the call, signed once, typed',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) {
          res.writeHead(402, { 'content-type': 'application/json' });
          res.write('{"x402Version":1,');
          stops.push(drip((byte) => res.write(byte), 20));
          return;
        }
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      typed(ended);
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'rule 7, paid retry: headers that arrive after the deadline: the call ends, typed, signed once',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) {
          setTimeout(() => {
            try {
              res.writeHead(200, { 'payment-response': receipt() }).end('late');
            } catch {}
          }, TIMEOUT_MS + 400);
          return;
        }
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(TIMEOUT_MS + 400);
      typed(ended);
      expect(wallet.signed).toHaveLength(1);
    },
  );

  it(
    'the deadline bounds what Stipend reads, not the caller’s stream: a paid 200 whose body streams slowly is returned',
    CASE,
    async () => {
      seller.handler = (hit, res) => {
        if (hit.headers['payment-signature']) {
          res.writeHead(200, { 'payment-response': receipt() });
          res.write('chunk');
          stops.push(drip((byte) => res.write(byte), 50));
          return;
        }
        res.writeHead(...challenge402()).end('{}');
      };
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${seller.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      if ('error' in ended) throw ended.error;
      expect(ended.response.status).toBe(200);
      expect(wallet.signed).toHaveLength(1);
      await ended.response.body?.cancel();
    },
  );

  it(
    'the caller’s AbortSignal ends a stalled first send with the caller’s reason, nothing signed',
    CASE,
    async () => {
      seller.handler = () => {};
      const wallet = countingWallet();
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('caller gave up')), 50);
      const { ended, ms } = await timed(
        payingFetchFor(wallet, { timeoutMs: 60_000 })(`${seller.origin}/paid`, {
          signal: controller.signal,
        }),
      );
      expect(ms).toBeLessThan(2_000);
      expect('error' in ended && (ended.error as Error).message).toBe('caller gave up');
      expect(wallet.signed).toHaveLength(0);
    },
  );

  it('rule 7, per call: payment.timeoutMs tightens the configured deadline', CASE, async () => {
    seller.handler = () => {};
    const wallet = countingWallet();
    const payment: PaymentInit & { timeoutMs?: number } = { timeoutMs: 150 };
    const { ended, ms } = await timed(
      payingFetchFor(wallet, { timeoutMs: 30_000 })(`${seller.origin}/paid`, { payment }),
    );
    expect(ms).toBeLessThan(1_500);
    expect(typed(ended).code).toBe('TIMEOUT');
    expect(wallet.signed).toHaveLength(0);
  });

  it(
    'a seller that closes the connection without a byte: the call ends, nothing signed',
    CASE,
    async () => {
      raw.onRequest = (socket) => socket.destroy();
      const wallet = countingWallet();
      const { ended, ms } = await timed(payingFetchFor(wallet)(`${raw.origin}/paid`));
      expect(ms).toBeLessThan(ENDS_WITHIN);
      expect('error' in ended).toBe(true);
      expect(wallet.signed).toHaveLength(0);
    },
  );
});
