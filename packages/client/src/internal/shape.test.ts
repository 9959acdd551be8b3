import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  array,
  boolean,
  describeIssue,
  int,
  nullable,
  object,
  oneOf,
  optional,
  record,
  string,
  unknown,
} from './shape.js';

const issues = (result: ReturnType<ReturnType<typeof unknown>['safeParse']>) =>
  result.success ? [] : result.error.issues.map(describeIssue);

describe('shape', () => {
  it('returns the very value it was given when valid (nothing is rewritten or stripped)', () => {
    const Terms = object({ payTo: string({ min: 1 }), memo: optional(string()) });
    const input = { payTo: 'x', extra: { keep: true } };
    const parsed = Terms.safeParse(input);
    expect(parsed.success && parsed.data).toBe(input);
  });

  it('reports every problem with its path, and says what was expected', () => {
    const Terms = object({
      amount: string({ pattern: /^[1-9][0-9]*$/, what: 'a positive integer' }),
      timeout: int({ min: 1 }),
      paid: boolean(),
      details: object({ chainId: int({ min: 1 }), tags: optional(array(string())) }),
    });
    const parsed = Terms.safeParse({
      amount: '07',
      timeout: 0,
      details: { chainId: 1.5, tags: ['a', 2] },
    });
    expect(issues(parsed)).toEqual([
      'amount: expected a positive integer',
      'timeout: expected at least 1',
      'paid: missing, expected a boolean',
      'details.chainId: expected an integer, got number',
      'details.tags.1: expected a string, got number',
    ]);
    expect(!parsed.success && parsed.error.issues.map((issue) => issue.code)).toEqual([
      'invalid_format',
      'too_small',
      'invalid_type',
      'invalid_type',
      'invalid_type',
    ]);
  });

  it('checks string and array lengths, integer ranges and safe integers', () => {
    expect(issues(string({ min: 1, max: 3 }).safeParse(''))).toEqual([
      'expected at least 1 character(s)',
    ]);
    expect(issues(string({ max: 3 }).safeParse('abcd'))).toEqual([
      'expected at most 3 character(s)',
    ]);
    expect(issues(array(unknown(), { min: 1 }).safeParse([]))).toEqual([
      'expected at least 1 item(s)',
    ]);
    expect(issues(array(unknown(), { max: 1 }).safeParse([1, 2]))).toEqual([
      'expected at most 1 item(s)',
    ]);
    expect(issues(int({ max: 77 }).safeParse(78))).toEqual(['expected at most 77']);
    expect(int().safeParse(2 ** 53).success).toBe(false);
    expect(int().safeParse('1').success).toBe(false);
    expect(int().safeParse(Number.NaN).success).toBe(false);
  });

  it('tells objects, arrays, records and null apart', () => {
    expect(issues(object({}).safeParse([]))).toEqual(['expected an object, got array']);
    expect(issues(object({}).safeParse(null))).toEqual(['expected an object, got null']);
    expect(issues(record(unknown()).safeParse([1]))).toEqual(['expected an object, got array']);
    expect(issues(record(string()).safeParse({ a: 'x', b: 1 }))).toEqual([
      'b: expected a string, got number',
    ]);
    expect(issues(array(unknown()).safeParse({ length: 0 }))).toEqual([
      'expected an array, got object',
    ]);
    expect(nullable(record(unknown())).safeParse(null).success).toBe(true);
    expect(optional(string()).safeParse(undefined).success).toBe(true);
    expect(optional(string()).safeParse(null).success).toBe(false);
  });

  it('reads only own keys (an inherited property is missing)', () => {
    const inherited = Object.create({ payTo: 'x' }) as object;
    expect(issues(object({ payTo: string() }).safeParse(inherited))).toEqual([
      'payTo: missing, expected a string',
    ]);
  });

  it('matches exact values', () => {
    expect(oneOf([2]).safeParse(2).success).toBe(true);
    expect(issues(oneOf([2]).safeParse('2'))).toEqual(['expected 2, got "2"']);
    expect(issues(oneOf(['mainnet', 'regtest']).safeParse(undefined))).toEqual([
      'expected "mainnet" or "regtest", got nothing',
    ]);
  });

  it('never throws, whatever JSON it is given', () => {
    const Any = object({
      a: string({ pattern: /^x+$/ }),
      b: optional(array(record(int()))),
      c: nullable(oneOf([1, 'one'])),
    });
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = Any.safeParse(value);
        expect(typeof parsed.success).toBe('boolean');
      }),
    );
  });
});
