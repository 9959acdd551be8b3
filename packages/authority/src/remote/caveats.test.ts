import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Caveat,
  capsToCaveats,
  checkScope,
  type DelegationLimits,
  formatCaveat,
  hostCovers,
  hostMatches,
  limitsOf,
  narrowLimits,
  parseCaveat,
  railCarriesSecret,
} from './caveats.js';
import { DelegationError } from './errors.js';

const NOW = Date.UTC(2026, 0, 1);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof DelegationError ? `${error.code}/${error.reason}` : String(error);
  }
}

describe('parseCaveat / formatCaveat', () => {
  it('round-trips every kind', () => {
    const conditions = [
      'stipend_total_usd=0.10',
      'stipend_request_usd=0.000001',
      'stipend_approve_above=1.50',
      'stipend_hosts=api.example.com,*.example.org,*',
      'stipend_methods=GET,HEAD',
      'stipend_protocols=x402,mpp:stripe.charge',
      'stipend_expires=1767225600',
      'stipend_delegation=0123456789abcdef',
    ];
    for (const condition of conditions) {
      expect(formatCaveat(parseCaveat(condition))).toBe(condition);
    }
    expect(parseCaveat('stipend_total_usd=0.10')).toEqual({
      kind: 'total_usd',
      usdMicros: 100_000n,
    });
  });

  it('normalises hosts, methods and protocols', () => {
    expect(parseCaveat('stipend_hosts=API.Example.COM.')).toEqual({
      kind: 'hosts',
      patterns: ['api.example.com'],
    });
    expect(parseCaveat('stipend_methods=get,GET')).toEqual({ kind: 'methods', methods: ['GET'] });
    expect(parseCaveat('stipend_protocols=X402')).toEqual({
      kind: 'protocols',
      protocols: ['x402'],
    });
    expect(parseCaveat('stipend_hosts=')).toEqual({ kind: 'hosts', patterns: [] });
  });

  it('refuses unknown caveats (an unenforceable restriction) and malformed values', () => {
    expect(code(() => parseCaveat('services=meme:0'))).toBe('DELEGATION_INVALID/unknown_caveat');
    expect(code(() => parseCaveat('stipend_total_usd'))).toBe('DELEGATION_INVALID/malformed');
    for (const bad of [
      'stipend_total_usd=-1',
      'stipend_total_usd=0.1234567',
      'stipend_total_usd=1e3',
      'stipend_total_usd= 1',
      'stipend_hosts=a.com,,b.com',
      'stipend_hosts=api.*.com',
      'stipend_hosts=a.com/path',
      'stipend_hosts=a.com:443',
      'stipend_hosts=a.com, b.com',
      'stipend_methods=GET HEAD',
      'stipend_protocols=x402:',
      'stipend_expires=1.5',
      'stipend_expires=-3',
      'stipend_delegation=short',
    ]) {
      expect(
        code(() => parseCaveat(bad)),
        bad,
      ).toBe('DELEGATION_INVALID/malformed');
    }
  });
});

describe('capsToCaveats', () => {
  it('turns caps into caveats, total first', () => {
    const caveats = capsToCaveats({
      totalUsd: '0.10',
      perRequestUsd: 20_000n,
      hosts: ['*.Example.com'],
      methods: ['get', 'head'],
      protocols: ['x402'],
      expiresAt: NOW + 999,
      approveAbove: '$0.05',
    }).map(formatCaveat);
    expect(caveats).toEqual([
      'stipend_total_usd=0.10',
      'stipend_request_usd=0.02',
      'stipend_hosts=*.example.com',
      'stipend_methods=GET,HEAD',
      'stipend_protocols=x402',
      `stipend_expires=${Math.floor(NOW / 1000)}`,
      'stipend_approve_above=0.05',
    ]);
  });

  it('names the cap to fix', () => {
    expect(() => capsToCaveats({ totalUsd: 'ten' })).toThrow(/totalUsd/);
    expect(() => capsToCaveats({ perRequestUsd: -1n })).toThrow(/perRequestUsd/);
    expect(() => capsToCaveats({ hosts: ['https://a.com'] })).toThrow(/hosts/);
    expect(() => capsToCaveats({ methods: ['GET POST'] })).toThrow(/methods/);
    expect(() => capsToCaveats({ expiresAt: Number.NaN })).toThrow(/expiresAt/);
  });
});

describe('narrowing: repeated caveats intersect', () => {
  it('narrower values are accepted and take effect', () => {
    const limits = limitsOf(
      [
        'stipend_total_usd=0.10',
        'stipend_total_usd=0.05',
        'stipend_request_usd=0.02',
        'stipend_request_usd=0.01',
        'stipend_approve_above=0.05',
        'stipend_approve_above=0.01',
        'stipend_expires=2000',
        'stipend_expires=1000',
        'stipend_methods=GET,HEAD,POST',
        'stipend_methods=GET,HEAD',
        'stipend_hosts=*.example.com,other.org',
        'stipend_hosts=api.example.com',
        'stipend_protocols=x402,mpp',
        'stipend_protocols=x402:exact,mpp:stripe.charge',
      ],
      true,
    );
    expect(limits).toEqual({
      totalUsdMicros: 50_000n,
      perRequestUsdMicros: 10_000n,
      approveAboveUsdMicros: 10_000n,
      expiresAt: 1_000_000,
      methods: ['GET', 'HEAD'],
      hosts: ['api.example.com'],
      protocols: ['x402:exact', 'mpp:stripe.charge'],
    });
  });

  // For every kind: a widening caveat is refused in strict mode and has no effect otherwise.
  const widening: [string, string, string, Partial<DelegationLimits>][] = [
    ['total', 'stipend_total_usd=0.10', 'stipend_total_usd=1.00', { totalUsdMicros: 100_000n }],
    [
      'per request',
      'stipend_request_usd=0.01',
      'stipend_request_usd=0.02',
      { perRequestUsdMicros: 10_000n },
    ],
    [
      'approval threshold',
      'stipend_approve_above=0.01',
      'stipend_approve_above=5',
      { approveAboveUsdMicros: 10_000n },
    ],
    ['expiry', 'stipend_expires=1000', 'stipend_expires=1001', { expiresAt: 1_000_000 }],
    ['methods', 'stipend_methods=GET,HEAD', 'stipend_methods=GET,POST', { methods: ['GET'] }],
    [
      'hosts',
      'stipend_hosts=api.example.com',
      'stipend_hosts=*.example.com',
      { hosts: ['api.example.com'] },
    ],
    ['hosts (apex)', 'stipend_hosts=*.example.com', 'stipend_hosts=example.com', { hosts: [] }],
    ['hosts (all)', 'stipend_hosts=a.com', 'stipend_hosts=*', { hosts: ['a.com'] }],
    [
      'protocols',
      'stipend_protocols=x402:exact',
      'stipend_protocols=x402',
      { protocols: ['x402:exact'] },
    ],
    [
      'protocols (other)',
      'stipend_protocols=x402',
      'stipend_protocols=x402,l402',
      { protocols: ['x402'] },
    ],
  ];
  for (const [kind, first, wider, expected] of widening) {
    it(`a widening ${kind} caveat is refused (strict) and has no effect (lenient)`, () => {
      expect(code(() => limitsOf([first, wider], true))).toBe('DELEGATION_INVALID/widened');
      expect(limitsOf([first, wider], false)).toEqual(expected);
    });
  }

  const caveatArb: fc.Arbitrary<Caveat> = fc.oneof(
    fc
      .bigInt({ min: 0n, max: 200_000n })
      .map((usdMicros) => ({ kind: 'total_usd' as const, usdMicros })),
    fc
      .bigInt({ min: 0n, max: 200_000n })
      .map((usdMicros) => ({ kind: 'request_usd' as const, usdMicros })),
    fc
      .bigInt({ min: 0n, max: 200_000n })
      .map((usdMicros) => ({ kind: 'approve_above' as const, usdMicros })),
    fc.integer({ min: 0, max: 5000 }).map((unixSec) => ({ kind: 'expires' as const, unixSec })),
    fc
      .subarray(['GET', 'HEAD', 'POST', 'PUT'])
      .map((methods) => ({ kind: 'methods' as const, methods })),
    fc
      .subarray([
        '*',
        '*.example.com',
        'api.example.com',
        'a.b.example.com',
        'example.com',
        'other.org',
      ])
      .map((patterns) => ({ kind: 'hosts' as const, patterns })),
    fc
      .subarray(['x402', 'x402:exact', 'x402:upto', 'mpp', 'mpp:stripe.charge', 'l402'])
      .map((protocols) => ({ kind: 'protocols' as const, protocols })),
  );
  const requestArb = fc.record({
    now: fc.integer({ min: 0, max: 6_000_000 }),
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT'),
    host: fc.constantFrom(
      'api.example.com',
      'a.b.example.com',
      'example.com',
      'other.org',
      'x.org',
    ),
    rail: fc.constantFrom(
      { protocol: 'x402', scheme: 'exact' },
      { protocol: 'x402', scheme: 'upto' },
      { protocol: 'mpp', scheme: 'stripe.charge' },
      { protocol: 'mpp', scheme: 'evm.charge' },
    ),
    usdMicros: fc.bigInt({ min: 0n, max: 300_000n }),
  });

  it('appending any caveat never allows a request the shorter list refused (property)', () => {
    fc.assert(
      fc.property(
        fc.array(caveatArb, { maxLength: 6 }),
        caveatArb,
        requestArb,
        (prefix, extra, req) => {
          const before = prefix.reduce<DelegationLimits>((l, c) => narrowLimits(l, c, false), {});
          const after = narrowLimits(before, extra, false);
          const query = { ...req, url: new URL(`https://${req.host}/x`) };
          const allowedBefore = code(() => checkScope(before, query)) === undefined;
          const allowedAfter = code(() => checkScope(after, query)) === undefined;
          if (!allowedBefore) expect(allowedAfter).toBe(false);
          // Every caveat on the list is respected on its own, too.
          if (allowedAfter) {
            for (const caveat of [...prefix, extra]) {
              expect(
                code(() => checkScope(narrowLimits({}, caveat, false), query)),
              ).toBeUndefined();
            }
          }
          for (const key of ['totalUsdMicros', 'approveAboveUsdMicros'] as const) {
            if (before[key] !== undefined) expect(after[key]! <= before[key]!).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('strict mode accepts exactly the caveats that do not widen', () => {
    fc.assert(
      fc.property(
        fc.array(caveatArb, { maxLength: 5 }),
        caveatArb,
        requestArb,
        (prefix, extra, req) => {
          const before = prefix.reduce<DelegationLimits>((l, c) => narrowLimits(l, c, false), {});
          let strict: DelegationLimits | undefined;
          try {
            strict = narrowLimits(before, extra, true);
          } catch {
            strict = undefined;
          }
          if (strict === undefined) return;
          // Accepted in strict mode: the caveat alone is at least as loose as the limits before,
          // so the result equals the lenient one.
          expect(strict).toEqual(narrowLimits(before, extra, false));
          const query = { ...req, url: new URL(`https://${req.host}/x`) };
          expect(code(() => checkScope(strict!, query)) === undefined).toBe(
            code(() => checkScope(narrowLimits(before, extra, false), query)) === undefined,
          );
        },
      ),
    );
  });
});

describe('checkScope', () => {
  const limits = limitsOf(
    [
      'stipend_request_usd=0.02',
      'stipend_hosts=*.example.com',
      'stipend_methods=GET,HEAD',
      'stipend_protocols=x402,mpp:stripe.charge',
      `stipend_expires=${NOW / 1000 + 3600}`,
    ],
    true,
  );
  const ok = {
    now: NOW,
    method: 'get',
    url: new URL('https://api.example.com/data'),
    rail: { protocol: 'x402', scheme: 'exact' },
    usdMicros: 20_000n,
  };

  it('allows a request inside every caveat', () => {
    expect(code(() => checkScope(limits, ok))).toBeUndefined();
    expect(
      code(() => checkScope(limits, { ...ok, rail: { protocol: 'mpp', scheme: 'stripe.charge' } })),
    ).toBeUndefined();
  });

  it('names the check that fails', () => {
    expect(code(() => checkScope(limits, { ...ok, now: NOW + 3600_000 }))).toBe(
      'DELEGATION_EXPIRED/expired',
    );
    expect(code(() => checkScope(limits, { ...ok, method: 'POST' }))).toBe(
      'DELEGATION_OUT_OF_SCOPE/method',
    );
    expect(code(() => checkScope(limits, { ...ok, url: new URL('https://example.com/') }))).toBe(
      'DELEGATION_OUT_OF_SCOPE/host',
    );
    expect(
      code(() => checkScope(limits, { ...ok, rail: { protocol: 'mpp', scheme: 'evm.charge' } })),
    ).toBe('DELEGATION_OUT_OF_SCOPE/protocol');
    expect(code(() => checkScope(limits, { ...ok, usdMicros: 20_001n }))).toBe(
      'DELEGATION_EXCEEDED/per_request',
    );
  });

  it('refuses rails whose proof is a preimage, whatever the caveats', () => {
    expect(
      code(() => checkScope({}, { now: NOW, rail: { protocol: 'l402', scheme: 'bolt11' } })),
    ).toBe('DELEGATION_RAIL_REFUSED/secret_proof');
    expect(
      code(() =>
        checkScope({}, { now: NOW, rail: { protocol: 'mpp', scheme: 'lightning.charge' } }),
      ),
    ).toBe('DELEGATION_RAIL_REFUSED/secret_proof');
    expect(railCarriesSecret({ protocol: 'mpp', scheme: 'stripe.charge' })).toBe(false);
  });
});

describe('host patterns', () => {
  it('match like the policy: subdomains at any depth, not the apex', () => {
    expect(hostMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('*.example.com', 'badexample.com')).toBe(false);
    expect(hostMatches('*', 'anything')).toBe(true);
  });

  it('cover only what they match', () => {
    expect(hostCovers('*.example.com', '*.a.example.com')).toBe(true);
    expect(hostCovers('*.example.com', 'a.example.com')).toBe(true);
    expect(hostCovers('*.example.com', 'example.com')).toBe(false);
    expect(hostCovers('*.example.com', '*.badexample.com')).toBe(false);
    expect(hostCovers('a.example.com', '*.example.com')).toBe(false);
    expect(hostCovers('*.a.example.com', '*.example.com')).toBe(false);
  });
});
