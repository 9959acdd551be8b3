import { describe, expect, it } from 'vitest';
import { resolveRules } from './resolve.js';
import type { SpendPolicy } from './types.js';
import { DEFAULT_POLICY } from './types.js';
import { compilePolicy, validatePolicy } from './validate.js';

const day = { kind: 'calendar', unit: 'day' } as const;

const policy: SpendPolicy = {
  global: {
    maxPerRequest: { usd: '1.00' },
    limits: [{ usd: '20', window: { calendar: 'day' } }],
    approveAbove: '0.50',
  },
  hosts: {
    '*.example.com': {
      action: 'ask',
      maxPerRequest: { usd: '0.25', native: [{ unit: 'lightning:msat', max: 300_000n }] },
      limits: [{ usd: '2', window: { rolling: '1h' } }],
      protocols: { allow: ['x402', 'l402'] },
      maxAuthorizationTtlSec: 600,
    },
    'api.example.com': {
      maxPerRequest: { usd: '$0.50' },
      maxRequests: [{ count: 10, window: { calendar: 'day' } }],
      payees: { deny: ['0xBAD'] },
    },
    'other.net': { action: 'deny' },
  },
  tags: {
    research: {
      maxPerRequest: { usd: 100_000n },
      approveAbove: '0.05',
      limits: [{ usd: '1', window: { total: true } }],
    },
    batch: { action: 'deny' },
  },
};

describe('resolveRules', () => {
  it('applies the global rule, every matching host pattern and every tag; the lowest cap wins', () => {
    const r = resolveRules(policy, { hostname: 'api.example.com', tags: ['research', 'unknown'] });
    expect(r.rules.map((rule) => [rule.source, rule.label, rule.scope])).toEqual([
      ['global', 'global', 'global'],
      ['host', '*.example.com', 'host:*.example.com'],
      ['host', 'api.example.com', 'host:api.example.com'],
      ['tag', 'tag "research"', 'tag:research'],
    ]);
    expect(r.action).toEqual({
      value: 'ask',
      from: '*.example.com',
      path: 'hosts["*.example.com"]',
    });
    expect(r.maxPerRequestUsd).toEqual({
      value: 100_000n,
      from: 'tag "research"',
      path: 'tags["research"]',
    });
    expect(r.approveAbove?.value).toBe(50_000n);
    expect(r.maxAuthorizationTtlSec).toBe(600);
    expect(r.nativeCaps.map((c) => c.value)).toEqual([{ unit: 'lightning:msat', max: 300_000n }]);
    expect(r.protocols).toHaveLength(1);
    expect(r.payees).toHaveLength(1);
    expect(r.limits).toEqual([
      { scope: 'global', window: day, maxUsdMicros: 20_000_000n },
      {
        scope: 'host:*.example.com',
        window: { kind: 'rolling', ms: 3_600_000 },
        maxUsdMicros: 2_000_000n,
      },
      { scope: 'host:api.example.com', window: day, maxCount: 10 },
      { scope: 'tag:research', window: { kind: 'total' }, maxUsdMicros: 1_000_000n },
    ]);
    expect(r.tags).toEqual(['research', 'unknown']);
  });

  it('does not apply a subdomain pattern to the apex, nor rules for other hosts', () => {
    const r = resolveRules(policy, { hostname: 'example.com' });
    expect(r.rules.map((rule) => rule.label)).toEqual(['global']);
    expect(r.action.value).toBe('allow');
    expect(r.maxPerRequestUsd?.value).toBe(1_000_000n);
    expect(r.maxAuthorizationTtlSec).toBe(3600);
  });

  it('deny beats ask beats allow, wherever it comes from', () => {
    expect(resolveRules(policy, { hostname: 'other.net' }).action.value).toBe('deny');
    const tagged = resolveRules(policy, { hostname: 'a.example.com', tags: ['batch'] });
    expect(tagged.action).toMatchObject({ value: 'deny', from: 'tag "batch"' });
    expect(resolveRules(policy, { hostname: 'a.example.com' }).action.value).toBe('ask');
    const askOverride = resolveRules(policy, { hostname: 'x.net', override: { action: 'ask' } });
    expect(askOverride.action).toMatchObject({ value: 'ask', from: "this call's override" });
  });

  it('an override can only tighten: a higher cap does not raise the effective cap', () => {
    const looser = resolveRules(policy, {
      hostname: 'a.example.com',
      override: {
        action: 'allow',
        maxPerRequest: { usd: '100' },
        approveAbove: '99',
        maxAuthorizationTtlSec: 86_400,
      },
    });
    expect(looser.maxPerRequestUsd?.value).toBe(250_000n);
    expect(looser.approveAbove?.value).toBe(500_000n);
    expect(looser.action.value).toBe('ask');
    expect(looser.maxAuthorizationTtlSec).toBe(600);

    const tighter = resolveRules(policy, {
      hostname: 'a.example.com',
      override: {
        maxPerRequest: { usd: '0.01' },
        payees: { allow: ['0xgood'] },
        maxAuthorizationTtlSec: 60,
      },
    });
    expect(tighter.maxPerRequestUsd).toMatchObject({
      value: 10_000n,
      from: "this call's override",
    });
    expect(tighter.payees).toHaveLength(1);
    expect(tighter.maxAuthorizationTtlSec).toBe(60);
    // The override has no budget scope of its own.
    expect(tighter.rules.at(-1)).toMatchObject({ source: 'override' });
    expect(tighter.rules.at(-1)?.scope).toBeUndefined();
    expect(tighter.limits).toHaveLength(2);
  });

  it('rejects an override carrying limits or maxRequests', () => {
    for (const override of [
      { limits: [{ usd: '1', window: { calendar: 'day' as const } }] },
      { maxRequests: [{ count: 1, window: { total: true as const } }] },
    ]) {
      expect(() => resolveRules(policy, { hostname: 'a.example.com', override })).toThrow(
        expect.objectContaining({
          code: 'POLICY_INVALID',
          message: expect.stringMatching(/^override: a per-call override may not carry limits/),
        }),
      );
    }
  });

  it('no policy means DEFAULT_POLICY; a policy without global keeps the default global caps', () => {
    const none = resolveRules(undefined, { hostname: 'x.net' });
    expect(none.maxPerRequestUsd?.value).toBe(100_000n);
    expect(none.limits).toEqual([{ scope: 'global', window: day, maxUsdMicros: 1_000_000n }]);

    const hostsOnly = resolveRules(
      { hosts: { 'x.net': { action: 'ask' } } },
      { hostname: 'x.net' },
    );
    expect(hostsOnly.maxPerRequestUsd).toMatchObject({ value: 100_000n, from: 'global' });
    expect(hostsOnly.limits).toEqual([{ scope: 'global', window: day, maxUsdMicros: 1_000_000n }]);
    expect(hostsOnly.action.value).toBe('ask');

    const explicit = resolveRules({ global: {} }, { hostname: 'x.net' });
    expect(explicit.maxPerRequestUsd).toBeUndefined();
    expect(explicit.limits).toEqual([]);
    expect(DEFAULT_POLICY.global?.maxPerRequest?.usd).toBe('0.10');
  });

  it('matches tags exactly and only once', () => {
    const r = resolveRules(policy, {
      hostname: 'x.net',
      tags: ['research', 'research', 'Research'],
    });
    expect(r.rules.map((rule) => rule.label)).toEqual(['global', 'tag "research"']);
  });
});

describe('validatePolicy', () => {
  it('accepts a full, valid policy', () => {
    expect(() => validatePolicy(policy)).not.toThrow();
    expect(() => validatePolicy(DEFAULT_POLICY)).not.toThrow();
    expect(() => validatePolicy({})).not.toThrow();
  });

  it.each<[string, SpendPolicy, RegExp]>([
    [
      'a bad USD string',
      { global: { maxPerRequest: { usd: '0.1.0' } } },
      /^policy\.global\.maxPerRequest\.usd: .*write dollars like "0\.10"/,
    ],
    [
      'an exponent',
      { global: { approveAbove: '1e-3' } },
      /^policy\.global\.approveAbove: .*exponent/,
    ],
    [
      'a number for money',
      { global: { maxPerRequest: { usd: 0.1 as unknown as string } } },
      /^policy\.global\.maxPerRequest\.usd: write 0\.1 as a string/,
    ],
    [
      'a negative bigint',
      { tags: { t: { approveAbove: -1n } } },
      /^policy\.tags\["t"\]\.approveAbove: /,
    ],
    [
      'too many decimals',
      { global: { limits: [{ usd: '0.0000001', window: { calendar: 'day' } }] } },
      /^policy\.global\.limits\[0\]\.usd: /,
    ],
    [
      'a bad rolling window',
      { global: { limits: [{ usd: '1', window: { rolling: '1 day' } }] } },
      /^policy\.global\.limits\[0\]\.window: .*rolling: "24h"/,
    ],
    [
      'an unknown calendar',
      { global: { limits: [{ usd: '1', window: { calendar: 'year' as 'day' } }] } },
      /^policy\.global\.limits\[0\]\.window: /,
    ],
    [
      'a missing window',
      { global: { limits: [{ usd: '1' } as never] } },
      /^policy\.global\.limits\[0\]\.window: must be/,
    ],
    [
      'a negative count',
      { hosts: { 'a.com': { maxRequests: [{ count: -1, window: { total: true } }] } } },
      /^policy\.hosts\["a\.com"\]\.maxRequests\[0\]\.count: must be a whole number/,
    ],
    [
      'a fractional count',
      { global: { maxRequests: [{ count: 1.5, window: { total: true } }] } },
      /\.count: must be a whole number/,
    ],
    [
      'an unknown action',
      { global: { action: 'block' as 'deny' } },
      /^policy\.global\.action: must be "allow", "deny" or "ask", got "block"/,
    ],
    [
      'a bad host pattern',
      { hosts: { 'api.*.com': {} } },
      /^policy\.hosts\["api\.\*\.com"\]: host pattern "api\.\*\.com" is not valid/,
    ],
    [
      'a duplicate host',
      { hosts: { 'A.com': {}, 'a.com': {} } },
      /^policy\.hosts\["a\.com"\]: is the same host as "A\.com"/,
    ],
    [
      'an unknown protocol',
      { global: { protocols: { allow: ['x402', 'lsat' as 'l402'] } } },
      /^policy\.global\.protocols\.allow\[1\]: unknown protocol "lsat"/,
    ],
    [
      'a misspelt field',
      { global: { maxPerRequests: { usd: '1' } } as never },
      /^policy\.global\.maxPerRequests: is not a known field/,
    ],
    ['an unknown top-level key', { rules: {} } as never, /^policy\.rules: is not a known field/],
    [
      'a bad native cap',
      { global: { maxPerRequest: { native: [{ unit: 'lightning:msat', max: '1.5' }] } } },
      /^policy\.global\.maxPerRequest\.native\[0\]\.max: must be a whole number of atomic units/,
    ],
    [
      'an empty native unit',
      { global: { maxPerRequest: { native: [{ unit: '', max: 1n }] } } },
      /\.native\[0\]\.unit: must be a unit key/,
    ],
    [
      'a list that is not an array',
      { global: { payees: { allow: 'x' as never } } },
      /^policy\.global\.payees\.allow: must be an array of strings/,
    ],
    [
      'an empty list entry',
      { global: { networks: { deny: [''] } } },
      /^policy\.global\.networks\.deny\[0\]: must be a non-empty string/,
    ],
    [
      'a zero TTL',
      { global: { maxAuthorizationTtlSec: 0 } },
      /^policy\.global\.maxAuthorizationTtlSec: must be a whole number of seconds > 0/,
    ],
    [
      'a zero approval timeout',
      { approvalTimeoutMs: 0 },
      /^policy\.approvalTimeoutMs: must be a whole number of milliseconds > 0/,
    ],
    [
      'an approval timeout setTimeout cannot hold',
      { approvalTimeoutMs: 2 ** 31 },
      /^policy\.approvalTimeoutMs: .*at most 2147483647/,
    ],
    ['a negative rate age', { maxRateAgeMs: -1 }, /^policy\.maxRateAgeMs: /],
    [
      'a prefer entry that is not a string',
      { prefer: [1 as unknown as string] },
      /^policy\.prefer\[0\]: /,
    ],
    [
      'an empty tag name',
      { tags: { '': {} } },
      /^policy\.tags\[""\]: a tag name must not be empty/,
    ],
  ])('rejects %s, naming the field', (_name, bad, message) => {
    let caught: unknown;
    try {
      validatePolicy(bad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'POLICY_INVALID', name: 'StipendError' });
    expect((caught as Error).message).toMatch(message);
  });

  it('compiles caps, windows and lists once', () => {
    const compiled = compilePolicy(policy);
    expect(compiled.hosts.map((h) => h.key)).toEqual([
      '*.example.com',
      'api.example.com',
      'other.net',
    ]);
    expect(compiled.global.maxPerRequestUsd).toBe(1_000_000n);
    expect(compiled.approvalTimeoutMs).toBe(120_000);
    expect(compiled.maxRateAgeMs).toBe(300_000);
    expect([...(compiled.hosts[1]?.payees?.deny ?? [])]).toEqual(['0xbad']);
  });
});
