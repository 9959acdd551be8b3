import { describe, expect, it } from 'vitest';
import {
  canMove,
  FINAL,
  MONEY_IN_FLIGHT,
  MONEY_SPENT,
  type PurchaseState,
  TRANSITIONS,
} from './state.js';

const ALL = Object.keys(TRANSITIONS) as PurchaseState[];

describe('the purchase lifecycle', () => {
  it('final states have no way out', () => {
    for (const state of FINAL) expect(TRANSITIONS[state]).toEqual([]);
  });

  it('nothing goes back to decided: a purchase is never re-decided after money may have moved', () => {
    for (const state of ALL) expect(TRANSITIONS[state]).not.toContain('decided');
  });

  it('money that may be moving can only end as spent, void, or stay held (live/unknown)', () => {
    for (const state of MONEY_IN_FLIGHT) {
      for (const next of TRANSITIONS[state]) {
        expect(MONEY_SPENT.has(next) || next === 'void' || MONEY_IN_FLIGHT.has(next)).toBe(true);
      }
    }
  });

  it('spent money is never released: paid and delivered never become void', () => {
    for (const state of MONEY_SPENT) expect(TRANSITIONS[state]).not.toContain('void');
  });

  it('a refused or unknown purchase is never sent again as a new authorization (no path back to authorizing)', () => {
    for (const state of ['sent', 'live', 'unknown', 'paid'] as const) {
      expect(TRANSITIONS[state]).not.toContain('authorizing');
      expect(TRANSITIONS[state]).not.toContain('signed');
    }
  });

  it('canMove allows the table and patches in place, nothing else', () => {
    expect(canMove('sent', 'live')).toBe(true);
    expect(canMove('live', 'live')).toBe(true);
    expect(canMove('void', 'paid')).toBe(false);
    expect(canMove('delivered', 'void')).toBe(false);
    let allowed = 0;
    for (const from of ALL) for (const to of ALL) if (from !== to && canMove(from, to)) allowed++;
    expect(allowed).toBe(ALL.reduce((sum, state) => sum + TRANSITIONS[state].length, 0));
  });
});
