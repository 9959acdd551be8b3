import { describe, expect, it, vi } from 'vitest';
import { createMemoryBudgetStore } from '../budget/index.js';
import type { BudgetStore } from '../budget/store.js';
import { ApprovalError, PolicyDeniedError } from '../errors/policy.js';
import { verifyPayees } from '../fetch/payees.js';
import type { TokenUnit } from '../money/index.js';
import {
  amount,
  chainPriceSources,
  fixedPriceSource,
  msat,
  pegPriceSource,
} from '../money/index.js';
import type { PaymentOffer } from '../offer.js';
import { freezeOffer } from '../offer.js';
import type { DecisionContext, PolicyEngineConfig } from './engine.js';
import { createPolicyEngine } from './engine.js';
import type { ApprovalRequest, Approver, SpendPolicy } from './types.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const USDC: TokenUnit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};
const USDC_KEY = 'eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913';
const WETH: TokenUnit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x4200000000000000000000000000000000000006',
  decimals: 18,
  symbol: 'WETH',
};
const NODE = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619';

/** 1 msat = 1 µUSD at $100,000 per BTC; USDC at its peg: 1 atomic = 1 µUSD. */
const prices = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '100000' }));

let seq = 0;
function offer(over: Partial<PaymentOffer> = {}): PaymentOffer {
  seq += 1;
  return freezeOffer({
    id: `offer-${seq}`,
    protocol: 'x402',
    scheme: 'exact',
    amount: amount(1000n, USDC),
    payee: '0x1111111111111111111111111111111111111111',
    network: 'eip155:8453',
    asset: USDC.asset,
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/data',
    reusable: false,
    raw: { n: seq },
    ...over,
  });
}
const usdc = (atomic: bigint, over: Partial<PaymentOffer> = {}) =>
  offer({ amount: amount(atomic, USDC), ...over });
function lightning(value: bigint, fee?: bigint, over: Partial<PaymentOffer> = {}): PaymentOffer {
  const { network: _network, asset: _asset, ...rest } = offer();
  return freezeOffer({
    ...rest,
    protocol: 'l402',
    scheme: 'bolt11',
    amount: msat(value),
    ...(fee !== undefined ? { maxFee: msat(fee) } : {}),
    payee: NODE,
    reusable: true,
    ...over,
  });
}

function setup(policy?: SpendPolicy, extra: Partial<PolicyEngineConfig> = {}) {
  const budget = extra.budget ?? createMemoryBudgetStore();
  const engine = createPolicyEngine({
    ...(policy !== undefined ? { policy } : {}),
    budget,
    prices,
    now: () => NOW,
    ...extra,
  });
  return { engine, budget };
}

function ctx(over: Partial<DecisionContext> = {}): DecisionContext {
  seq += 1;
  return {
    url: new URL('https://api.example.com/data?api_key=secret-value'),
    method: 'GET',
    canPay: async () => true as const,
    reservationId: `res-${seq}`,
    ...over,
  };
}

async function denial(promise: Promise<unknown>): Promise<PolicyDeniedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PolicyDeniedError);
  return error as PolicyDeniedError;
}

async function approvalError(promise: Promise<unknown>): Promise<ApprovalError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApprovalError);
  return error as ApprovalError;
}

const open: SpendPolicy = { global: {} };

describe('deny codes', () => {
  it('no_offers for an empty list', async () => {
    const { engine } = setup(open);
    const error = await denial(engine.decide([], ctx()));
    expect(error.reason).toBe('no_offers');
    expect(error.offers).toEqual([]);
  });

  it.each<[string, SpendPolicy, () => PaymentOffer, RegExp]>([
    [
      'offer_expired',
      open,
      () => usdc(1000n, { expiresAt: NOW }),
      /expired at 2025-01-15T12:00:00\.000Z; retry/,
    ],
    [
      'protocol_not_allowed',
      { global: { protocols: { allow: ['l402'] } } },
      () => usdc(1000n),
      /protocol "x402" is not on the allow list of global \("l402"\); add it to policy\.global\.protocols\.allow/,
    ],
    [
      'protocol_not_allowed',
      { hosts: { '*.example.com': { protocols: { deny: ['x402'] } } } },
      () => usdc(1000n),
      /protocol "x402" is on the deny list of \*\.example\.com; remove it from policy\.hosts\["\*\.example\.com"\]\.protocols\.deny/,
    ],
    [
      'network_not_allowed',
      { global: { networks: { allow: ['eip155:8453'] } } },
      () => lightning(1000n),
      /network "lightning" is not on the allow list of global/,
    ],
    [
      'network_not_allowed',
      { global: { networks: { deny: ['lightning'] } } },
      () => lightning(1000n),
      /network "lightning" is on the deny list/,
    ],
    [
      'network_not_allowed',
      { global: { networks: { allow: ['eip155:8453'] } } },
      () =>
        offer({
          protocol: 'mpp',
          scheme: 'stripe.charge',
          amount: amount(1n, { kind: 'fiat', currency: 'USD', exponent: 2 }),
          network: undefined,
        }),
      /it has no network, and global only allows "eip155:8453"/,
    ],
    [
      'asset_not_allowed',
      { global: { assets: { deny: [USDC_KEY.toUpperCase()] } } },
      () => usdc(1000n),
      /asset "eip155:8453\/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913" is on the deny list of global/,
    ],
    [
      'payee_not_allowed',
      { global: { payees: { allow: ['0x2222222222222222222222222222222222222222'] } } },
      () => usdc(1000n),
      /payee "0x1111111111111111111111111111111111111111" is not on the allow list of global/,
    ],
    [
      'price_unavailable',
      open,
      () => offer({ amount: amount(10n ** 12n, WETH) }),
      /cannot be priced in USD: no price source knows eip155:8453\/0x4200/,
    ],
    [
      'native_cap',
      { global: { maxPerRequest: { native: [{ unit: 'lightning:msat', max: 4000n }] } } },
      () => lightning(3500n, 600n),
      /costs 4\.1 sat \(4100 atomic\) \(amount \+ max fee\), above the native cap of 4 sat \(4000 atomic\) for global; raise the "lightning:msat" entry of policy\.global\.maxPerRequest\.native to at least 4100/,
    ],
    [
      'per_request_cap',
      { hosts: { '*.example.com': { maxPerRequest: { usd: '0.10' } } } },
      () => usdc(250_000n),
      /costs \$0\.25, above the per-request cap of \$0\.10 for global and \*\.example\.com; raise policy\.global\.maxPerRequest\.usd and policy\.hosts\["\*\.example\.com"\]\.maxPerRequest\.usd to at least \$0\.25/,
    ],
    [
      'host_denied',
      { global: {}, hosts: { 'api.example.com': { action: 'deny' } } },
      () => usdc(1000n),
      /the rule for api\.example\.com says action "deny"; change policy\.hosts\["api\.example\.com"\]\.action/,
    ],
  ])('%s', async (code, policy, make, reason) => {
    const { engine, budget } = setup(policy);
    const given = make();
    const [evaluation] = await engine.evaluate([given], ctx());
    expect(evaluation).toMatchObject({ ok: false, code });
    expect((evaluation as { reason: string }).reason).toMatch(reason);

    const c = ctx();
    const error = await denial(engine.decide([given], c));
    expect(error.reason).toBe(code);
    expect(error.code).toBe('POLICY_DENIED');
    expect(error.offers).toEqual([
      expect.objectContaining({ offerId: given.id, code, reason: expect.stringMatching(reason) }),
    ]);
    expect(error.message).not.toContain('secret-value');
    expect(await budget.get(c.reservationId)).toBeUndefined();
  });

  it('no_wallet when no wallet can pay, with the wallet reason', async () => {
    const { engine } = setup(open);
    const error = await denial(
      engine.decide([usdc(1000n)], ctx({ canPay: async () => 'balance 0 USDC is too low' })),
    );
    expect(error.reason).toBe('no_wallet');
    expect(error.offers[0]?.reason).toMatch(
      /no wallet can pay it \(balance 0 USDC is too low\); add a wallet for x402:exact/,
    );
  });

  it('says "no wallet" before "no price" when an unpriced offer has no wallet either', async () => {
    const { engine } = setup(open, { prices: pegPriceSource() });
    const error = await denial(
      engine.decide([lightning(5000n)], ctx({ canPay: async () => 'no wallet pays l402:bolt11' })),
    );
    expect(error.reason).toBe('no_wallet');
    expect(error.message).toMatch(
      /l402\/bolt11 no wallet can pay it \(no wallet pays l402:bolt11\); add a wallet for l402:bolt11 .*then it also needs a price/,
    );
    // With a wallet, the price is the one thing left to fix.
    const priced = await denial(engine.decide([lightning(5000n)], ctx()));
    expect(priced.reason).toBe('price_unavailable');
  });

  it('no_wallet when the wallet check throws', async () => {
    const { engine } = setup(open);
    const error = await denial(
      engine.decide(
        [usdc(1000n)],
        ctx({
          canPay: async () => {
            throw new Error('rpc down');
          },
        }),
      ),
    );
    expect(error.offers[0]).toMatchObject({
      code: 'no_wallet',
      reason: expect.stringContaining('rpc down'),
    });
  });

  it('window_cap with what is left, and request_count_cap', async () => {
    const { engine } = setup({
      global: { limits: [{ usd: '0.0025', window: { calendar: 'day' } }] },
    });
    await engine.decide([usdc(1000n)], ctx());
    await engine.decide([usdc(1000n)], ctx());
    const error = await denial(engine.decide([usdc(1000n)], ctx()));
    expect(error.reason).toBe('window_cap');
    expect(error.offers[0]?.reason).toMatch(
      /costs \$0\.001, but the \$0\.0025 per UTC day budget of global has \$0\.0005 left; .*raise policy\.global\.limits/,
    );

    const counted = setup({
      global: {},
      hosts: { 'api.example.com': { maxRequests: [{ count: 1, window: { rolling: '1h' } }] } },
    });
    await counted.engine.decide([usdc(1000n)], ctx());
    const second = await denial(counted.engine.decide([usdc(1000n), lightning(900n)], ctx()));
    expect(second.reason).toBe('request_count_cap');
    expect(second.offers.map((o) => o.code)).toEqual(['request_count_cap', 'request_count_cap']);
    expect(second.offers[1]?.reason).toMatch(
      /limit of 1 payments per rolling 1h for api\.example\.com is reached .*policy\.hosts\["api\.example\.com"\]\.maxRequests/,
    );
  });

  it('checks in order: the first failing check names the code', async () => {
    const { engine } = setup({
      global: {
        protocols: { allow: ['l402'] },
        payees: { allow: ['nobody'] },
        maxPerRequest: { usd: '0.000001' },
      },
    });
    // Lightning payees count only once a wallet verified them (the invoice's signing key).
    const { offers: verified } = await verifyPayees(
      [lightning(1000n, undefined, { payee: 'nobody' })],
      [
        {
          id: 'w',
          rails: ['l402:bolt11'],
          canPay: () => true,
          pay: async () => {
            throw new Error('not paid in this test');
          },
          payeeOf: () => 'nobody',
        },
      ],
    );
    const evaluations = await engine.evaluate(
      [usdc(1000n, { expiresAt: NOW - 1 }), usdc(1000n), lightning(1000n), verified[0]!],
      ctx(),
    );
    expect(evaluations.map((e) => (e.ok ? 'ok' : e.code))).toEqual([
      'offer_expired',
      'protocol_not_allowed',
      'payee_not_allowed',
      'per_request_cap',
    ]);
    // Every offer is priced, allowed or not, so denials can show the cost.
    expect(evaluations.map((e) => e.usdMicros)).toEqual([1000n, 1000n, 1000n, 1000n]);
  });

  it('reports the cheapest offer’s code and a denial for every offer', async () => {
    const { engine } = setup({
      global: { maxPerRequest: { usd: '0.0001' }, protocols: { deny: ['mpp'] } },
    });
    const offers = [
      usdc(5000n),
      lightning(2000n),
      offer({
        protocol: 'mpp',
        scheme: 'stripe.charge',
        amount: amount(1n, { kind: 'fiat', currency: 'USD', exponent: 2 }),
        network: undefined,
      }),
    ];
    const error = await denial(engine.decide(offers, ctx()));
    expect(error.offers.map((o) => [o.offerId, o.code, o.usdMicros])).toEqual([
      [offers[0]?.id, 'per_request_cap', 5000n],
      [offers[1]?.id, 'per_request_cap', 2000n],
      [offers[2]?.id, 'protocol_not_allowed', 10_000n],
    ]);
    expect(error.reason).toBe('per_request_cap');
    expect(error.shortMessage).toMatch(
      /^Stipend paid nothing for GET https:\/\/api\.example\.com\/data: l402\/bolt11 costs \$0\.002/,
    );
    expect(error.details.url).toBe('https://api.example.com/data');
  });

  it('a deny rule is the deciding reason even when offers fail earlier checks', async () => {
    const { engine } = setup({ global: { action: 'deny', protocols: { allow: ['l402'] } } });
    const error = await denial(engine.decide([usdc(1000n)], ctx()));
    expect(error.offers[0]?.code).toBe('protocol_not_allowed');
    expect(error.reason).toBe('host_denied');
  });
});

describe('ranking', () => {
  it('picks the cheapest offer across units, maximum fee included — never just the first', async () => {
    const { engine } = setup(open);
    const ln = lightning(900n, 200n); // $0.0011 with its fee cap
    const cheap = usdc(1000n); // $0.001
    const decision = await engine.decide([ln, cheap], ctx());
    expect(decision.offer).toBe(cheap);
    expect(decision.usdMicros).toBe(1000n);

    const lnNoFee = lightning(900n); // $0.0009
    const second = await engine.decide([usdc(1000n), lnNoFee], ctx());
    expect(second.offer).toBe(lnNoFee);
    expect(second.usdMicros).toBe(900n);
    expect(second.rate.source).toBe('fixed');

    const withFee = await engine.decide([lightning(700n, 250n), usdc(1000n)], ctx());
    expect(withFee.usdMicros).toBe(950n);
    expect(withFee.feeUsdMicros).toBe(250n);
    expect(withFee.feeRate?.source).toBe('fixed');
  });

  it('breaks ties by the prefer order (protocol or rail), then by the order given', async () => {
    const a = usdc(1000n);
    const b = lightning(1000n);
    const c = usdc(1000n, { scheme: 'upto' });
    expect((await setup(open).engine.decide([a, b, c], ctx())).offer).toBe(a);
    expect(
      (await setup({ global: {}, prefer: ['l402'] }).engine.decide([a, b, c], ctx())).offer,
    ).toBe(b);
    expect(
      (await setup({ global: {}, prefer: ['X402:UPTO', 'l402'] }).engine.decide([a, b, c], ctx()))
        .offer,
    ).toBe(c);
    // Preference never beats price.
    const pricier = lightning(1001n);
    expect(
      (await setup({ global: {}, prefer: ['l402'] }).engine.decide([pricier, a], ctx())).offer,
    ).toBe(a);
  });

  it('skips an unpayable cheaper offer for the next one, asking wallets lazily', async () => {
    const { engine } = setup(open);
    const cheapLn = lightning(500n);
    const mid = usdc(800n);
    const dear = usdc(900n);
    const asked: string[] = [];
    const decision = await engine.decide(
      [dear, cheapLn, mid],
      ctx({
        canPay: async (o) => {
          asked.push(o.id);
          return o.protocol === 'l402' ? 'no Lightning wallet configured' : true;
        },
      }),
    );
    expect(decision.offer).toBe(mid);
    expect(asked).toEqual([cheapLn.id, mid.id]);
    expect(decision.evaluations.map((e) => (e.ok ? 'ok' : e.code))).toEqual([
      'ok',
      'no_wallet',
      'ok',
    ]);
  });

  it('evaluate asks the wallet only when canPay is given', async () => {
    const { engine } = setup(open);
    const canPay = vi.fn(async (o: PaymentOffer) =>
      o.protocol === 'l402' ? ('no node' as const) : (true as const),
    );
    const offers = [lightning(500n), usdc(800n)];
    const plain = await engine.evaluate(offers, { url: new URL('https://api.example.com/') });
    expect(plain.map((e) => e.ok)).toEqual([true, true]);
    const withWallet = await engine.evaluate(offers, {
      url: new URL('https://api.example.com/'),
      canPay,
    });
    expect(withWallet.map((e) => (e.ok ? 'ok' : e.code))).toEqual(['no_wallet', 'ok']);
    expect(canPay).toHaveBeenCalledTimes(2);
  });
});

describe('native caps', () => {
  const policy: SpendPolicy = {
    global: {
      maxPerRequest: {
        native: [
          { unit: 'lightning:msat', max: '10000' },
          { unit: 'eip155:8453/0x833589FCD6EDB6E08F4C7C32D4F71B54BDA02913', max: 5000n },
        ],
      },
    },
  };

  it('compares amount + fee in the same unit against the cap for that unit only', async () => {
    const { engine } = setup(policy);
    const evaluations = await engine.evaluate(
      [
        lightning(9000n, 1000n),
        lightning(9000n, 1001n),
        usdc(5000n),
        usdc(5001n),
        offer({
          amount: amount(1n, { kind: 'fiat', currency: 'USD', exponent: 2 }),
          protocol: 'mpp',
          scheme: 'stripe.charge',
        }),
      ],
      ctx(),
    );
    expect(evaluations.map((e) => (e.ok ? 'ok' : e.code))).toEqual([
      'ok',
      'native_cap',
      'ok',
      'native_cap',
      'ok',
    ]);
  });

  it('names only the caps a payment breaks', async () => {
    const { engine } = setup({
      global: { maxPerRequest: { usd: '1' } },
      hosts: { '*.example.com': { maxPerRequest: { usd: '0.10' } } },
    });
    const [evaluation] = await engine.evaluate([usdc(250_000n)], ctx());
    expect((evaluation as { reason: string }).reason).toBe(
      'costs $0.25, above the per-request cap of $0.10 for *.example.com; raise ' +
        'policy.hosts["*.example.com"].maxPerRequest.usd to at least $0.25 to allow it',
    );
  });

  it('a native cap on one rule and a USD cap on another both apply', async () => {
    const { engine } = setup({
      ...policy,
      hosts: { 'api.example.com': { maxPerRequest: { usd: '0.004' } } },
    });
    const evaluations = await engine.evaluate([usdc(4001n), lightning(4000n)], ctx());
    expect(evaluations.map((e) => (e.ok ? 'ok' : e.code))).toEqual(['per_request_cap', 'ok']);
  });
});

describe('approvals', () => {
  const policy: SpendPolicy = {
    global: { approveAbove: '0.0005', limits: [{ usd: '0.01', window: { calendar: 'day' } }] },
    approvalTimeoutMs: 30,
  };

  it('asks above approveAbove with a structured request, and pays when approved', async () => {
    const seen: ApprovalRequest[] = [];
    const approver: Approver = async (request, { signal }) => {
      seen.push(request);
      expect(signal.aborted).toBe(false);
      return true;
    };
    const { engine, budget } = setup(policy, { approver });
    const given = usdc(1000n);
    const decision = await engine.decide([given], ctx({ method: 'post', tags: ['research'] }));
    expect(decision.approved).toBe(true);
    expect(decision.offer).toBe(given);
    expect(seen).toEqual([
      {
        origin: 'https://api.example.com',
        resource: 'https://api.example.com/data',
        method: 'post',
        protocol: 'x402',
        scheme: 'exact',
        payee: given.payee,
        network: 'eip155:8453',
        amount: given.amount,
        usdMicros: 1000n,
        remaining: [{ scope: 'global', window: 'calendar:day', usdMicros: 9000n }],
        why: 'above_threshold',
        tags: ['research'],
      },
    ]);
    expect((await budget.get(decision.reservation.id))?.state).toBe('held');
  });

  it('does not ask at or below approveAbove', async () => {
    const approver = vi.fn(async () => true);
    const { engine } = setup(policy, { approver });
    const decision = await engine.decide([usdc(500n)], ctx());
    expect(decision.approved).toBe(false);
    expect(approver).not.toHaveBeenCalled();
  });

  it('asks for every payment under action "ask"', async () => {
    const approver = vi.fn<Approver>(async () => true);
    const { engine } = setup(
      { global: {}, hosts: { '*.example.com': { action: 'ask' } } },
      { approver },
    );
    await engine.decide([usdc(1n)], ctx());
    expect(approver.mock.calls[0]?.[0].why).toBe('rule_ask');
  });

  it('a refusal releases the reservation and throws approval_denied', async () => {
    const { engine, budget } = setup(policy, { approver: async () => false });
    const c = ctx();
    const error = await approvalError(engine.decide([usdc(1000n)], c));
    expect(error.reason).toBe('approval_denied');
    expect(error.code).toBe('APPROVAL_DENIED');
    expect(error.message).toMatch(/The approver refused the x402\/exact payment of 0\.001 USDC/);
    expect((await budget.get(c.reservationId))?.state).toBe('released');
  });

  it('a truthy non-true answer is a refusal', async () => {
    const { engine } = setup(policy, { approver: async () => 'yes' as unknown as boolean });
    expect((await approvalError(engine.decide([usdc(1000n)], ctx()))).reason).toBe(
      'approval_denied',
    );
  });

  it('a timeout aborts the approver, releases and throws approval_timeout', async () => {
    let signalSeen: AbortSignal | undefined;
    const approver: Approver = (_request, { signal }) => {
      signalSeen = signal;
      return new Promise<boolean>(() => {});
    };
    const { engine, budget } = setup(policy, { approver });
    const c = ctx();
    const started = Date.now();
    const error = await approvalError(engine.decide([usdc(1000n)], c));
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(error.reason).toBe('approval_timeout');
    expect(error.code).toBe('APPROVAL_TIMEOUT');
    expect(error.message).toMatch(/within 30 ms.*policy\.approvalTimeoutMs/);
    expect(signalSeen?.aborted).toBe(true);
    expect((await budget.get(c.reservationId))?.state).toBe('released');
  });

  it('an approver that throws denies, keeping the cause, and releases', async () => {
    const boom = new Error('prompt crashed');
    const { engine, budget } = setup(policy, {
      approver: () => {
        throw boom;
      },
    });
    const c = ctx();
    const error = await approvalError(engine.decide([usdc(1000n)], c));
    expect(error.reason).toBe('approval_denied');
    expect(error.cause).toBe(boom);
    expect((await budget.get(c.reservationId))?.state).toBe('released');
  });

  it('without an approver, a payment that needs approval is refused (approval_required)', async () => {
    const { engine, budget } = setup(policy);
    const c = ctx();
    const error = await approvalError(engine.decide([usdc(1000n)], c));
    expect(error.reason).toBe('approval_required');
    expect(error.message).toMatch(
      /no approver is configured; pass an approver to createPolicyEngine or raise policy\.global\.approveAbove/,
    );
    expect((await budget.get(c.reservationId))?.state).toBe('released');
  });

  it('the caller aborting a pending approval releases and rethrows the abort reason', async () => {
    const controller = new AbortController();
    const { engine, budget } = setup(policy, {
      approver: () => {
        setTimeout(() => controller.abort(new Error('user went away')), 1);
        return new Promise<boolean>(() => {});
      },
    });
    const c = ctx({ signal: controller.signal });
    await expect(engine.decide([usdc(1000n)], c)).rejects.toThrow('user went away');
    expect((await budget.get(c.reservationId))?.state).toBe('released');
  });
});

describe('default policy (fail closed)', () => {
  it('caps one payment at $0.10', async () => {
    const { engine } = setup();
    const error = await denial(engine.decide([usdc(100_001n)], ctx()));
    expect(error.reason).toBe('per_request_cap');
    expect((await engine.decide([usdc(100_000n)], ctx())).usdMicros).toBe(100_000n);
  });

  it('caps a UTC day at $1', async () => {
    const { engine } = setup();
    for (let i = 0; i < 10; i++) await engine.decide([usdc(100_000n)], ctx());
    const error = await denial(engine.decide([usdc(1n)], ctx()));
    expect(error.reason).toBe('window_cap');
    expect(error.offers[0]?.reason).toMatch(
      /\$1\.00 per UTC day budget of global has \$0\.00 left/,
    );
  });

  it('still applies when a policy has no global rule', async () => {
    const { engine } = setup({ hosts: { 'other.net': { action: 'deny' } } });
    expect((await denial(engine.decide([usdc(100_001n)], ctx()))).reason).toBe('per_request_cap');
  });

  it('rejects an invalid policy at creation', () => {
    expect(() => setup({ global: { maxPerRequest: { usd: 'ten' } } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
  });
});

describe('reservation, commit and release', () => {
  it('reserves the cost in every limit with the TTL and secret-free notes', async () => {
    const reserve = vi.fn<BudgetStore['reserve']>();
    const store = createMemoryBudgetStore();
    reserve.mockImplementation((request) => store.reserve(request));
    const budget: BudgetStore = { ...store, reserve };
    const { engine } = setup(
      {
        global: { limits: [{ usd: '1', window: { calendar: 'day' } }] },
        tags: {
          t: { maxAuthorizationTtlSec: 120, maxRequests: [{ count: 5, window: { total: true } }] },
        },
      },
      { budget },
    );
    const c = ctx({ tags: ['t'] });
    const given = lightning(1500n, 100n);
    const decision = await engine.decide([given], c);
    expect(decision.maxAuthorizationTtlSec).toBe(120);
    expect(reserve).toHaveBeenCalledWith({
      id: c.reservationId,
      limits: [
        { scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxUsdMicros: 1_000_000n },
        { scope: 'tag:t', window: { kind: 'total' }, maxCount: 5 },
      ],
      usdMicros: 1600n,
      now: NOW,
      expiresAt: NOW + 120_000,
      meta: {
        origin: 'https://api.example.com',
        method: 'GET',
        offerId: given.id,
        rail: 'l402:bolt11',
        payee: NODE,
      },
    });
    expect(decision.reservation).toMatchObject({
      id: c.reservationId,
      usdMicros: 1600n,
      state: 'held',
    });
  });

  it('commits the actual amount converted with the decision rate, rounded up', async () => {
    const { engine, budget } = setup({
      global: {},
      hosts: { 'api.example.com': { limits: [{ usd: '1', window: { total: true } }] } },
    });
    const decision = await engine.decide([lightning(1500n, 100n)], ctx());
    expect(await engine.commit(decision, msat(1200n), msat(37n))).toBe(1237n);
    expect((await budget.get(decision.reservation.id))?.committedUsdMicros).toBe(1237n);
    const usage = await budget.usage(
      { scope: 'host:api.example.com', window: { kind: 'total' } },
      NOW,
    );
    expect(usage).toEqual({ committedUsdMicros: 1237n, heldUsdMicros: 0n, count: 1 });
  });

  it('rounds sub-micro-dollar remainders up', async () => {
    const { engine } = setup(open, {
      prices: fixedPriceSource({ btcUsd: '30000' }), // 1 msat = 0.3 µUSD
    });
    const decision = await engine.decide([lightning(10n)], ctx());
    expect(decision.usdMicros).toBe(3n);
    expect(await engine.commit(decision, msat(4n))).toBe(2n); // 1.2 µUSD -> 2
  });

  it('commits the full reservation when no actual amount is given', async () => {
    const { engine } = setup(open);
    const decision = await engine.decide([usdc(700n)], ctx());
    expect(await engine.commit(decision)).toBe(700n);
  });

  it('refuses to commit more than reserved, or another unit, and keeps the reservation held', async () => {
    const { engine, budget } = setup(open);
    const decision = await engine.decide([usdc(700n)], ctx());
    await expect(engine.commit(decision, amount(701n, USDC))).rejects.toMatchObject({
      code: 'BUDGET_COMMIT_INVALID',
      message: expect.stringMatching(/actual cost \$0\.000701 is above the \$0\.0007 reserved/),
    });
    await expect(engine.commit(decision, msat(1n))).rejects.toMatchObject({
      code: 'BUDGET_COMMIT_INVALID',
      message: expect.stringMatching(/not in the unit of offer/),
    });
    expect((await budget.get(decision.reservation.id))?.state).toBe('held');
  });

  it('release frees the budget', async () => {
    const { engine, budget } = setup({
      global: { limits: [{ usd: '0.001', window: { calendar: 'day' } }] },
    });
    const decision = await engine.decide([usdc(1000n)], ctx());
    await denial(engine.decide([usdc(1000n)], ctx()));
    await engine.release(decision);
    expect((await budget.get(decision.reservation.id))?.state).toBe('released');
    expect((await engine.decide([usdc(1000n)], ctx())).usdMicros).toBe(1000n);
  });
});

describe('overrides', () => {
  it('a per-call override tightens the decision and cannot loosen it', async () => {
    const { engine } = setup({ global: { maxPerRequest: { usd: '0.01' } } });
    const tight = await denial(
      engine.decide([usdc(5000n)], ctx({ override: { maxPerRequest: { usd: '0.001' } } })),
    );
    expect(tight.offers[0]?.reason).toMatch(
      /for this call's override; raise the per-call override's maxPerRequest\.usd/,
    );
    const loose = await denial(
      engine.decide([usdc(20_000n)], ctx({ override: { maxPerRequest: { usd: '1' } } })),
    );
    expect(loose.reason).toBe('per_request_cap');
  });

  it('rejects an override with limits before anything is reserved', async () => {
    const { engine } = setup(open);
    await expect(
      engine.decide(
        [usdc(1n)],
        ctx({ override: { limits: [{ usd: '1', window: { calendar: 'day' } }] } }),
      ),
    ).rejects.toMatchObject({ code: 'POLICY_INVALID' });
  });
});
