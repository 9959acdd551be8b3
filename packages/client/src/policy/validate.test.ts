import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import type { SpendPolicy } from './types.js';
import { compileRule, validatePolicy } from './validate.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('validatePolicy reports every mistake at once', () => {
  it('names each faulty field in details.problems, in policy order, the first in the message', () => {
    const policy = {
      global: {
        maxPerRequest: { usd: '0.1.0' },
        limits: [{ usd: '5', window: { calendar: 'fortnight' } }],
        lmits: [],
      },
      hosts: { 'api.example.com': { action: 'maybe', approveAbove: 1 } },
      prefer: [''],
    } as unknown as SpendPolicy;
    const error = thrown(() => validatePolicy(policy));
    expect(isStipendError(error) && error.code).toBe('POLICY_INVALID');
    const { details, shortMessage } = error as {
      details: { path: string; problems: { path: string; message: string }[] };
      shortMessage: string;
    };
    expect(details.problems.map((problem) => problem.path)).toEqual([
      'policy.global.lmits',
      'policy.global.maxPerRequest.usd',
      'policy.global.limits[0].window',
      'policy.hosts["api.example.com"].action',
      'policy.hosts["api.example.com"].approveAbove',
      'policy.prefer[0]',
    ]);
    expect(details.path).toBe('policy.global.lmits');
    expect(shortMessage).toMatch(/^policy\.global\.lmits: is not a known field .*\(and 5 more: /);
    expect(shortMessage).toContain('policy.hosts["api.example.com"].action: must be "allow"');
  });

  it('keeps a single mistake as it was: one message, one path', () => {
    const error = thrown(() => validatePolicy({ global: { maxPerRequest: { usd: 'ten' } } }));
    expect((error as { shortMessage: string }).shortMessage).toMatch(
      /^policy\.global\.maxPerRequest\.usd: .*write dollars like "0\.10"/,
    );
    expect((error as { details: object }).details).toEqual({
      path: 'policy.global.maxPerRequest.usd',
    });
  });

  it('compileRule (the per-call override) also lists every mistake', () => {
    const error = thrown(() =>
      compileRule({ maxPerRequest: { usd: 'x' }, limits: [] } as never, {
        source: 'override',
        label: "this call's override",
        path: 'override',
      }),
    );
    const problems = (error as { details: { problems: { path: string }[] } }).details.problems;
    expect(problems.map((problem) => problem.path)).toEqual([
      'override',
      'override.maxPerRequest.usd',
    ]);
  });
});
