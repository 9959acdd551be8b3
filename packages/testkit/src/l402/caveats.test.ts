import { describe, expect, it } from 'vitest';
import { decodeCaveat, decodeServices, servicesCaveat, verifyL402Caveats } from './caveats.js';

const NOW = 1_700_000_000;
const ctx = { service: 'quotes', nowSeconds: NOW };

describe('caveat encoding', () => {
  it('splits at the first "=" only', () => {
    expect(decodeCaveat('a=b=c')).toEqual({ condition: 'a', value: 'b=c' });
    expect(decodeCaveat('meme_capabilities=')).toEqual({
      condition: 'meme_capabilities',
      value: '',
    });
    expect(decodeCaveat('no-equals')).toBeNull();
  });

  it('encodes and decodes services lists', () => {
    const text = servicesCaveat([
      { name: 'quotes', tier: 0 },
      { name: 'reports', tier: 2 },
    ]);
    expect(text).toBe('services=quotes:0,reports:2');
    expect(decodeServices('quotes:0,reports:2')).toEqual([
      { name: 'quotes', tier: 0 },
      { name: 'reports', tier: 2 },
    ]);
    expect(() => decodeServices('')).toThrow(/no services found/);
    expect(() => decodeServices('quotes')).toThrow(/name:tier/);
    expect(() => decodeServices(':0')).toThrow(/name:tier/);
    expect(() => servicesCaveat([])).toThrow(/at least one/);
    expect(() => servicesCaveat([{ name: 'q', tier: 256 }])).toThrow(/0\.\.255/);
  });
});

describe('verifyL402Caveats (aperture semantics)', () => {
  it('accepts the minted caveats and ignores unknown ones', () => {
    expect(
      verifyL402Caveats(
        [
          'services=quotes:0',
          'quotes_capabilities=read',
          `quotes_valid_until=${NOW + 1}`,
          'foo=bar',
          'x',
        ],
        ctx,
      ),
    ).toBeNull();
    expect(verifyL402Caveats([], ctx)).toBeNull();
  });

  it('requires the target service in the last services caveat', () => {
    expect(verifyL402Caveats(['services=reports:0'], ctx)).toBe(
      'target service quotes not authorized',
    );
    expect(verifyL402Caveats(['services=quotes:0,reports:0', 'services=quotes:0'], ctx)).toBeNull();
    expect(verifyL402Caveats(['services=quotes:0,reports:0', 'services=reports:0'], ctx)).toBe(
      'target service quotes not authorized',
    );
  });

  it('lets later services caveats only narrow', () => {
    expect(verifyL402Caveats(['services=quotes:0', 'services=quotes:0,reports:0'], ctx)).toBe(
      'service reports not previously allowed',
    );
    // Tiers are not compared, as in aperture.
    expect(verifyL402Caveats(['services=quotes:0', 'services=quotes:1'], ctx)).toBeNull();
    expect(verifyL402Caveats(['services=quotes:0', 'services=bad'], ctx)).toMatch(/name:tier/);
  });

  it('lets later valid_until caveats only shorten and checks the last against now', () => {
    expect(
      verifyL402Caveats([`quotes_valid_until=${NOW + 100}`, `quotes_valid_until=${NOW + 10}`], ctx),
    ).toBeNull();
    expect(
      verifyL402Caveats([`quotes_valid_until=${NOW + 10}`, `quotes_valid_until=${NOW + 100}`], ctx),
    ).toBe('quotes_valid_until caveat violates increasing restrictiveness');
    expect(verifyL402Caveats([`quotes_valid_until=${NOW}`], ctx)).toBe(
      'not authorized to access service. L402 has expired',
    );
    expect(verifyL402Caveats(['quotes_valid_until=soon'], ctx)).toMatch(/not a valid integer/);
    // Another service's timeout is not this request's concern.
    expect(verifyL402Caveats([`reports_valid_until=${NOW - 1}`], ctx)).toBeNull();
  });

  it('checks capabilities only when a capability is required', () => {
    const caveats = ['quotes_capabilities=read,list'];
    expect(verifyL402Caveats(caveats, ctx)).toBeNull();
    expect(verifyL402Caveats(caveats, { ...ctx, capability: 'list' })).toBeNull();
    expect(verifyL402Caveats(caveats, { ...ctx, capability: 'write' })).toBe(
      'target capability write not authorized',
    );
    expect(
      verifyL402Caveats([...caveats, 'quotes_capabilities=read,write'], {
        ...ctx,
        capability: 'read',
      }),
    ).toBe('capability write not previously allowed');
  });
});
