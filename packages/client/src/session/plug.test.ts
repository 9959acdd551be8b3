import { describe, expect, it } from 'vitest';
import { createPayingFetch, isStipendError, lightningSessionMethod } from '../index.js';
import { SESSION_HOOKS } from './plug.js';
import type { SessionMethod } from './types.js';

describe('session methods carry the session manager (an app without sessions does not bundle it)', () => {
  it('lightningSessionMethod() carries it; a paying fetch with it has sessions', async () => {
    const method = lightningSessionMethod();
    expect(typeof (method as { [SESSION_HOOKS]?: unknown })[SESSION_HOOKS]).toBe('function');
    const payingFetch = createPayingFetch({ wallets: [], sessions: { methods: [method] } });
    expect(await payingFetch.sessions.list()).toEqual([]);
  });

  it('a hand-made method without it is refused at creation with CONFIG_INVALID naming the fix', () => {
    const { [SESSION_HOOKS]: _, ...bare } = lightningSessionMethod() as SessionMethod & {
      [SESSION_HOOKS]?: unknown;
    };
    let error: unknown;
    try {
      createPayingFetch({ wallets: [], sessions: { methods: [bare as SessionMethod] } });
    } catch (caught) {
      error = caught;
    }
    expect(isStipendError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toContain('lightningSessionMethod()');
  });

  it('without sessions, payingFetch.sessions lists nothing and close names the option', async () => {
    const payingFetch = createPayingFetch({ wallets: [] });
    expect(await payingFetch.sessions.list()).toEqual([]);
    await expect(payingFetch.sessions.close('ses_x')).rejects.toThrow(/sessions: \{ methods \}/);
  });
});
