/**
 * Money-safety invariants of the policy engine (ARCHITECTURE.md, invariants 1 and 3):
 * (a) a decision only ever carries one of the offers given, unchanged, and only an allowed one;
 * (b) concurrent decisions never spend more than a budget;
 * (c) any decision satisfies every cap and list of the policy (property-based).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../budget/index.js';
import { ApprovalError, PolicyDeniedError } from '../errors/policy.js';
import type { Amount, Unit } from '../money/index.js';
import {
  amount,
  chainPriceSources,
  fixedPriceSource,
  msat,
  parseUsd,
  pegPriceSource,
  toUsdMicros,
  unitKey,
} from '../money/index.js';
import type { PaymentOffer, Protocol } from '../offer.js';
import { freezeOffer } from '../offer.js';
import type { Decision } from './engine.js';
import { createPolicyEngine } from './engine.js';
import type { ListRule, Rule, SpendPolicy } from './types.js';

const NOW = Date.UTC(2025, 5, 1, 9, 30);
const prices = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '65000' }));
const USDC_BASE: Unit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};
const USDC_ETH: Unit = {
  kind: 'token',
  network: 'eip155:1',
  asset: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};
const WETH: Unit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x4200000000000000000000000000000000000006',
  decimals: 18,
};
const USD_CENTS: Unit = { kind: 'fiat', currency: 'USD', exponent: 2 };
const MSAT: Unit = { kind: 'msat' };
const UNITS = [USDC_BASE, USDC_ETH, WETH, USD_CENTS, MSAT];
const UNIT_KEYS = UNITS.map((u) => unitKey(u));
const NETWORKS = ['eip155:8453', 'eip155:1', 'lightning'];
const PAYEES = ['0xaaa', '0xbbb', 'acct_ccc', '02ddd'];
const HOSTS = ['api.example.com', 'x.y.example.com', 'other.net'];
const PATTERNS = ['api.example.com', '*.example.com', '*', 'other.net'];
const TAGS = ['t1', 't2'];

let seq = 0;
function makeOffer(parts: {
  protocol: Protocol;
  unit: Unit;
  value: bigint;
  fee?: bigint;
  payee: string;
  expiresIn?: number;
}): PaymentOffer {
  seq += 1;
  const network = parts.unit.kind === 'token' ? parts.unit.network : undefined;
  // Keep offers realistic: Lightning is L402, fiat is MPP, tokens are x402 or MPP.
  const protocol: Protocol =
    parts.unit.kind === 'msat'
      ? 'l402'
      : parts.unit.kind === 'fiat'
        ? 'mpp'
        : parts.protocol === 'l402'
          ? 'x402'
          : parts.protocol;
  return freezeOffer({
    id: `o${seq}`,
    protocol,
    scheme: protocol === 'l402' ? 'bolt11' : protocol === 'mpp' ? 'stripe.charge' : 'exact',
    // Values are drawn as roughly µUSD; a cent is 10 000 µUSD.
    amount: amount(parts.unit.kind === 'fiat' ? parts.value / 10_000n : parts.value, parts.unit),
    ...(parts.fee !== undefined ? { maxFee: msat(parts.fee) } : {}),
    payee: parts.payee,
    ...(network !== undefined ? { network } : {}),
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    ...(parts.expiresIn !== undefined ? { expiresAt: NOW + parts.expiresIn } : {}),
    reusable: false,
    raw: { seq },
  });
}

describe('invariant (a): a decision carries one of the given offers, unchanged, and allowed', () => {
  it('returns the very object given, deep-equal to before, and evaluated ok', async () => {
    const offerArb = fc.record({
      protocol: fc.constantFrom<Protocol>('x402', 'l402', 'mpp'),
      unit: fc.constantFrom(...UNITS),
      value: fc.bigInt({ min: 0n, max: 300_000n }),
      fee: fc.option(fc.bigInt({ min: 0n, max: 5_000n }), { nil: undefined }),
      payee: fc.constantFrom(...PAYEES),
      expiresIn: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(offerArb, { maxLength: 5 }),
        fc.constantFrom<SpendPolicy | undefined>(
          undefined,
          { global: {} },
          { global: { maxPerRequest: { usd: '0.05' }, protocols: { deny: ['mpp'] } } },
          { global: { payees: { allow: ['0xaaa', '02ddd'] } }, prefer: ['l402'] },
        ),
        fc.func(fc.boolean()),
        async (specs, policy, payable) => {
          const offers = specs.map((s) => makeOffer(s));
          const before = offers.map((o) => structuredClone({ ...o }));
          const engine = createPolicyEngine({
            ...(policy !== undefined ? { policy } : {}),
            budget: createMemoryBudgetStore(),
            prices,
            now: () => NOW,
          });
          let decision: Decision | undefined;
          try {
            decision = await engine.decide(offers, {
              url: new URL('https://api.example.com/r'),
              method: 'GET',
              canPay: async (o) => (payable(o.id) ? true : 'cannot'),
              reservationId: `r${seq}`,
            });
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyDeniedError);
            expect((error as PolicyDeniedError).offers).toHaveLength(offers.length);
          }
          offers.forEach((o, i) => {
            expect(Object.isFrozen(o)).toBe(true);
            expect({ ...o }).toEqual(before[i]);
          });
          if (decision === undefined) return;
          const index = offers.indexOf(decision.offer);
          expect(index).toBeGreaterThanOrEqual(0);
          expect(decision.offer).toBe(offers[index]);
          expect(decision.evaluations[index]?.ok).toBe(true);
          expect(decision.evaluations[index]?.offer).toBe(decision.offer);
          expect(payable(decision.offer.id)).toBe(true);
          // Never a pricier allowed, payable offer than needed.
          for (const e of decision.evaluations) {
            if (e.ok && payable(e.offer.id)) expect(decision.usdMicros <= e.usdMicros!).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('invariant (b): concurrent decisions never overspend', () => {
  it('200 concurrent $0.001 decisions against $0.05/day: exactly 50 succeed', async () => {
    const budget = createMemoryBudgetStore();
    const engine = createPolicyEngine({
      policy: { global: { limits: [{ usd: '0.05', window: { calendar: 'day' } }] } },
      budget,
      // An asynchronous price source, so that decisions really interleave.
      prices: {
        rate: async (unit, now) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
          return pegPriceSource().rate(unit, now);
        },
      },
      now: () => NOW,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        engine.decide(
          [makeOffer({ protocol: 'x402', unit: USDC_BASE, value: 1000n, payee: '0xaaa' })],
          {
            url: new URL('https://api.example.com/r'),
            method: 'GET',
            canPay: async () => {
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
              return true as const;
            },
            reservationId: `concurrent-${i}`,
          },
        ),
      ),
    );
    const ok = results.filter(
      (r): r is PromiseFulfilledResult<Decision> => r.status === 'fulfilled',
    );
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(50);
    expect(failed).toHaveLength(150);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(PolicyDeniedError);
      expect((f.reason as PolicyDeniedError).reason).toBe('window_cap');
    }
    const limit = { scope: 'global', window: { kind: 'calendar', unit: 'day' } } as const;
    expect(await budget.usage(limit, NOW)).toEqual({
      committedUsdMicros: 0n,
      heldUsdMicros: 50_000n,
      count: 50,
    });
    await Promise.all(ok.map((r) => engine.commit(r.value)));
    const after = await budget.usage(limit, NOW);
    expect(after.committedUsdMicros).toBe(50_000n);
    expect(after.committedUsdMicros + after.heldUsdMicros <= 50_000n).toBe(true);
  });
});

describe('invariant (c): every decision satisfies every cap and list of the policy', () => {
  /** Mostly absent, so that enough random calls get through every rule to a decision. */
  const opt = <T>(arb: fc.Arbitrary<T>, weight = 1) =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight });
  const usd = fc.bigInt({ min: 0n, max: 150_000n });
  const list = (values: readonly string[]) =>
    opt(
      fc.record({
        allow: opt(fc.subarray([...values], { minLength: 1 }), 2),
        deny: opt(fc.subarray([...values], { maxLength: 1 }), 2),
      }),
    );
  const window = fc.constantFrom(
    { calendar: 'day' as const },
    { rolling: '1h' },
    { total: true as const },
  );
  const ruleFields = {
    action: fc.oneof(
      { arbitrary: fc.constantFrom(undefined, 'allow' as const), weight: 12 },
      { arbitrary: fc.constant('ask' as const), weight: 2 },
      { arbitrary: fc.constant('deny' as const), weight: 1 },
    ),
    maxPerRequest: opt(
      fc.record({
        usd: opt(usd, 3),
        native: opt(
          fc.array(
            fc.record({
              unit: fc.constantFrom(...UNIT_KEYS),
              max: fc.bigInt({ min: 0n, max: 150_000n }),
            }),
            { minLength: 1, maxLength: 2 },
          ),
          2,
        ),
      }),
      2,
    ),
    approveAbove: opt(usd),
    protocols: list(['x402', 'l402', 'mpp']) as fc.Arbitrary<Rule['protocols']>,
    networks: list(NETWORKS),
    assets: list(UNIT_KEYS),
    payees: list(PAYEES),
    maxAuthorizationTtlSec: opt(fc.integer({ min: 1, max: 7200 })),
  };
  const budgeted = {
    ...ruleFields,
    limits: opt(
      fc.array(fc.record({ usd: fc.bigInt({ min: 0n, max: 400_000n }), window }), { maxLength: 2 }),
      2,
    ),
    maxRequests: opt(
      fc.array(fc.record({ count: fc.integer({ min: 0, max: 3 }), window }), { maxLength: 1 }),
    ),
  };
  const rule = fc.record(budgeted) as fc.Arbitrary<Rule>;
  const override = fc.record(ruleFields) as fc.Arbitrary<Rule>;
  const policyArb = fc.record({
    global: rule,
    hosts: fc.dictionary(fc.constantFrom(...PATTERNS), rule, { maxKeys: 3 }),
    tags: fc.dictionary(fc.constantFrom(...TAGS), rule, { maxKeys: 2 }),
    prefer: fc.subarray(['l402', 'x402:exact', 'mpp']),
  }) as fc.Arbitrary<SpendPolicy>;
  const offerArb = fc.record({
    protocol: fc.constantFrom<Protocol>('x402', 'l402', 'mpp'),
    unit: fc.constantFrom(...UNITS),
    value: fc.bigInt({ min: 0n, max: 200_000n }),
    fee: opt(fc.bigInt({ min: 0n, max: 20_000n })),
    payee: fc.constantFrom(...PAYEES),
    expiresIn: opt(fc.integer({ min: -10, max: 10 })),
  });
  const callArb = fc.record({
    host: fc.constantFrom(...HOSTS),
    tags: fc.subarray(TAGS),
    override: opt(override),
    offers: fc.array(offerArb, { minLength: 1, maxLength: 4 }),
    approve: fc.boolean(),
  });

  it('holds for random policies, offers and calls', async () => {
    let decided = 0;
    let approved = 0;
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.array(callArb, { minLength: 1, maxLength: 4 }),
        async (policy, calls) => {
          const budget = createMemoryBudgetStore();
          const ledger: Ledger = new Map();
          let answer = true;
          const engine = createPolicyEngine({
            policy,
            budget,
            prices,
            approver: async () => answer,
            now: () => NOW,
          });
          for (const call of calls) {
            answer = call.approve;
            const offers = call.offers.map((o) => makeOffer(o));
            let decision: Decision | undefined;
            try {
              decision = await engine.decide(offers, {
                url: new URL(`https://${call.host}/r`),
                method: 'GET',
                tags: call.tags,
                ...(call.override !== undefined ? { override: call.override } : {}),
                canPay: async () => true as const,
                reservationId: `c${seq++}`,
              });
            } catch (error) {
              const known = error instanceof PolicyDeniedError || error instanceof ApprovalError;
              expect(known, String(error)).toBe(true);
              continue;
            }
            const { rules, scopes } = applicable(policy, call.host, call.tags, call.override);
            await expectWithinRules(decision, rules, offers);
            record(ledger, scopes, decision.usdMicros);
            decided += 1;
            if (decision.approved) approved += 1;
            await engine.commit(decision);
          }
          await expectWithinLimits(policy, ledger, budget);
        },
      ),
      { numRuns: 400 },
    );
    // The generators must reach decisions often enough for the property to mean something.
    expect(decided).toBeGreaterThan(100);
    expect(approved).toBeGreaterThan(15);
  });
});

/** The rules that apply and their budget scopes, found independently of the engine. */
function applicable(
  policy: SpendPolicy,
  host: string,
  tags: readonly string[],
  override?: Rule,
): { rules: Rule[]; scopes: string[] } {
  const rules: Rule[] = [policy.global ?? {}];
  const scopes = ['global'];
  for (const [pattern, rule] of Object.entries(policy.hosts ?? {})) {
    const hit =
      pattern === '*' ||
      pattern === host ||
      (pattern.startsWith('*.') && host.endsWith(pattern.slice(1)));
    if (hit) {
      rules.push(rule);
      scopes.push(`host:${pattern}`);
    }
  }
  for (const [tag, rule] of Object.entries(policy.tags ?? {})) {
    if (tags.includes(tag)) {
      rules.push(rule);
      scopes.push(`tag:${tag}`);
    }
  }
  if (override !== undefined) rules.push(override);
  return { rules, scopes };
}

function passes(list: ListRule | undefined, value: string | undefined): boolean {
  if (list === undefined) return true;
  const v = value?.toLowerCase();
  if (v !== undefined && list.deny?.some((d) => d.toLowerCase() === v)) return false;
  if (
    list.allow !== undefined &&
    (v === undefined || !list.allow.some((a) => a.toLowerCase() === v))
  ) {
    return false;
  }
  return true;
}

async function expectWithinRules(
  decision: Decision,
  rules: readonly Rule[],
  offers: readonly PaymentOffer[],
) {
  const offer = decision.offer;
  expect(offers).toContain(offer);
  expect(offer.expiresAt === undefined || offer.expiresAt > NOW).toBe(true);
  const cost =
    (await toUsdMicros(offer.amount, prices, { now: NOW, maxAgeMs: 300_000 })).usdMicros +
    (offer.maxFee
      ? (await toUsdMicros(offer.maxFee, prices, { now: NOW, maxAgeMs: 300_000 })).usdMicros
      : 0n);
  expect(decision.usdMicros).toBe(cost);
  const network = offer.network ?? (offer.amount.unit.kind === 'msat' ? 'lightning' : undefined);
  const perUnit = new Map<string, bigint>();
  const add = (a: Amount) =>
    perUnit.set(unitKey(a.unit), (perUnit.get(unitKey(a.unit)) ?? 0n) + a.value);
  add(offer.amount);
  if (offer.maxFee) add(offer.maxFee);
  let anyAsk = false;
  for (const rule of rules) {
    expect(rule.action).not.toBe('deny');
    if (rule.action === 'ask') anyAsk = true;
    if (rule.maxPerRequest?.usd !== undefined)
      expect(cost <= parseUsd(rule.maxPerRequest.usd)).toBe(true);
    for (const cap of rule.maxPerRequest?.native ?? []) {
      expect((perUnit.get(cap.unit) ?? 0n) <= BigInt(cap.max)).toBe(true);
    }
    if (rule.approveAbove !== undefined && cost > parseUsd(rule.approveAbove)) anyAsk = true;
    expect(passes(rule.protocols, offer.protocol)).toBe(true);
    expect(passes(rule.networks, network)).toBe(true);
    expect(passes(rule.assets, unitKey(offer.amount.unit))).toBe(true);
    expect(passes(rule.payees, offer.payee)).toBe(true);
    if (rule.maxAuthorizationTtlSec !== undefined) {
      expect(decision.maxAuthorizationTtlSec <= rule.maxAuthorizationTtlSec).toBe(true);
    }
  }
  // A payment that needed approval was approved; one that did not was not asked about.
  expect(decision.approved).toBe(anyAsk);
}

/** Spend per budget scope, counted by the test itself. */
type Ledger = Map<string, { usdMicros: bigint; count: number }>;

function record(ledger: Ledger, scopes: readonly string[], usdMicros: bigint) {
  for (const scope of scopes) {
    const known = ledger.get(scope) ?? { usdMicros: 0n, count: 0 };
    ledger.set(scope, { usdMicros: known.usdMicros + usdMicros, count: known.count + 1 });
  }
}

/** Every limit holds by the test's own count, and the store counted the same. */
async function expectWithinLimits(
  policy: SpendPolicy,
  ledger: Ledger,
  budget: ReturnType<typeof createMemoryBudgetStore>,
) {
  const scoped: [string, Rule][] = [
    ['global', policy.global ?? {}],
    ...Object.entries(policy.hosts ?? {}).map(([p, r]): [string, Rule] => [`host:${p}`, r]),
    ...Object.entries(policy.tags ?? {}).map(([t, r]): [string, Rule] => [`tag:${t}`, r]),
  ];
  for (const [scope, rule] of scoped) {
    const spent = ledger.get(scope) ?? { usdMicros: 0n, count: 0 };
    // Every payment here happens at NOW, so every window holds all of them.
    for (const limit of rule.limits ?? []) {
      expect(spent.usdMicros <= parseUsd(limit.usd)).toBe(true);
      const use = await budget.usage({ scope, window: windowOf(limit.window) }, NOW);
      expect(use.committedUsdMicros + use.heldUsdMicros).toBe(spent.usdMicros);
    }
    for (const limit of rule.maxRequests ?? []) {
      expect(spent.count <= limit.count).toBe(true);
      const use = await budget.usage({ scope, window: windowOf(limit.window) }, NOW);
      expect(use.count).toBe(spent.count);
    }
  }
}

function windowOf(spec: NonNullable<Rule['limits']>[number]['window']) {
  if ('rolling' in spec) return { kind: 'rolling' as const, ms: 3_600_000 };
  if ('calendar' in spec) return { kind: 'calendar' as const, unit: spec.calendar };
  return { kind: 'total' as const };
}
