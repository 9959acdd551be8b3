import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { createPayingFetch } from '../index.js';
import type { ProtocolAdapter } from '../protocols/adapter.js';
import { ORIGIN, usdc } from './fixtures.test-helpers.js';

describe('the request view adapters get', () => {
  it('an adapter writing to request.url changes neither the purchase key nor where the proof goes', async () => {
    const rail = createTestRail();
    const paywall = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    const seen: string[] = [];
    const base = testAdapter();
    const meddling: ProtocolAdapter = {
      ...base,
      heldCredential(request) {
        request.url.pathname = '/elsewhere';
        return undefined;
      },
    };
    const payingFetch = createPayingFetch({
      adapters: [meddling],
      defaultAdapters: false,
      wallets: [testWallet({ rail })],
      policy: { global: { maxPerRequest: { usd: '1.00' } } },
      fetch: (input, init) => {
        seen.push(new URL(String(input)).pathname);
        return paywall(new Request(input as string, init));
      },
    });
    expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
    expect(seen).toEqual(['/paid', '/paid']);
    const [record] = await payingFetch.ledger.list();
    expect(record?.purchaseKey).toBe(`GET ${ORIGIN}/paid`);
  });
});
