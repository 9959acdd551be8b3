/**
 * What the MCP commands (`stipend mcp`, `stipend mcp proxy`) pay with: the policy file, the
 * wallets, adapters and prices of the settings, the ledger file and budgets that remember it,
 * and the proxy-aware fetch.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { type BudgetStore, createMemoryBudgetStore } from '@stipend/client';
import { homeFiles } from '../home.js';
import { type NodeFetch, nodeFetch } from '../http/node-fetch.js';
import type { CliIo } from '../io.js';
import { withHistory } from '../ledger/history-budget.js';
import { type JsonlLedger, openJsonlLedger } from '../ledger/jsonl.js';
import { readPolicyFile } from '../policy/load.js';
import { buildPayingParts, type PayingParts } from '../wallets/build.js';
import { fileCredentialStore } from '../wallets/credential-file.js';
import { loadWalletSettings } from '../wallets/settings.js';

/** The flags both MCP commands take. */
export interface McpPayingFlags {
  readonly policy?: string;
  readonly wallets?: string;
  readonly ledger?: string;
}

/** What an MCP command pays with. */
export interface McpPaying {
  /** The policy file in force (`undefined`: the fail-closed defaults). */
  readonly policyFile?: string;
  readonly parts: PayingParts;
  readonly ledger: JsonlLedger;
  readonly budget: BudgetStore;
  readonly http: NodeFetch;
  /** One line for stderr: policy, wallets, ledger. */
  readonly summary: string;
}

/**
 * Reads the policy (checked now, so a mistake fails before serving), the wallet settings, and
 * opens the ledger.
 *
 * @throws {CliError} when the policy, a setting or the ledger cannot be used.
 * @example
 * ```ts
 * import { openMcpPaying } from './mcp-setup.js';
 * import { processIo } from '../io.js';
 * const paying = openMcpPaying({ policy: 'policy.json' }, processIo(), 60_000);
 * // … serve; then
 * await paying.http.close();
 * ```
 */
export function openMcpPaying(flags: McpPayingFlags, io: CliIo, timeoutMs: number): McpPaying {
  const files = homeFiles(io.env);
  const policyFile = flags.policy ?? (existsSync(files.policy) ? files.policy : undefined);
  if (policyFile !== undefined) readPolicyFile(policyFile); // a mistake fails here, clearly
  const settings = loadWalletSettings({
    env: io.env,
    defaultFile: files.wallets,
    ...(flags.wallets !== undefined ? { explicitFile: flags.wallets } : {}),
  });
  const http = nodeFetch(io.env, { timeoutMs });
  const parts = buildPayingParts(settings, {
    fetch: http.fetch,
    credentials: fileCredentialStore(files.credentials),
    timeoutMs,
  });
  const ledger = openJsonlLedger(flags.ledger ?? files.ledger);
  return {
    ...(policyFile !== undefined ? { policyFile } : {}),
    parts,
    ledger,
    budget: withHistory(createMemoryBudgetStore(), ledger.history),
    http,
    summary:
      `policy ${policyFile ?? 'default ($0.10 per request, $1 per UTC day)'}; ` +
      `wallets: ${parts.described.join(', ') || 'none'}; ledger ${ledger.path}`,
  };
}
