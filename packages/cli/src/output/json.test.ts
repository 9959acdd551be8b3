import { describe, expect, it } from 'vitest';
import { toJson } from './json.js';

describe('toJson', () => {
  it('writes bigints as decimal strings, nested too', () => {
    expect(toJson({ a: 1n, b: [2n, { c: -3n }], d: 'x' })).toBe(
      '{"a":"1","b":["2",{"c":"-3"}],"d":"x"}',
    );
  });
});
