import { amount, freezeOffer, type PaymentOffer, type SpendPolicy } from '@stipend/client';
import { createTestRail, TEST_USDC, type TestRail, testWallet } from '@stipend/testkit/core';
import { createSpendAuthority, type SpendAuthorityConfig } from './authority.js';

export const START = Date.UTC(2026, 0, 1, 12);
export const ORIGIN = 'https://api.example.com';

/** A clock tests move by hand. */
export function manualClock(start = START) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

let counter = 0;

/** A stand-in-rail offer of `micros` USDC (6 decimals, $1 = 1_000_000). */
export function testOffer(
  micros: bigint,
  options: { origin?: string; path?: string; protocol?: string; scheme?: string } = {},
): PaymentOffer {
  counter++;
  const origin = options.origin ?? ORIGIN;
  const resource = `${origin}${options.path ?? '/data'}`;
  return freezeOffer({
    id: `offer-${counter}`,
    protocol: options.protocol ?? 'stipend-test',
    scheme: options.scheme ?? 'charge',
    amount: amount(micros, TEST_USDC),
    payee: 'test-merchant',
    network: 'eip155:8453',
    asset: (TEST_USDC as { asset: string }).asset,
    origin,
    resource,
    reusable: false,
    raw: { id: `offer-${counter}`, amount: micros.toString() },
  });
}

/** The body a remote wallet would send for an offer. */
export function payRequest(
  offer: PaymentOffer,
  options: { method?: string; url?: string; key?: string; ttl?: number } = {},
) {
  counter++;
  return {
    request: { method: options.method ?? 'GET', url: options.url ?? offer.resource },
    offer,
    idempotencyKey: options.key ?? `purchase-${counter}`,
    maxAuthorizationTtlSec: options.ttl ?? 600,
  };
}

/** The testkit's USDC, as a token the authority trusts. */
export const TEST_ASSET = {
  network: 'eip155:8453',
  address: (TEST_USDC as { asset: string }).asset,
  decimals: 6,
  peg: 'USD',
};

export const GENEROUS_POLICY: SpendPolicy = {
  global: { maxPerRequest: { usd: '1' }, limits: [{ usd: '100', window: { calendar: 'day' } }] },
};

/** An authority holding a stand-in-rail wallet, with a manual clock. */
export function testAuthority(
  options: Partial<SpendAuthorityConfig> & {
    settlement?: 'final' | 'authorization';
    rail?: TestRail;
  } = {},
) {
  const { settlement, rail: given, ...config } = options;
  const rail = given ?? createTestRail();
  const clock = manualClock();
  const wallet = testWallet({ rail, settlement: settlement ?? 'authorization' });
  const authority = createSpendAuthority({
    wallets: [wallet],
    policy: GENEROUS_POLICY,
    now: clock.now,
    protocols: ['stipend-test'],
    assets: [TEST_ASSET],
    ...config,
  });
  return { authority, rail, wallet, clock };
}
