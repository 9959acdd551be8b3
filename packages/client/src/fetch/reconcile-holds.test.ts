import { describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../budget/index.js';
import { setup } from './fixtures.test-helpers.js';

const LIMIT = { scope: 'global', window: { kind: 'total' as const }, maxUsdMicros: 10_000_000n };

describe('reconcile(): stray budget holds', () => {
  it('releases an expired hold that no purchase accounts for, but never a session’s deposit', async () => {
    const budget = createMemoryBudgetStore();
    const { payingFetch } = setup({}, { budget });
    const past = Date.now() - 60_000;
    for (const [id, meta] of [
      ['r_stray', undefined],
      ['r_session', { kind: 'session', sessionId: 'ses_1' }],
    ] as const) {
      const reserved = await budget.reserve({
        id,
        limits: [LIMIT],
        usdMicros: 1_000n,
        now: past - 1_000,
        expiresAt: past,
        ...(meta ? { meta } : {}),
      });
      expect(reserved.ok).toBe(true);
    }
    await payingFetch.reconcile();
    expect((await budget.get('r_stray'))?.state).toBe('released');
    // The deposit is at the server until the session closes: counted, not released.
    expect((await budget.get('r_session'))?.state).toBe('held');
  });
});
