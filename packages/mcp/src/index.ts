/**
 * `@stipend/mcp`: pay MCP tool calls under a spend policy. Tool calls answered with payment
 * terms — the x402 MCP transport (`isError` + `structuredContent` `PaymentRequired`, retried with
 * `_meta["x402/payment"]`) and the MPP MCP transport (JSON-RPC `-32042`, retried with
 * `_meta["org.paymentauth/credential"]`) — are paid once, by the same core, policy, budgets and
 * ledger as `createPayingFetch`. Approvals can go to the user as MCP elicitation.
 *
 * The paid `fetch` tool server for MCP hosts is in `@stipend/mcp/server`.
 *
 * @module
 */
export {
  CALL_HEADER,
  type CallTool,
  createMcpBridge,
  type McpAnswer,
  type McpBridge,
  type ToolCallParams,
} from './client/bridge.js';
export {
  MPP_CREDENTIAL_META,
  MPP_PAYMENT_REQUIRED_META,
  MPP_RECEIPT_META,
  PAYMENT_REQUIRED_CODE,
  VERIFICATION_FAILED_CODE,
} from './client/mpp-mcp.js';
export {
  type CallToolAnswer,
  type CallToolParams,
  type CallToolResultSchema,
  createMcpPayments,
  getToolPayment,
  type McpCallOptions,
  type McpClientLike,
  type McpPayments,
  type McpPaymentsConfig,
  type PayingCallTool,
  type PayingClient,
  type WithPaymentsOptions,
  withPayments,
} from './client/payments.js';
export {
  type ToolResultLike,
  X402_PAYMENT_META,
  X402_RESPONSE_META,
  type X402ToolTerms,
  x402TermsOf,
} from './client/x402-mcp.js';
export {
  APPROVE_FIELD,
  approvalElicitation,
  type Elicit,
  elicitationApprover,
} from './elicitation.js';
