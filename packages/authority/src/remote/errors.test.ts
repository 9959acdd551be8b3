import { isStipendError, StipendError } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import {
  DelegationError,
  DelegationExceededError,
  DelegationExpiredError,
  DelegationInvalidError,
  DelegationRailError,
  DelegationScopeError,
  delegationError,
  errorFromJSON,
} from './errors.js';

describe('delegation errors', () => {
  it('pick the class and stable code from the reason', () => {
    const cases = [
      ['signature', DelegationInvalidError, 'DELEGATION_INVALID'],
      ['widened', DelegationInvalidError, 'DELEGATION_INVALID'],
      ['expired', DelegationExpiredError, 'DELEGATION_EXPIRED'],
      ['total', DelegationExceededError, 'DELEGATION_EXCEEDED'],
      ['per_request', DelegationExceededError, 'DELEGATION_EXCEEDED'],
      ['host', DelegationScopeError, 'DELEGATION_OUT_OF_SCOPE'],
      ['secret_proof', DelegationRailError, 'DELEGATION_RAIL_REFUSED'],
    ] as const;
    for (const [reason, Class, code] of cases) {
      const error = delegationError(reason, 'msg', { extra: 1 });
      expect(error).toBeInstanceOf(Class);
      expect(error).toBeInstanceOf(DelegationError);
      expect(isStipendError(error)).toBe(true);
      expect(error.code).toBe(code);
      expect(error.reason).toBe(reason);
      expect(error.details).toEqual({ reason, extra: 1 });
    }
  });

  it('survive JSON (the HTTP boundary) with their class', () => {
    const original = delegationError('total', 'over the cap', { remainingUsdMicros: 5n });
    const back = errorFromJSON(JSON.parse(JSON.stringify(original.toJSON())));
    expect(back).toBeInstanceOf(DelegationExceededError);
    expect(back.code).toBe('DELEGATION_EXCEEDED');
    expect(back.shortMessage).toBe('over the cap');
    expect(back.details).toEqual({ reason: 'total', remainingUsdMicros: '5' });
  });

  it('keep other codes as plain StipendErrors, and never trust a mismatched reason', () => {
    const policy = errorFromJSON({
      code: 'POLICY_DENIED',
      message: 'no',
      details: { reason: 'window_cap' },
    });
    expect(policy).toBeInstanceOf(StipendError);
    expect(policy).not.toBeInstanceOf(DelegationError);
    expect(policy.code).toBe('POLICY_DENIED');
    const forged = errorFromJSON({ code: 'DELEGATION_EXPIRED', details: { reason: 'total' } });
    expect(forged).not.toBeInstanceOf(DelegationError);
    expect(errorFromJSON('garbage').code).toBe('AUTHORITY_ERROR');
  });
});
