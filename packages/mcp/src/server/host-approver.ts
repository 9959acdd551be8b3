/**
 * Approvals asked of the MCP host's user: the policy's question goes out as a form elicitation
 * when the host declares it supports one; otherwise the payment is refused with a message that
 * says what to change. Shared by the `stipend mcp` server and the paying proxy.
 *
 * @module
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Approver } from '@stipend/client';
import { elicitationApprover } from '../elicitation.js';

/**
 * An approver that asks the user of the host connected to `server` (MCP form elicitation). A
 * host that does not declare form elicitation gets no question: the approver throws, and the
 * paying core refuses the payment (nothing is signed).
 *
 * @example
 * ```ts
 * import { Server } from '@modelcontextprotocol/sdk/server/index.js';
 * import { createPayingFetch } from '@stipend/client';
 * import { hostApprover } from '@stipend/mcp/server';
 *
 * const server = new Server({ name: 'paid', version: '1.0.0' }, { capabilities: { tools: {} } });
 * const payingFetch = createPayingFetch({ wallets, approver: hostApprover(server) });
 * ```
 */
export function hostApprover(server: Server): Approver {
  return async (request, { signal }) => {
    const elicitation = server.getClientCapabilities()?.elicitation;
    const formSupported =
      elicitation !== undefined &&
      (elicitation.form !== undefined || Object.keys(elicitation).length === 0);
    if (!formSupported) {
      throw new Error(
        'the MCP host does not support form elicitation and no approver is configured; ' +
          'raise approveAbove or set action "allow" in the policy file, or use a host that supports elicitation',
      );
    }
    return elicitationApprover((params, elicitOptions) =>
      server.elicitInput(params, { signal: elicitOptions.signal }),
    )(request, { signal });
  };
}
