/**
 * Approvals through MCP elicitation: when the spend policy says a person must approve a payment
 * (`approveAbove`, `action: "ask"`), the question goes to the MCP host's user as a form
 * elicitation with one boolean field; only an explicit `accept` with `approve: true` pays.
 *
 * @module
 */
import type { ElicitRequestFormParams, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { type ApprovalRequest, type Approver, formatAmount, formatUsd } from '@stipend/client';

/**
 * Sends a form elicitation to the user and resolves with their answer: the MCP server's
 * `server.elicitInput(params, { signal })`, or, in a host, its own elicitation UI.
 */
export type Elicit = (
  params: ElicitRequestFormParams,
  options: { readonly signal: AbortSignal },
) => Promise<ElicitResult>;

/** The name of the form's boolean field. */
export const APPROVE_FIELD = 'approve';

/**
 * The form elicitation that asks a person to approve one payment: what, to whom, for which
 * resource, why the policy asks, and what the budgets keep afterwards. Secret-free.
 *
 * @example
 * ```ts
 * import { approvalElicitation } from '@stipend/mcp';
 * const params = approvalElicitation(request);
 * params.requestedSchema.properties.approve; // { type: 'boolean', … }
 * ```
 */
export function approvalElicitation(request: ApprovalRequest): ElicitRequestFormParams {
  const why =
    request.why === 'rule_ask'
      ? 'the spend policy asks for every payment here'
      : 'it costs more than the policy pays without asking';
  const left = request.remaining
    .map((item) => `${formatUsd(item.usdMicros)} left in ${item.scope} (${item.window})`)
    .join('; ');
  const message =
    `Approve a payment of ${formatUsd(request.usdMicros)} (${formatAmount(request.amount)}) ` +
    `to ${request.payee} for ${request.method} ${request.resource}, paid by ` +
    `${request.protocol}/${request.scheme}${request.network ? ` on ${request.network}` : ''}? ` +
    `Asked because ${why}.${left ? ` After it: ${left}.` : ''}`;
  return {
    mode: 'form',
    message,
    requestedSchema: {
      type: 'object',
      properties: {
        [APPROVE_FIELD]: {
          type: 'boolean',
          title: `Pay ${formatUsd(request.usdMicros)}`,
          description: `Pay ${formatAmount(request.amount)} to ${request.payee} (${request.origin})`,
          default: false,
        },
      },
      required: [APPROVE_FIELD],
    },
  };
}

/**
 * An approver that asks through MCP elicitation. It approves only when the user accepts the
 * form with `approve: true`; a decline, a cancel, anything else or a failure is a refusal.
 *
 * @example
 * ```ts
 * import { createMcpPayments, elicitationApprover } from '@stipend/mcp';
 *
 * const payments = createMcpPayments({
 *   wallets,
 *   policy: { global: { approveAbove: '0.05' } },
 *   approver: elicitationApprover((params, { signal }) => server.elicitInput(params, { signal })),
 * });
 * ```
 */
export function elicitationApprover(elicit: Elicit): Approver {
  return async (request, { signal }) => {
    const answer = await elicit(approvalElicitation(request), { signal });
    return answer.action === 'accept' && answer.content?.[APPROVE_FIELD] === true;
  };
}
