import { describe, expect, it } from 'vitest';
import { describeWindow, explainPolicy } from './explain.js';

describe('describeWindow', () => {
  it('names every kind of window', () => {
    expect(describeWindow({ kind: 'calendar', unit: 'day' })).toBe('per UTC day');
    expect(describeWindow({ kind: 'calendar', unit: 'month' })).toBe('per UTC month');
    expect(describeWindow({ kind: 'calendar', unit: 'week' })).toBe('per ISO week (UTC)');
    expect(describeWindow({ kind: 'rolling', ms: 86_400_000 })).toBe('in any day');
    expect(describeWindow({ kind: 'rolling', ms: 7_200_000 })).toBe('in any 2 hours');
    expect(describeWindow({ kind: 'rolling', ms: 90_000 })).toBe('in any 90 seconds');
    expect(describeWindow({ kind: 'total' })).toBe('in total, forever');
  });
});

describe('explainPolicy', () => {
  it('explains native caps, lists and TTLs, and the defaults when there is no policy', () => {
    const lines = explainPolicy({
      global: {
        maxPerRequest: { native: [{ unit: 'lightning:msat', max: '50000' }] },
        networks: { deny: ['eip155:1'] },
        payees: { allow: ['0xAbC'] },
        maxAuthorizationTtlSec: 600,
        action: 'ask',
      },
      approvalTimeoutMs: 30_000,
    });
    expect(lines.slice(0, 6)).toEqual([
      'Everywhere (global):',
      '  • a person approves every payment (action "ask")',
      '  • at most 50000 atomic units of lightning:msat per payment',
      '  • networks: never eip155:1',
      '  • payees: only 0xabc',
      '  • signed authorizations stay valid at most 600 s',
    ]);
    expect(lines).toContain('A person has 30 s to answer an approval; no answer is a no.');
    expect(explainPolicy(undefined).slice(0, 3)).toEqual([
      'Everywhere — no global rule is written, so the fail-closed defaults apply:',
      '  • at most $0.10 per payment, fees included',
      '  • at most $1.00 per UTC day',
    ]);
    expect(explainPolicy({ global: {} })[1]).toBe('  • no global cap (global is empty)');
  });

  it('throws on an invalid policy', () => {
    expect(() => explainPolicy({ global: { maxPerRequest: { usd: 'lots' } } })).toThrow(
      /maxPerRequest\.usd/,
    );
  });
});
