import { describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../budget/memory.js';
import { isStipendError } from '../errors/base.js';
import { fixedPriceSource, pegPriceSource } from '../money/price.js';
import { fiatUnit, msat, msatUnit } from '../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../offer.js';
import { createPolicyEngine } from './engine.js';
import { validatePolicy } from './validate.js';

const prices = fixedPriceSource({ btcUsd: '100000' }); // 1 msat = 1 µUSD
const url = new URL('https://api.example.com/generate');
const unitOffer = (): PaymentOffer =>
  freezeOffer({
    id: 'mpp:c1',
    protocol: 'mpp',
    scheme: 'lightning.session',
    amount: msat(2_000n),
    payee: '02'.padEnd(66, 'a'),
    network: 'lightning',
    origin: url.origin,
    resource: url.href,
    reusable: true,
    raw: {},
  });

function engine(policy: Parameters<typeof createPolicyEngine>[0]['policy']) {
  const budget = createMemoryBudgetStore();
  return { budget, engine: createPolicyEngine({ policy, budget, prices }) };
}

const decide = (e: ReturnType<typeof engine>['engine'], deposit: bigint) =>
  e.decide([unitOffer()], {
    url,
    method: 'GET',
    canPay: () => true,
    reservationId: `r_${deposit}`,
    deposit: { amount: msat(deposit), maxFee: msat(1_000n) },
    meta: { kind: 'session', sessionId: 'ses_1' },
  });

describe('maxDeposit (sessions)', () => {
  it('a session reserves its deposit (+ fee cap); the per-request cap applies to the unit price', async () => {
    const { engine: e, budget } = engine({ global: { maxPerRequest: { usd: '0.01' } } });
    // Unit price $0.002 under the $0.01 per-request cap; the $0.04 deposit above it is fine.
    const decision = await decide(e, 40_000n);
    expect(decision.usdMicros).toBe(41_000n);
    const reservation = await budget.get('r_40000');
    expect(reservation?.usdMicros).toBe(41_000n);
    expect(reservation?.meta?.kind).toBe('session');
    expect(reservation?.meta?.sessionId).toBe('ses_1');
  });

  it('a deposit above the host rule maxDeposit is refused with an error naming maxDeposit', async () => {
    const { engine: e, budget } = engine({
      global: {},
      hosts: { 'api.example.com': { maxDeposit: { usd: '0.03' } } },
    });
    const error = await decide(e, 40_000n).catch((x: unknown) => x);
    expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
    expect((error as Error).message).toMatch(
      /maxDeposit \$0\.03.*policy\.hosts\["api\.example\.com"\]\.maxDeposit/,
    );
    expect(await budget.get('r_40000')).toBeUndefined();
    expect((await decide(e, 30_000n)).usdMicros).toBe(31_000n);
  });

  it('windows apply to the deposit: a deposit the day budget cannot hold is refused', async () => {
    const { engine: e } = engine({
      global: { limits: [{ usd: '0.02', window: { calendar: 'day' } }] },
    });
    const error = await decide(e, 40_000n).catch((x: unknown) => x);
    expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
  });

  it('native caps: the lowest maxDeposit.native of every matching rule, per unit', async () => {
    const { engine: e } = engine({
      global: { maxDeposit: { native: [{ unit: 'lightning:msat', max: 100_000n }] } },
      hosts: {
        '*.example.com': { maxDeposit: { native: [{ unit: 'lightning:msat', max: '50000' }] } },
      },
    });
    expect(await e.depositCap({ url }, msatUnit)).toBe(50_000n);
    expect(await e.depositCap({ url: new URL('https://other.test/') }, msatUnit)).toBe(100_000n);
    expect(await e.depositCap({ url }, fiatUnit('USD'))).toBeUndefined();
  });

  it('usd_deposit_cap_sizes_in_token_units: a USD maxDeposit converts with the price source, rounded DOWN, so the cap itself passes decide', async () => {
    // $30,000/BTC: 1 msat = 0.3 µUSD. $0.01 = 33,333.3 msat: the cap is 33,333 msat.
    const budget = createMemoryBudgetStore();
    const e = createPolicyEngine({
      policy: { global: {}, hosts: { 'api.example.com': { maxDeposit: { usd: '0.01' } } } },
      budget,
      prices: fixedPriceSource({ btcUsd: '30000' }),
    });
    const cap = await e.depositCap({ url }, msatUnit);
    expect(cap).toBe(33_333n);
    const at = (deposit: bigint) =>
      e.decide([unitOffer()], {
        url,
        method: 'GET',
        canPay: () => true,
        reservationId: `r_${deposit}`,
        deposit: { amount: msat(deposit) },
      });
    // What depositCap allows, decide allows; one more unit is above the cap.
    expect((await at(cap!)).usdMicros).toBe(10_000n);
    const error = await at(cap! + 1n).catch((x: unknown) => x);
    expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
  });

  it('usd_deposit_cap_uses_client_known_decimals: a token priced with decimals a server stated gets no USD-derived cap', async () => {
    const known = {
      kind: 'token',
      network: 'eip155:4217',
      asset: '0x20c0000000000000000000000000000000000000',
      decimals: 6,
    } as const;
    const e = createPolicyEngine({
      policy: {
        global: {},
        hosts: {
          'api.example.com': {
            maxDeposit: {
              usd: '0.30',
            },
          },
        },
      },
      budget: createMemoryBudgetStore(),
      prices: pegPriceSource({
        pegs: { [`${known.network}/${known.asset}`]: { peg: 'USD', decimals: 6 } },
      }),
    });
    expect(await e.depositCap({ url }, known)).toBe(300_000n);
    // The same token with 18 decimals (a server's claim): refused by the price source, so no
    // USD-derived cap (decide then refuses the deposit: it cannot be priced).
    expect(await e.depositCap({ url }, { ...known, decimals: 18 })).toBeUndefined();
    // A unit nobody prices: no USD-derived cap either.
    expect(await e.depositCap({ url }, fiatUnit('EUR'))).toBeUndefined();
  });

  it('usd_and_native_deposit_caps: the lower of the two, in the unit asked', async () => {
    const { engine: e } = engine({
      global: {},
      hosts: {
        'api.example.com': {
          maxDeposit: { usd: '0.05', native: [{ unit: 'lightning:msat', max: 20_000n }] },
        },
      },
    });
    expect(await e.depositCap({ url }, msatUnit)).toBe(20_000n);
    const { engine: wide } = engine({
      global: {},
      hosts: {
        'api.example.com': {
          maxDeposit: { usd: '0.05', native: [{ unit: 'lightning:msat', max: 90_000n }] },
        },
      },
    });
    expect(await wide.depositCap({ url }, msatUnit)).toBe(50_000n);
  });

  it('maxDeposit is validated like maxPerRequest: unknown keys and bad amounts are refused', () => {
    expect(() => validatePolicy({ global: { maxDeposit: { usd: 'lots' } } })).toThrow(
      /maxDeposit\.usd/,
    );
    expect(() => validatePolicy({ global: { maxDeposit: { sats: 5 } as never } })).toThrow(
      /maxDeposit/,
    );
    expect(() =>
      validatePolicy({ hosts: { 'a.example': { maxDeposit: { usd: '0.50' } } } }),
    ).not.toThrow();
  });
});
