/**
 * `stipend mcp`: the MCP server (stdio) of `@stipend/mcp/server`, with the command's wallets,
 * policy and ledger — a paid `fetch` tool and a read-only `budget_status` tool.
 *
 * @module
 */
import type { BudgetStore, Ledger, PriceSource, ProtocolAdapter, Wallet } from '@stipend/client';
import { parse, timeoutMsOf } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';

export const MCP_HELP = `Usage: stipend mcp [options]
       stipend mcp proxy [options] -- <command …>   front an MCP server, paying its tools
       stipend mcp proxy [options] <url>            (see stipend mcp proxy --help)
       stipend mcp add <claude|cursor|vscode>       write an MCP client's configuration

Serves MCP over stdio to an MCP host (Claude Desktop, an IDE, an agent framework): a paid
"fetch" tool that pays HTTP 402 within your spend policy, and a read-only "budget_status"
tool. No tool can change the policy. Private, loopback and link-local targets are refused
unless allowed.

Options:
      --policy <file>       JSON spend policy (default ~/.config/stipend/policy.json, else
                            $0.10 per request and $1 per UTC day)
      --wallets <file>      wallet settings (default ~/.config/stipend/wallets.json) and
                            STIPEND_* variables (see stipend help wallets)
      --ledger <file>       the spend ledger, shared with stipend fetch and stipend ledger
      --timeout <seconds>   the longest wait for a seller, each time it is asked (default 60)
      --allow-host <host>   a non-public host or range the fetch tool may reach, e.g.
                            127.0.0.1 for local testing (repeatable; also STIPEND_MCP_ALLOW_HOSTS)
  -h, --help                this help

Approvals the policy asks for go to the host's user (MCP elicitation) when the host supports it.
`;

/** The part of `@stipend/mcp/server`'s options this command passes. */
interface StartOptions {
  readonly wallets: readonly Wallet[];
  readonly adapters: readonly ProtocolAdapter[];
  readonly prices: PriceSource;
  readonly policyFile?: string;
  readonly budget: BudgetStore;
  readonly ledger: Ledger;
  readonly allowHosts: readonly string[];
  readonly env: CliIo['env'];
  readonly transport: 'stdio';
  readonly timeoutMs: number;
}
type StartMcpServer = (options: StartOptions) => Promise<{ readonly closed: Promise<void> }>;

/**
 * Runs `stipend mcp`: serves until the host closes stdin. `@stipend/mcp/server` (and the MCP
 * SDK) is loaded only here, at run time, so the other commands never load it. Nothing but MCP
 * messages goes to stdout.
 *
 * @example
 * ```ts
 * import { mcpCommand } from './mcp.js';
 * import { processIo } from '../io.js';
 * await mcpCommand(['--policy', 'policy.json'], processIo());
 * ```
 */
export async function mcpCommand(args: readonly string[], io: CliIo): Promise<number> {
  if (args[0] === 'proxy') {
    return (await import('./mcp-proxy.js')).mcpProxyCommand(args.slice(1), io);
  }
  if (args[0] === 'add') {
    return (await import('./mcp-add.js')).mcpAddCommand(args.slice(1), io);
  }
  const { values, positionals } = parse<{
    policy?: string;
    wallets?: string;
    ledger?: string;
    timeout?: string;
    'allow-host'?: string[];
    help?: boolean;
  }>('mcp', args, {
    policy: { type: 'string' },
    wallets: { type: 'string' },
    ledger: { type: 'string' },
    timeout: { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(MCP_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new CliError(
      `stipend mcp takes no arguments (got "${positionals[0]}"); to front a server: stipend mcp proxy -- <command …>`,
      EXIT.usage,
    );
  }
  const timeoutMs = timeoutMsOf(values.timeout, 60);
  const { openMcpPaying } = await import('./mcp-setup.js');
  const paying = openMcpPaying(values, io, timeoutMs);
  const { http, parts, ledger, policyFile } = paying;

  let start: StartMcpServer;
  try {
    // A specifier in a variable: loaded at run time only (the MCP SDK is heavy).
    const specifier = '@stipend/mcp/server';
    const module = (await import(specifier)) as { startMcpServer?: StartMcpServer };
    if (typeof module.startMcpServer !== 'function') throw new Error('no startMcpServer export');
    start = module.startMcpServer;
  } catch (error) {
    await http.close();
    throw new CliError(
      `stipend mcp: the MCP server (@stipend/mcp/server) could not be loaded: ${(error as Error).message}`,
    );
  }
  io.stderr.write(`stipend mcp: serving MCP on stdio — ${paying.summary}\n`);
  try {
    const handle = await start({
      wallets: parts.wallets,
      adapters: parts.adapters,
      prices: parts.prices,
      ...(policyFile !== undefined ? { policyFile } : {}),
      budget: paying.budget,
      ledger,
      allowHosts: values['allow-host'] ?? [],
      env: io.env,
      transport: 'stdio',
      timeoutMs,
    });
    await handle.closed;
  } finally {
    await http.close();
  }
  return EXIT.ok;
}
