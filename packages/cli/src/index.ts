/**
 * `@stipend/cli`: the `stipend` command as a library — run it in-process, or reuse its parts
 * (the demo, the JSON-lines ledger, budgets that remember it, the proxy-aware fetch).
 *
 * @module
 */
export { cliApprover, describeApproval } from './approve/approver.js';
export { type DryRunReport, dryRun } from './commands/dry-run.js';
export { openSession, type PayingSession, type SessionFlags } from './commands/session.js';
export { type DemoOptions, runDemo } from './demo/run.js';
export { homeFiles, stipendHome } from './home.js';
export { type NodeFetch, nodeFetch } from './http/node-fetch.js';
export { CliError, type CliIo, EXIT, type Output, processIo } from './io.js';
export { withHistory } from './ledger/history-budget.js';
export { formatJsonl, type JsonlLedger, openJsonlLedger, readLedgerFile } from './ledger/jsonl.js';
export { formatCsv, type LedgerTotal, ledgerTotals, renderTotals } from './ledger/report.js';
export { HELP, main } from './main.js';
export { toJson } from './output/json.js';
export { explainPolicy } from './policy/explain.js';
export { loadPolicy, readPolicyFile } from './policy/load.js';
export { buildPayingParts, type PayingParts } from './wallets/build.js';
export { loadWalletSettings, type WalletSettings } from './wallets/settings.js';
