/**
 * `@stipend/mcp/server`: the MCP server behind `stipend mcp` — a paid `fetch` tool within a
 * spend policy read from a file, a read-only `budget_status` tool, no tool that can change the
 * policy, and targets checked at connect time after DNS resolution (private, loopback and
 * link-local refused unless allow-listed).
 *
 * @module
 */
export {
  type AllowList,
  allowHostsFromEnv,
  nonPublicRange,
  parseAllowList,
  TargetBlockedError,
} from './address-guard.js';
export {
  type BudgetLine,
  type BudgetStatus,
  budgetStatus,
  type CountLine,
  type RecentPayment,
} from './budget-status.js';
export {
  blockedTargetOf,
  createGuardedAgent,
  type GuardedAgentOptions,
  guardedFetch,
  guardedLookup,
} from './dispatcher.js';
export {
  errorResult,
  FETCH_TOOL,
  type FetchInput,
  parseFetchInput,
  type RunFetchOptions,
  runFetch,
} from './fetch-tool.js';
export { hostApprover } from './host-approver.js';
export { loadPolicyFile } from './policy-file.js';
export { type McpProxyHandle, type McpProxyOptions, startMcpProxy } from './proxy.js';
export {
  BUDGET_STATUS_TOOL,
  type McpServerHandle,
  type McpServerOptions,
  startMcpServer,
} from './start.js';
export { type OpenedUpstream, openUpstream, type UpstreamSpec } from './upstream.js';
