/**
 * `startMcpProxy`: a paying proxy in front of any MCP server. The host talks to the proxy as it
 * would to the server: `tools/list` passes through, and `tools/call` goes to the server through
 * the paying core of `createMcpPayments` — a call answered with payment terms (the x402 MCP
 * transport or the MPP one) is paid once under the policy, budgets and ledger, and retried with
 * the proof to that same server only. Approvals the policy asks for go to the host's user as MCP
 * elicitation; a host without it gets a typed refusal. What `stipend mcp proxy` runs.
 *
 * @module
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  type Approver,
  type BudgetStore,
  type HttpRule,
  isStipendError,
  type Ledger,
  type PriceSource,
  type ProtocolAdapter,
  type SpendPolicy,
  StipendError,
  type Wallet,
} from '@stipend/client';
import {
  type CallToolParams,
  createMcpPayments,
  declaredHostOf,
  type McpPayments,
} from '../client/payments.js';
import { errorResult } from './fetch-tool.js';
import { hostApprover } from './host-approver.js';
import { loadPolicyFile } from './policy-file.js';
import { openUpstream, type UpstreamSpec } from './upstream.js';

/** Options of {@link startMcpProxy}. */
export interface McpProxyOptions {
  /** The MCP server to front. */
  readonly upstream: UpstreamSpec;
  /** Wallets that pay (`evmWallet`, `stripeWallet`, `lightningWallet`…). */
  readonly wallets: readonly Wallet[];
  /** A JSON spend policy file, read and checked at start. Exclusive with `policy`. */
  readonly policyFile?: string;
  /** The spend policy. Without it (and without `policyFile`) the fail-closed defaults apply. */
  readonly policy?: SpendPolicy;
  /** Protocol adapters (default: x402, L402 and MPP). */
  readonly adapters?: readonly ProtocolAdapter[];
  readonly prices?: PriceSource;
  readonly budget?: BudgetStore;
  readonly ledger?: Ledger;
  /** Asked when the policy needs approval. Default: the host's user, through elicitation. */
  readonly approver?: Approver;
  /**
   * The host name the server's payments go by in policies, records and errors. Default: the
   * URL's host name for an HTTP upstream; the server's declared name under `.mcp` otherwise
   * (the server's own claim: set this when a policy rule for it must not match another server).
   */
  readonly server?: string;
  /** Tags on every paid call, besides `mcp` and `mcp:<tool>` (select policy tag rules). */
  readonly tags?: readonly string[];
  /** Deadline of each request to the server, and of each seller request, in ms. */
  readonly timeoutMs?: number;
  /** Plain-HTTP rule of the paying core (see `createPayingFetch`). */
  readonly allowHttp?: HttpRule;
  /** The transport to the host: `'stdio'` (default) or an MCP SDK server transport. */
  readonly transport?: 'stdio' | Transport;
}

/** A running proxy. */
export interface McpProxyHandle {
  /** The server the host talks to. */
  readonly server: Server;
  /** The client connected to the fronted server. */
  readonly upstream: Client;
  /** The paying core: its `ledger`, `budget`, `engine`. */
  readonly payments: McpPayments;
  /** The host name payments go by. */
  readonly host: string;
  /** Settles when either side closes (the host went away, the server ended, or `close()`). */
  readonly closed: Promise<void>;
  /** Closes both sides (a server the proxy started is stopped). */
  close(): Promise<void>;
}

/**
 * Starts a paying proxy in front of an MCP server: connects to it, then serves its tools to the
 * host with payments made by Stipend. Nothing but MCP messages goes to stdout.
 *
 * @throws {StipendError} `POLICY_FILE_UNREADABLE`, `POLICY_INVALID`, `CONFIG_INVALID`,
 *   `INSECURE_TRANSPORT` (a plain-HTTP server URL), `CONFIG_INVALID` also when the server
 *   could not be started or reached).
 * @example
 * ```ts
 * import { startMcpProxy } from '@stipend/mcp/server';
 * import { evmWallet } from '@stipend/wallet-evm';
 * import { privateKeyToAccount } from 'viem/accounts';
 *
 * const proxy = await startMcpProxy({
 *   upstream: { url: 'https://tools.example.com/mcp' },
 *   wallets: [evmWallet({ account: privateKeyToAccount(process.env.STIPEND_EVM_KEY as `0x${string}`) })],
 *   policyFile: './stipend.policy.json',
 * });
 * await proxy.closed;
 * ```
 */
export async function startMcpProxy(options: McpProxyOptions): Promise<McpProxyHandle> {
  if (options.policy !== undefined && options.policyFile !== undefined) {
    throw new StipendError('POLICY_INVALID', 'Give either policy or policyFile, not both.');
  }
  const policy =
    options.policyFile !== undefined ? await loadPolicyFile(options.policyFile) : options.policy;
  const opened = openUpstream(options.upstream);
  const upstream = new Client({ name: 'stipend-proxy', version: '0.1.0' }, { capabilities: {} });
  try {
    await upstream.connect(
      opened.transport,
      options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {},
    );
  } catch (error) {
    await upstream.close().catch(() => {});
    throw new StipendError(
      'CONFIG_INVALID',
      `The MCP server (${opened.describe}) could not be reached: ${(error as Error)?.message ?? error}. Check the command or URL.`,
      { cause: error },
    );
  }
  const info = upstream.getServerVersion();
  const instructions = upstream.getInstructions();
  const server = new Server(
    { name: info?.name ?? 'stipend-proxy', version: info?.version ?? '0.0.0' },
    {
      capabilities: { tools: { listChanged: true } },
      ...(instructions !== undefined ? { instructions } : {}),
    },
  );
  const payments = createMcpPayments({
    wallets: options.wallets,
    ...(policy !== undefined ? { policy } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
    ...(options.prices ? { prices: options.prices } : {}),
    ...(options.budget ? { budget: options.budget } : {}),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    ...(options.allowHttp !== undefined ? { allowHttp: options.allowHttp } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    approver: options.approver ?? hostApprover(server),
  });
  const host = options.server ?? opened.host ?? declaredHostOf(info?.name);
  const requestTimeout = options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {};

  server.setRequestHandler(ListToolsRequestSchema, (request, extra) =>
    upstream.listTools(request.params, { signal: extra.signal, ...requestTimeout }),
  );
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    try {
      return (await payments.callTool(upstream, request.params as CallToolParams, {
        server: host,
        ...(options.tags ? { payment: { tags: options.tags } } : {}),
        requestOptions: { signal: extra.signal, ...requestTimeout },
      })) as CallToolResult;
    } catch (error) {
      // A payment refused, failed or unknown: a tool error the model can read (no secret in
      // it). Any other error of the server (a JSON-RPC error) passes through as it is.
      if (isStipendError(error)) return errorResult(error);
      throw error;
    }
  });
  upstream.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
    await server.sendToolListChanged().catch(() => {});
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await Promise.allSettled([server.close(), upstream.close()]);
      resolveClosed();
    })();
    return closing;
  };
  server.onclose = () => void close();
  upstream.onclose = () => void close();

  const transport = options.transport ?? 'stdio';
  try {
    await server.connect(transport === 'stdio' ? new StdioServerTransport() : transport);
  } catch (error) {
    await close();
    throw error;
  }
  if (transport === 'stdio') {
    // A host stops a stdio server by closing its stdin; the SDK transport does not notice.
    const stop = () => void close();
    process.stdin.once('end', stop);
    process.stdin.once('close', stop);
    void closed.then(() => {
      process.stdin.off('end', stop);
      process.stdin.off('close', stop);
    });
  }
  return { server, upstream, payments, host, closed, close };
}
