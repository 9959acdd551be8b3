/**
 * Shared set-up for the paying-fetch tests: msw in front of a test paywall on the stand-in
 * `stipend-test` rail (see @stipend/testkit/core).
 */
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  type TestRoute,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createPayingFetch, type PayingFetchConfig } from '../index.js';

export const ORIGIN = 'https://api.example.com';

/** A USDC offer (6 decimals: 1 atomic unit = 1 µUSD). */
export const usdc = (atomic: bigint, extra: Partial<TestRoute['offers'][number]> = {}) => ({
  amount: atomic,
  unit: TEST_USDC,
  ...extra,
});

/** One msw server per test file; `route()` points it at a handler for the next test. */
export function useMsw() {
  let current: ((request: Request) => Response | Promise<Response>) | undefined;
  const server = setupServer(
    http.all(/^https?:\/\/[^/]*example\.(com|org)\//, ({ request }) =>
      current ? current(request) : new Response('no handler', { status: 500 }),
    ),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }));
  afterEach(() => {
    current = undefined;
  });
  afterAll(() => server.close());
  return (handler: (request: Request) => Response | Promise<Response>) => {
    current = handler;
  };
}

/** A paying fetch in front of a test paywall with the given routes. */
export function setup(
  routes: Record<string, TestRoute>,
  config: Partial<PayingFetchConfig> & { settlement?: 'final' | 'authorization' } = {},
) {
  const rail = createTestRail();
  const paywall = createTestPaywall({ rail, routes });
  const wallet = testWallet({ rail, settlement: config.settlement ?? 'authorization' });
  const payingFetch = createPayingFetch({
    adapters: [testAdapter()],
    wallets: [wallet],
    policy: {
      global: {
        maxPerRequest: { usd: '1.00' },
        limits: [{ usd: '10', window: { calendar: 'day' } }],
      },
    },
    ...config,
  });
  return { rail, paywall, wallet, payingFetch };
}
