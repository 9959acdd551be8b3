import { type ApprovalRequest, amount } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { APPROVE_FIELD, approvalElicitation, elicitationApprover } from './elicitation.js';

const request: ApprovalRequest = {
  origin: 'https://weather.mcp',
  resource: 'https://weather.mcp/tools/get_weather',
  method: 'POST',
  protocol: 'x402',
  scheme: 'exact',
  payee: '0xPayee',
  network: 'eip155:8453',
  amount: amount(1500n, {
    kind: 'token',
    network: 'eip155:8453',
    asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
    decimals: 6,
    symbol: 'USDC',
  }),
  usdMicros: 1500n,
  remaining: [{ scope: 'global', window: 'calendar:day', usdMicros: 998_500n }],
  why: 'above_threshold',
  tags: ['mcp'],
};

describe('approvalElicitation', () => {
  it('describes the payment and asks for one boolean', () => {
    const params = approvalElicitation(request);
    expect(params.mode).toBe('form');
    expect(params.message).toBe(
      'Approve a payment of $0.0015 (0.0015 USDC) to 0xPayee for POST ' +
        'https://weather.mcp/tools/get_weather, paid by x402/exact on eip155:8453? Asked because ' +
        'it costs more than the policy pays without asking. After it: $0.9985 left in global (calendar:day).',
    );
    expect(params.requestedSchema).toEqual({
      type: 'object',
      properties: {
        approve: {
          type: 'boolean',
          title: 'Pay $0.0015',
          description: 'Pay 0.0015 USDC to 0xPayee (https://weather.mcp)',
          default: false,
        },
      },
      required: ['approve'],
    });
  });
});

describe('elicitationApprover', () => {
  const signal = new AbortController().signal;
  it.each([
    [{ action: 'accept', content: { [APPROVE_FIELD]: true } }, true],
    [{ action: 'accept', content: { [APPROVE_FIELD]: false } }, false],
    [{ action: 'accept', content: { [APPROVE_FIELD]: 'true' } }, false],
    [{ action: 'accept' }, false],
    [{ action: 'decline' }, false],
    [{ action: 'cancel' }, false],
  ] as const)('answer %j approves: %s', async (answer, approved) => {
    const approver = elicitationApprover(async () => answer as never);
    expect(await approver(request, { signal })).toBe(approved);
  });

  it('passes the abort signal to the elicitation', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await elicitationApprover(async (_params, options) => {
      seen = options.signal;
      return { action: 'decline' };
    })(request, { signal: controller.signal });
    expect(seen).toBe(controller.signal);
  });
});
