import type { Unit } from '@stipend/client';
import type { TestRail } from './rail.js';
import {
  CHALLENGE_HEADER,
  ERROR_HEADER,
  PROOF_HEADER,
  RECEIPT_HEADER,
  type WireOffer,
} from './wire.js';

/** One priced route of the test paywall. */
export interface TestRoute {
  /** The offers a 402 lists for this route. */
  readonly offers: readonly {
    readonly id?: string;
    readonly amount: bigint;
    readonly unit: Unit;
    readonly payee?: string;
    readonly maxFee?: bigint;
    readonly expiresAt?: number;
  }[];
  /** A redeemed proof stays valid for later requests to this route (like an L402 token). */
  readonly reusable?: boolean;
  /** Builds the paid response. Default: JSON with the method, path and received body. */
  readonly respond?: (request: Request, body: string) => Response | Promise<Response>;
}

/** A request the paywall served, for assertions. */
export interface TestPaywallHit {
  readonly method: string;
  readonly path: string;
  readonly proof: string | null;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A handler `(Request) → Response` that puts routes behind the `stipend-test` rail. */
export interface TestPaywall {
  (request: Request): Promise<Response>;
  readonly hits: TestPaywallHit[];
  /** Forgets every reusable token (the server "expires" them). */
  revokeTokens(): void;
}

/** USDC on Base, as a test unit (the real address; nothing is sent on chain). */
export const TEST_USDC: Unit = Object.freeze({
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
});

/**
 * A paywall for tests: unpaid requests to a priced route get a 402 challenge; a request with a
 * valid, unused proof for that route's offer gets the resource. Use it with msw or with
 * {@link startTestServer}.
 *
 * @example
 * ```ts
 * import { createTestPaywall, createTestRail, TEST_USDC } from '@stipend/testkit/core';
 *
 * const rail = createTestRail();
 * const paywall = createTestPaywall({ rail, routes: { '/paid': { offers: [{ amount: 1000n, unit: TEST_USDC }] } } });
 * const res = await paywall(new Request('http://127.0.0.1/paid')); // 402
 * ```
 */
export function createTestPaywall(options: {
  rail: TestRail;
  routes: Readonly<Record<string, TestRoute>>;
  payee?: string;
}): TestPaywall {
  const hits: TestPaywallHit[] = [];
  /** Proofs that unlock reusable routes, per route, once redeemed. */
  const tokens = new Map<string, Set<string>>();
  const handler = (async (request: Request) => {
    const url = new URL(request.url);
    const body = request.body ? await request.text() : '';
    const route = options.routes[url.pathname];
    const proof = request.headers.get(PROOF_HEADER);
    const record = (response: Response) => {
      hits.push({
        method: request.method,
        path: url.pathname,
        proof,
        status: response.status,
        headers: Object.fromEntries(request.headers),
        body,
      });
      return response;
    };
    if (!route) {
      return record(
        Response.json({ free: true, method: request.method, path: url.pathname, body }),
      );
    }
    const wire: WireOffer[] = route.offers.map((offer, index) => ({
      id: offer.id ?? `${url.pathname}#${index}`,
      amount: offer.amount.toString(),
      unit: offer.unit,
      payee: offer.payee ?? options.payee ?? 'test-merchant',
      ...(offer.maxFee !== undefined ? { maxFee: offer.maxFee.toString() } : {}),
      ...(offer.expiresAt !== undefined ? { expiresAt: offer.expiresAt } : {}),
    }));
    const challenge = (error?: string) => {
      const headers = new Headers({ [CHALLENGE_HEADER]: JSON.stringify(wire) });
      if (error) headers.set(ERROR_HEADER, error);
      return new Response(JSON.stringify({ error: error ?? 'payment required' }), {
        status: 402,
        headers,
      });
    };
    if (!proof) return record(challenge());
    const space = proof.indexOf(' ');
    const offerId = proof.slice(0, space);
    const secret = proof.slice(space + 1);
    const offer = wire.find((candidate) => candidate.id === offerId);
    if (space < 1 || !offer) return record(challenge('unknown offer'));
    const held = tokens.get(url.pathname);
    if (!(route.reusable && held?.has(proof))) {
      const result = options.rail.redeem(secret, {
        offerId,
        amount: BigInt(offer.amount),
        payee: offer.payee,
      });
      if (result !== 'ok') return record(challenge(result));
      if (route.reusable) tokens.set(url.pathname, (held ?? new Set()).add(proof));
    }
    const paid = route.respond
      ? await route.respond(request, body)
      : Response.json({ paid: true, method: request.method, path: url.pathname, body });
    const headers = new Headers(paid.headers);
    headers.set(RECEIPT_HEADER, `receipt-${offerId}`);
    return record(new Response(paid.body, { status: paid.status, headers }));
  }) as TestPaywall;
  Object.defineProperty(handler, 'hits', { value: hits });
  Object.defineProperty(handler, 'revokeTokens', { value: () => tokens.clear() });
  return handler;
}
