import { type ApprovalRequest, amount, fiatUnit } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../test-io.test-helpers.js';
import { cliApprover, describeApproval } from './approver.js';

const request: ApprovalRequest = {
  origin: 'https://news.example.com',
  resource: 'https://news.example.com/article',
  method: 'GET',
  protocol: 'mpp',
  scheme: 'stripe.charge',
  payee: 'profile_news_seller_123',
  amount: amount(50n, fiatUnit('USD')),
  usdMicros: 500_000n,
  remaining: [{ scope: 'global', window: 'calendar:day', usdMicros: 1_500_000n }],
  why: 'above_threshold',
  tags: [],
};
const signal = new AbortController().signal;

describe('describeApproval', () => {
  it('says what, to whom, for what, why, and what the budget keeps', () => {
    expect(describeApproval(request)).toBe(
      'Pay $0.50 ($0.50 via mpp stripe.charge) to profil…_123 for GET https://news.example.com/article? Asked because it is above the approval threshold; afterwards $1.50 left in the global budget per UTC day.',
    );
    expect(
      describeApproval({ ...request, payee: 'unverified', why: 'rule_ask', remaining: [] }, (id) =>
        id === 'https://news.example.com' ? 'News Co' : undefined,
      ),
    ).toBe(
      'Pay $0.50 ($0.50 via mpp stripe.charge) to News Co for GET https://news.example.com/article? Asked because the policy asks for every payment here.',
    );
  });
});

describe('cliApprover', () => {
  it('approves with --yes and says so', async () => {
    const io = memoryIo();
    expect(await cliApprover({ io, yes: true })(request, { signal })).toBe(true);
    expect(io.err()).toMatch(/^approved by --yes: Pay \$0\.50/);
  });

  it('refuses without a terminal, saying how to approve', async () => {
    const io = memoryIo();
    await expect(cliApprover({ io, yes: false })(request, { signal })).rejects.toThrow(
      /and stdin is not a terminal to ask on: pass --yes to approve it, or run the command in a terminal$/,
    );
  });

  it('asks on a terminal: y and yes approve, anything else or end of input refuses', async () => {
    for (const [typed, expected] of [
      ['y\n', true],
      ['YES\n', true],
      ['n\n', false],
      ['sure\n', false],
    ] as const) {
      const io = memoryIo({ tty: true });
      const answer = cliApprover({ io, yes: false })(request, { signal });
      io.stdin.write(typed);
      expect(await answer).toBe(expected);
      expect(io.err()).toMatch(/\nApprove\? \[y\/N\] (approved|not approved)\n$/);
    }
    const closed = memoryIo({ env: { STIPEND_INTERACTIVE: '1' } });
    const answer = cliApprover({ io: closed, yes: false })(request, { signal });
    closed.stdin.end();
    expect(await answer).toBe(false);
  });

  it('stops asking when the approval times out', async () => {
    const io = memoryIo({ tty: true });
    const timeout = new AbortController();
    const answer = cliApprover({ io, yes: false })(request, { signal: timeout.signal });
    timeout.abort();
    expect(await answer).toBe(false);
  });
});
