import { describe, expect, it } from 'vitest';
import { ORIGIN, setup, usdc, useMsw } from '../fetch/fixtures.test-helpers.js';

const route = useMsw();

describe('payingFetch.quote', () => {
  it('prices a 402 and says what the policy would do, paying, signing and reserving nothing', async () => {
    const { payingFetch, paywall, wallet, rail } = setup({
      '/paid': { offers: [usdc(2000n), usdc(1000n, { id: 'cheap' })] },
    });
    route(paywall);
    const quoted = await payingFetch.quote(`${ORIGIN}/paid`);
    expect(quoted.kind).toBe('priced');
    if (quoted.kind !== 'priced') return;
    expect(quoted.decision.outcome).toBe('pay');
    expect(quoted.offers.find((offer) => offer.verdict === 'chosen')?.id).toBe('cheap');
    expect(wallet.calls).toEqual([]);
    expect(rail.payments()).toEqual([]);
    expect(await payingFetch.ledger.list()).toEqual([]);
    expect(await payingFetch.purchases.list()).toEqual([]);
    const usage = await payingFetch.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    expect(usage.heldUsdMicros + usage.committedUsdMicros).toBe(0n);
  });

  it('a free answer is "free"', async () => {
    const { payingFetch, paywall } = setup({});
    route(paywall);
    expect((await payingFetch.quote(`${ORIGIN}/free`)).kind).toBe('free');
  });
});
