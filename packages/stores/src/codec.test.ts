import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson, encodeJson, parseJson, stringifyJson } from './codec.js';

describe('codec', () => {
  it('tags bigints and infinities and escapes $ keys', () => {
    expect(
      JSON.parse(
        stringifyJson({
          a: 5n,
          b: -Infinity,
          c: Infinity,
          $b: 'user',
          $$x: 1,
          list: [1n, undefined],
          gone: undefined,
        }),
      ),
    ).toEqual({
      a: { $b: '5' },
      b: { $n: '-Infinity' },
      c: { $n: 'Infinity' },
      $$b: 'user',
      $$$x: 1,
      list: [{ $b: '1' }, null],
    });
  });

  it('round-trips user data that looks like a tag', () => {
    const value = { $b: '12', nested: { $n: 'Infinity' }, big: 10n ** 40n, neg: -3n };
    expect(parseJson(stringifyJson(value))).toEqual(value);
  });

  it('round-trips arbitrary JSON-like data with bigints', () => {
    const leaf = fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.bigInt(),
      fc.double({ noNaN: true }).filter((n) => !Object.is(n, -0)),
    );
    const data = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node')),
        fc.dictionary(fc.string(), tie('node')),
      ),
    })).node;
    fc.assert(
      fc.property(data, (value) => {
        expect(parseJson(stringifyJson(value))).toEqual(value);
      }),
    );
  });

  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"polluted":1n}}'.replace('1n', '1'));
    const back = parseJson(stringifyJson(value)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses NaN, class instances and malformed tags', () => {
    expect(() => encodeJson(Number.NaN)).toThrow(/NaN/);
    expect(() => encodeJson(new Date(0))).toThrow(/plain objects/);
    expect(() => encodeJson(() => 1)).toThrow(/function/);
    expect(() => decodeJson({ $b: '1.5' })).toThrow(/bigint/);
    expect(() => decodeJson({ $n: 'NaN' })).toThrow(/number/);
    expect(() => decodeJson({ $z: 1, y: 2 })).toThrow(/Unknown tag/);
  });
});
