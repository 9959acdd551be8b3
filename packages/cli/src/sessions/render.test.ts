import { describe, expect, it } from 'vitest';
import { sessionRecord } from '../../../client/src/session/store.conformance.test-helpers.js';
import { closeLine, renderSessions, sessionView } from './render.js';

const open = sessionRecord('ses_1', {
  state: 'open',
  depositAtomic: 40_000n,
  spentAtomic: 6_000n,
  uses: 3,
  openedAt: Date.UTC(2026, 0, 15, 12),
  secret: { bearer: 'ab'.repeat(32) },
});

describe('session outputs', () => {
  it('a refund still pending says the deposit stays counted and which command checks again', () => {
    const line = closeLine({
      ...open,
      state: 'closing',
      failure: { code: 'REFUND_PENDING', message: 'not yet' },
    });
    expect(line).toContain('the refund has not reached your node yet');
    expect(line).toContain('stays counted in your budget');
    expect(line).toContain('run stipend sessions close ses_1 again later');
  });

  it('an unanswered close names the CLI command, not the library call', () => {
    const line = closeLine({
      ...open,
      state: 'unknown',
      failure: {
        code: 'OUTCOME_UNKNOWN',
        message:
          'The close request got no answer (timeout); reconcile with payingFetch.sessions.reconcile().',
      },
    });
    expect(line).toContain('OUTCOME_UNKNOWN: The close request got no answer (timeout)');
    expect(line).not.toContain('payingFetch');
    expect(line).toContain('Run stipend sessions close ses_1 again to retry');
  });

  it('a session opened with a wallet not configured here names the wallet and where to configure it', () => {
    const line = closeLine({
      ...open,
      state: 'unknown',
      failure: { code: 'CONFIG_INVALID', message: 'The wallet wallet-1 … is not configured here' },
    });
    expect(line).toMatch(/configure the wallet wallet-1 \(see stipend help wallets\)/);
  });

  it('secrets never reach an output: views and tables leave the bearer out', () => {
    const secret = open.secret!.bearer!;
    expect(JSON.stringify(sessionView(open))).not.toContain(secret);
    expect(renderSessions([open], 'sessions.jsonl')).not.toContain(secret);
    expect(sessionView(open)).toMatchObject({
      deposit: { value: '40000', unit: 'lightning:msat', display: '40 sat' },
      openedAt: '2026-01-15T12:00:00Z',
    });
  });
});
