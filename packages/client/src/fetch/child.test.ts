import { describe, expect, it } from 'vitest';
import { PolicyDeniedError } from '../index.js';
import { ORIGIN, setup, usdc, useMsw } from './fixtures.test-helpers.js';

const route = useMsw();
const day = { kind: 'calendar', unit: 'day' } as const;

describe('payingFetch.child(limits)', () => {
  function family() {
    const env = setup(
      { '/a': { offers: [usdc(1000n)] }, '/dear': { offers: [usdc(20_000n)] } },
      {
        policy: {
          global: {
            maxPerRequest: { usd: '0.01' },
            limits: [{ usd: '1', window: { calendar: 'day' } }],
          },
        },
      },
    );
    route(env.paywall);
    return env;
  }

  it('spends within its own cap, and its spend counts against the parent budget too', async () => {
    const { payingFetch, wallet } = family();
    const child = payingFetch.child({
      name: 'research',
      limits: [{ usd: '0.003', window: { total: true } }],
    });
    for (let i = 0; i < 3; i++) expect((await child(`${ORIGIN}/a`)).status).toBe(200);
    const refused = await child(`${ORIGIN}/a`).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PolicyDeniedError);
    expect((refused as PolicyDeniedError).reason).toBe('window_cap');
    // The parent is not bound by the child's cap, and sees the child's spend.
    expect((await payingFetch(`${ORIGIN}/a`)).status).toBe(200);
    expect(wallet.calls).toHaveLength(4);
    const global = await payingFetch.budget.usage({ scope: 'global', window: day }, Date.now());
    expect(global.committedUsdMicros).toBe(4000n);
    const research = await payingFetch.budget.usage(
      { scope: 'tag:research', window: { kind: 'total' } },
      Date.now(),
    );
    expect(research.committedUsdMicros).toBe(3000n);
    // Both write to one ledger, the child's records tagged.
    const records = await payingFetch.ledger.list();
    expect(records.map((r) => r.tags)).toEqual([['research'], ['research'], ['research'], []]);
  });

  it('can only be narrower: a wider child cap does not lift the parent cap', async () => {
    const { payingFetch, wallet } = family();
    const child = payingFetch.child({ maxPerRequest: { usd: '5' } });
    const refused = await child(`${ORIGIN}/dear`).catch((e: unknown) => e);
    expect((refused as PolicyDeniedError).reason).toBe('per_request_cap');
    expect(wallet.calls).toEqual([]);
  });

  it('nests: a grandchild is bound by every ancestor', async () => {
    const { payingFetch, wallet } = family();
    const child = payingFetch.child({
      name: 'c',
      limits: [{ usd: '0.002', window: { total: true } }],
    });
    const grandchild = child.child({
      name: 'g',
      limits: [{ usd: '0.005', window: { total: true } }],
    });
    expect((await grandchild(`${ORIGIN}/a`)).status).toBe(200);
    expect((await grandchild(`${ORIGIN}/a`)).status).toBe(200);
    await expect(grandchild(`${ORIGIN}/a`)).rejects.toBeInstanceOf(PolicyDeniedError);
    await expect(child(`${ORIGIN}/a`)).rejects.toBeInstanceOf(PolicyDeniedError);
    expect(wallet.calls).toHaveLength(2);
  });

  it('refuses a name that already has a rule', () => {
    const { payingFetch } = family();
    payingFetch.child({ name: 'x' });
    const sibling = payingFetch.child({ name: 'y' });
    expect(() => sibling.child({ name: 'y' })).toThrow(/tag "y"/);
  });
});
