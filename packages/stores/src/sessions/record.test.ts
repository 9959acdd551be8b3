/** The one check of stored session records: what may be stored, what may be read back. */
import { isStipendError } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { sessionRecord } from '../../../client/src/session/store.conformance.test-helpers.js';
import { stringifyJson } from '../codec.js';
import { isLiveSession, matchesSessionFilter, sessionFromStore, sessionToStore } from './record.js';

const SECRET = 'd'.repeat(64);
const hold = {
  reservationId: 'r1',
  kind: 'open',
  atomic: 10n,
  reservedUsdMicros: 1n,
  rate: { numerator: 1n, denominator: 1n },
  state: 'paid',
} as const;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isStipendError(error) ? error.code : 'not a StipendError';
  }
  return undefined;
}

describe('sessionToStore', () => {
  it('stores version = expected + 1 whatever the record says, as a deeply frozen copy', () => {
    const { record } = sessionToStore({ ...sessionRecord('ses_1'), version: 40 }, 2);
    expect(record.version).toBe(3);
    expect(Object.isFrozen(record.methodData)).toBe(true);
  });

  it.each([
    ['a negative amount', { spentAtomic: -1n }, 'spentAtomic'],
    ['an amount as a number', { depositAtomic: 5 }, 'depositAtomic'],
    ['an unknown state', { state: 'paid' }, 'state'],
    ['a hold without a rate', { holds: [{ ...hold, rate: undefined }] }, 'holds[0].rate'],
    [
      'a zero rate denominator',
      { holds: [{ ...hold, rate: { numerator: 1n, denominator: 0n } }] },
      'holds[0].rate.denominator',
    ],
    ['a secret that is not a string', { secret: { bearer: 5 } }, 'secret.bearer'],
    ['fractional uses', { uses: 1.5 }, 'uses'],
    ['an empty scope', { scope: '' }, 'scope'],
    [
      'a disagreement of another source',
      { disagreement: { source: 'server', claimedAtomic: 1n, countedAtomic: 0n, at: 1 } },
      'disagreement.source',
    ],
    [
      'a disagreement claiming a number',
      { disagreement: { source: 'receipt', claimedAtomic: 5, countedAtomic: 0n, at: 1 } },
      'disagreement.claimedAtomic',
    ],
  ])('refuses %s with JOURNAL_INVALID naming %s', (_, change, field) => {
    const input = { ...sessionRecord('ses_2'), secret: { bearer: SECRET }, ...change };
    let error: unknown;
    try {
      sessionToStore(input as never, 0);
    } catch (caught) {
      error = caught;
    }
    expect(isStipendError(error) && error.code).toBe('JOURNAL_INVALID');
    expect(isStipendError(error) && error.details).toMatchObject({ field, id: 'ses_2' });
    expect(JSON.stringify(error) + String(error)).not.toContain(SECRET);
  });

  it('keeps a well-formed disagreement (a receipt claiming more than was counted)', () => {
    const disagreement = { source: 'receipt', claimedAtomic: 999n, countedAtomic: 20n, at: 5 };
    const { record } = sessionToStore({ ...sessionRecord('ses_3'), disagreement } as never, 0);
    expect(record.disagreement).toEqual(disagreement);
  });

  it('refuses a negative or fractional expected version', () => {
    expect(codeOf(() => sessionToStore(sessionRecord('ses_3'), -1))).toBe('JOURNAL_INVALID');
    expect(codeOf(() => sessionToStore(sessionRecord('ses_3'), 0.5))).toBe('JOURNAL_INVALID');
  });

  it('refuses class instances and NaN (they cannot round-trip)', () => {
    const dated = { ...sessionRecord('ses_4'), methodData: { at: new Date() } };
    expect(codeOf(() => sessionToStore(dated, 0))).toBe('JOURNAL_INVALID');
    expect(
      codeOf(() => sessionToStore({ ...sessionRecord('ses_4'), createdAt: Number.NaN }, 0)),
    ).toBe('JOURNAL_INVALID');
  });
});

describe('sessionFromStore', () => {
  it('reads back what was stored, bigints exact, from data or text', () => {
    const big = 10n ** 40n + 1n;
    const { record, json } = sessionToStore(
      sessionRecord('ses_5', { depositAtomic: big, holds: [{ ...hold, atomic: big }] }),
      0,
    );
    expect(sessionFromStore(json, 'here')).toEqual(record);
    expect(sessionFromStore(JSON.stringify(json), 'here').holds[0]?.atomic).toBe(big);
  });

  it('says STORE_CORRUPT for anything it cannot trust, never quoting the stored text', () => {
    const good = JSON.parse(stringifyJson({ ...sessionRecord('ses_6'), version: 1 }));
    for (const stored of [
      `{"id":"ses_6","secret":{"bearer":"${SECRET}"`,
      { ...good, version: 0, secret: { bearer: SECRET } },
      { ...good, holds: [{ $weird: SECRET }] },
      { ...good, spentAtomic: { $b: SECRET } },
      null,
      [SECRET],
    ]) {
      let error: unknown;
      try {
        sessionFromStore(stored, 'the test store');
      } catch (caught) {
        error = caught;
      }
      expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
      expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(SECRET);
    }
  });
});

describe('liveness and filters follow the client', () => {
  it('opening, open, closing and unknown are live; closed is not', () => {
    expect(
      (['opening', 'open', 'closing', 'unknown', 'closed'] as const).map((state) =>
        isLiveSession({ state }),
      ),
    ).toEqual([true, true, true, true, false]);
  });

  it('a filter matches only when every given field matches', () => {
    const record = sessionRecord('ses_7', { state: 'open' });
    expect(matchesSessionFilter(record, undefined)).toBe(true);
    expect(matchesSessionFilter(record, { states: ['open'], method: 'lightning' })).toBe(true);
    expect(matchesSessionFilter(record, { states: ['open'], method: 'tempo' })).toBe(false);
    expect(matchesSessionFilter(record, { origin: 'https://other.example' })).toBe(false);
  });
});
