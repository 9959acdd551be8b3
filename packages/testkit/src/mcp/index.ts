/**
 * Paid MCP tool servers for Stipend's tests, one per MCP payment transport:
 *
 * - **x402** ({@link createX402McpTools}): the x402 MCP transport (`isError` +
 *   `structuredContent` `PaymentRequired`, `_meta["x402/payment"]`,
 *   `_meta["x402/payment-response"]`), verified and settled by the reference
 *   `x402ResourceServer` through the SAME local facilitator as the testkit's x402 HTTP server:
 *   REAL EIP-3009 transfers on anvil.
 * - **MPP** ({@link createMppMcpTools}): the REAL mppx 0.11 server on its MCP SDK transport
 *   (JSON-RPC `-32042` challenges, `_meta["org.paymentauth/credential"]`,
 *   `_meta["org.paymentauth/receipt"]`), charging through the Stripe PaymentIntents stand-in.
 *
 * Both are SDK-independent {@link ToolHost}s (tool definitions plus a `tools/call` handler that
 * throws JSON-RPC errors); mount them on an MCP SDK `Server` to serve them.
 *
 * @module
 */
export {
  createMppMcpTools,
  MPP_MCP_PRICES,
  type MppMcpFailureRecord,
  type MppMcpPaymentRecord,
  type MppMcpTools,
  type MppMcpToolsOptions,
} from './mpp-tools.js';
export {
  JsonRpcError,
  type ToolCallParams,
  type ToolDefinition,
  type ToolHost,
  type ToolResult,
  textResult,
  unknownTool,
} from './tools.js';
export {
  createX402McpTools,
  X402_MCP_PRICES,
  type X402McpCallRecord,
  type X402McpTools,
  type X402McpToolsOptions,
} from './x402-tools.js';
