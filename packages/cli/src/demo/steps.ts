/**
 * The demo agent's errands: which marketplace route each step calls, what it shows, and what
 * must happen for the demo to count as a success.
 *
 * @module
 */
import type { Marketplace } from '@stipend/testkit/market';

/** What a step must end with. */
export type Expected = 'paid' | 'reused' | 'refused';

/** One errand of the demo agent. */
export interface DemoStep {
  readonly title: string;
  readonly url: string;
  readonly expect: Expected;
  /** For a refusal: the error code it must end with. */
  readonly code?: string;
  /** For a payment: the rail that must pay it. */
  readonly rail?: string;
}

/**
 * The scenario, in order: paid calls on the three protocols, an L402 credential reused, a
 * call above the per-request cap refused, an approval answered yes and one answered no, and a
 * route offering two protocols paid once by the cheaper one.
 *
 * @example
 * ```ts
 * import { demoSteps } from './steps.js';
 * const steps = demoSteps(market); // 7 steps
 * ```
 */
export function demoSteps(market: Marketplace): DemoStep[] {
  const { urls } = market;
  return [
    {
      title: 'Weather report — x402 on a local EVM chain',
      url: `${urls.x402}/weather`,
      expect: 'paid',
      rail: 'x402:exact',
    },
    {
      title: 'Stock quote — L402 over the Lightning simulator',
      url: `${urls.l402}/quote`,
      expect: 'paid',
      rail: 'l402:bolt11',
    },
    {
      title: 'Stock quote again — the L402 credential is reused',
      url: `${urls.l402}/quote`,
      expect: 'reused',
      rail: 'l402:bolt11',
    },
    {
      title: 'Article behind a Stripe paywall — MPP, above the approval threshold',
      url: `${urls.mpp}/article`,
      expect: 'paid',
      rail: 'mpp:stripe.charge',
    },
    {
      title: 'Forecast sold through x402 AND L402 — the cheaper one pays',
      url: `${urls.gateway}/bundle/forecast`,
      expect: 'paid',
      rail: 'x402:exact',
    },
    {
      title: 'Tick dataset — L402, 1000 sat (about $1.00)',
      url: `${urls.l402}/dataset`,
      expect: 'refused',
      code: 'POLICY_DENIED',
    },
    {
      title: 'A second article — MPP, the person says no',
      url: `${urls.mpp}/multi`,
      expect: 'refused',
      code: 'APPROVAL_DENIED',
    },
  ];
}

/** The demo's session errand: many calls on one Lightning session, then close. */
export interface DemoSessionPlan {
  readonly title: string;
  /** The seller's terms: sat per call, and the deposit each invoice asks for. */
  readonly priceSats: bigint;
  readonly depositSats: bigint;
  /** How many calls, and how many at a time. */
  readonly calls: number;
  readonly concurrency: number;
  readonly path: string;
}

/**
 * The session errand: 50 calls, 10 at a time, on a `lightning/session` seller charging
 * 2 sat a call against 60-sat deposits (so one top-up), then a close with the refund.
 *
 * @example
 * ```ts
 * import { DEMO_SESSION } from './steps.js';
 * DEMO_SESSION.calls; // 50
 * ```
 */
export const DEMO_SESSION: DemoSessionPlan = Object.freeze({
  title: 'Text generation — an MPP Lightning session: one deposit, many calls, the rest refunded',
  priceSats: 2n,
  depositSats: 60n,
  calls: 50,
  concurrency: 10,
  path: '/generate',
});
