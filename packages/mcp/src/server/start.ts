/**
 * `startMcpServer`: the MCP server behind `stipend mcp`. It exposes exactly two tools to any MCP
 * host — `fetch` (paid within the spend policy) and `budget_status` (read-only) — and nothing
 * that can change the policy. Targets are checked at connect time after DNS resolution.
 *
 * @module
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { PriceSource } from '@stipend/client';
import {
  type Approver,
  type BudgetStore,
  createPayingFetch,
  type HttpRule,
  type Ledger,
  type PayingFetch,
  type ProtocolAdapter,
  type SpendPolicy,
  StipendError,
  type Wallet,
} from '@stipend/client';
import { allowHostsFromEnv, parseAllowList } from './address-guard.js';
import { type BudgetStatus, budgetStatus } from './budget-status.js';
import { createGuardedAgent, guardedFetch } from './dispatcher.js';
import { errorResult, FETCH_TOOL, parseFetchInput, runFetch } from './fetch-tool.js';
import { hostApprover } from './host-approver.js';
import { loadPolicyFile } from './policy-file.js';

/** The `budget_status` tool as `tools/list` shows it. */
export const BUDGET_STATUS_TOOL: Tool = {
  name: 'budget_status',
  title: 'Budgets and recent spend',
  description:
    'Reports the spend policy in force: per-request caps, every budget with what is spent, held ' +
    'and left in its current window, and the most recent payments. Read-only.',
  inputSchema: {
    type: 'object',
    properties: {
      recent: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        description: 'How many recent payments to list (default 10).',
      },
    },
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, openWorldHint: false },
};

/** Options of {@link startMcpServer}. */
export interface McpServerOptions {
  /** Wallets that pay (`evmWallet`, `stripeWallet`, `lightningWallet`…). */
  readonly wallets: readonly Wallet[];
  /** A JSON spend policy file, read and checked at start. Exclusive with `policy`. */
  readonly policyFile?: string;
  /** The spend policy. Without it (and without `policyFile`) the fail-closed defaults apply. */
  readonly policy?: SpendPolicy;
  /** Protocol adapters (default: x402, L402 and MPP). */
  readonly adapters?: readonly ProtocolAdapter[];
  /** Prices for converting offers into USD. */
  readonly prices?: PriceSource;
  readonly budget?: BudgetStore;
  readonly ledger?: Ledger;
  /**
   * Asked when the policy needs approval. Default: the MCP host's user, through elicitation,
   * when the host supports it; otherwise such payments are refused.
   */
  readonly approver?: Approver;
  /**
   * Hosts and addresses the `fetch` tool may reach although they are not public: host names,
   * IP addresses, CIDR ranges (`['127.0.0.1']` for local testing). Added to the entries of
   * `STIPEND_MCP_ALLOW_HOSTS`.
   */
  readonly allowHosts?: readonly string[];
  /** Where `STIPEND_MCP_ALLOW_HOSTS` is read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `'stdio'` (default) or an MCP SDK transport (in-memory, HTTP…). */
  readonly transport?: 'stdio' | Transport;
  /** Plain-HTTP payments (see `createPayingFetch`). Default `'loopback'`. */
  readonly allowHttp?: HttpRule;
  /** Tags on every paid call (select policy tag rules). Default `['mcp']`. */
  readonly tags?: readonly string[];
  /** Largest response body returned to the model, in bytes. Default 256 KiB. */
  readonly maxResponseBytes?: number;
  /** Time limit of one `fetch` call, payment included, in ms. Default 120 000. */
  readonly requestTimeoutMs?: number;
  /**
   * Deadline of each request to a seller, in ms (`createPayingFetch`'s `timeoutMs`; what
   * `stipend mcp --timeout <seconds>` sets). Default: the paying fetch's own.
   */
  readonly timeoutMs?: number;
  /** Server name and version shown to hosts. */
  readonly name?: string;
  readonly version?: string;
}

/** A running Stipend MCP server. */
export interface McpServerHandle {
  /** The MCP SDK server. */
  readonly server: Server;
  /** The paying fetch behind the `fetch` tool (its `ledger`, `budget`, `engine`). */
  readonly payingFetch: PayingFetch;
  /** The allow-list in force (options and environment). */
  readonly allowHosts: readonly string[];
  /** Settles when the transport closes (the host went away, or `close()`). */
  readonly closed: Promise<void>;
  /** Closes the transport and the HTTP connections. */
  close(): Promise<void>;
}

/**
 * Starts the Stipend MCP server: a paid `fetch` tool backed by `createPayingFetch` with the
 * policy from a file, a `budget_status` tool, and no tool that can change the policy. Private,
 * loopback and link-local targets are refused at connect time after DNS resolution, unless
 * allow-listed (`allowHosts`, `STIPEND_MCP_ALLOW_HOSTS`). This is what `stipend mcp` runs.
 *
 * @throws {StipendError} `POLICY_FILE_UNREADABLE`, `POLICY_INVALID`, `ALLOW_HOSTS_INVALID`.
 * @example
 * ```ts
 * import { startMcpServer } from '@stipend/mcp/server';
 * import { evmWallet } from '@stipend/wallet-evm';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const handle = await startMcpServer({
 *   wallets: [evmWallet({ account: privateKeyToAccount(process.env.STIPEND_EVM_KEY as `0x${string}`) })],
 *   policyFile: './stipend.policy.json',
 *   transport: 'stdio',
 * });
 * await handle.closed;
 * ```
 */
export async function startMcpServer(options: McpServerOptions): Promise<McpServerHandle> {
  if (options.policy !== undefined && options.policyFile !== undefined) {
    throw new StipendError('POLICY_INVALID', 'Give either policy or policyFile, not both.');
  }
  const policy =
    options.policyFile !== undefined ? await loadPolicyFile(options.policyFile) : options.policy;
  const allowHosts = [
    ...(options.allowHosts ?? []),
    ...allowHostsFromEnv(options.env ?? process.env),
  ];
  const allow = parseAllowList(allowHosts);
  const agent = createGuardedAgent({ allow });

  const server = new Server(
    { name: options.name ?? 'stipend', version: options.version ?? '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Use the fetch tool to read URLs, including paid APIs (HTTP 402): it pays within the ' +
        "user's spend policy. Call budget_status to see what is left before expensive calls.",
    },
  );

  const askHost = hostApprover(server);

  const payingFetch = createPayingFetch({
    wallets: options.wallets,
    ...(policy !== undefined ? { policy } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
    ...(options.prices ? { prices: options.prices } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    ...(options.allowHttp !== undefined ? { allowHttp: options.allowHttp } : {}),
    approver: options.approver ?? askHost,
    fetch: guardedFetch(agent),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });

  const tags = options.tags ?? ['mcp'];
  const maxResponseBytes = options.maxResponseBytes ?? 256 * 1024;
  const requestTimeoutMs = options.requestTimeoutMs ?? 120_000;

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [FETCH_TOOL, BUDGET_STATUS_TOOL],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const args = request.params.arguments ?? {};
    if (request.params.name === FETCH_TOOL.name) {
      let input: ReturnType<typeof parseFetchInput>;
      try {
        input = parseFetchInput(args);
      } catch (error) {
        return errorResult(error);
      }
      const signal = AbortSignal.any([extra.signal, AbortSignal.timeout(requestTimeoutMs)]);
      return runFetch(payingFetch, input, { maxResponseBytes, tags, signal });
    }
    if (request.params.name === BUDGET_STATUS_TOOL.name) {
      const recent = (args as { recent?: unknown }).recent;
      if (
        recent !== undefined &&
        !(typeof recent === 'number' && Number.isInteger(recent) && recent >= 0 && recent <= 100)
      ) {
        return errorResult(
          new StipendError('TOOL_INPUT_INVALID', 'recent must be a whole number from 0 to 100.'),
        );
      }
      const status = await budgetStatus(payingFetch, {
        ...(typeof recent === 'number' ? { recent } : {}),
      });
      return statusResult(status);
    }
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown tool ${JSON.stringify(request.params.name)}; this server has fetch and budget_status.`,
    );
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  server.onclose = () => {
    resolveClosed();
  };
  let agentClosed: Promise<void> | undefined;
  const closeAgent = () => {
    agentClosed ??= agent.close().catch(() => {});
    return agentClosed;
  };
  void closed.then(closeAgent);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await server.close();
      resolveClosed();
      await closeAgent();
    })();
    return closing;
  };

  const transport = options.transport ?? 'stdio';
  try {
    await server.connect(transport === 'stdio' ? new StdioServerTransport() : transport);
  } catch (error) {
    await closeAgent();
    throw error;
  }
  if (transport === 'stdio') {
    // A host stops a stdio server by closing its stdin; the SDK transport does not notice.
    const stop = () => {
      void close();
    };
    process.stdin.once('end', stop);
    process.stdin.once('close', stop);
    void closed.then(() => {
      process.stdin.off('end', stop);
      process.stdin.off('close', stop);
    });
  }

  return { server, payingFetch, allowHosts: allow.entries, closed, close };
}

function statusResult(status: BudgetStatus): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(status, null, 2) }],
    structuredContent: status as unknown as Record<string, unknown>,
  };
}
