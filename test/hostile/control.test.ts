/**
 * The control case: an honest seller is paid exactly once, with the proof at the origin that
 * asked. Without it every "nothing was signed" below could pass on a harness that never pays.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Seller, startSeller } from './sellers.test-helpers.js';
import { challenge402, countingWallet, end, payingFetchFor, receipt } from './x402.test-helpers.js';

let seller: Seller;
beforeAll(async () => {
  seller = await startSeller();
});
afterAll(() => seller.close());
beforeEach(() => {
  seller.hits.length = 0;
});

describe('control', () => {
  it('an honest seller is paid once and the resource delivered', { timeout: 5_000 }, async () => {
    seller.handler = (hit, res) => {
      if (hit.headers['payment-signature']) {
        res.writeHead(200, { 'payment-response': receipt() }).end('the resource');
        return;
      }
      res.writeHead(...challenge402()).end('{}');
    };
    const wallet = countingWallet();
    const ended = await end(payingFetchFor(wallet)(`${seller.origin}/paid`));
    if ('error' in ended) throw ended.error;
    expect(ended.response.status).toBe(200);
    expect(await ended.response.text()).toBe('the resource');
    expect(wallet.signed).toHaveLength(1);
    expect(wallet.total()).toBe(10_000n);
    expect(seller.hits).toHaveLength(2);
  });
});
