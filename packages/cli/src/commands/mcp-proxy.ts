/**
 * `stipend mcp proxy`: fronts any MCP server (a command it starts, or a streamable HTTP URL)
 * for an MCP host over stdio. Tools pass through; tool calls answered with payment terms (x402
 * or MPP MCP transports) are paid with the command's wallets under its policy, budgets and
 * ledger, with approvals asked of the host's user (MCP elicitation).
 *
 * @module
 */
import { parse, timeoutMsOf } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { openMcpPaying } from './mcp-setup.js';

export const MCP_PROXY_HELP = `Usage: stipend mcp proxy [options] -- <command> [args …]
       stipend mcp proxy [options] <https://host/mcp>

Fronts an MCP server for an MCP host (Claude Desktop, Cursor, VS Code…) over stdio: its tools
pass through, and a tool call it answers with payment terms (x402 or MPP over MCP) is paid once
with your wallets, within your spend policy and budgets, and recorded in your ledger. A payment
the policy sends for approval is asked of the host's user (MCP elicitation); a host that
cannot ask is refused. The proof goes back to that same server only. Nothing but MCP messages
goes to stdout.

A command is started with the MCP SDK's safe environment (HOME, PATH, …) plus this command's,
without any STIPEND_* variable: wallet keys never reach the server.

Options:
      --policy <file>       JSON spend policy (default ~/.config/stipend/policy.json, else
                            $0.10 per request and $1 per UTC day)
      --wallets <file>      wallet settings (default ~/.config/stipend/wallets.json; see
                            stipend help wallets)
      --ledger <file>       the spend ledger, shared with stipend fetch and stipend ledger
      --name <host>         the host name this server's payments go by in policies and records
                            (default: the URL's host; for a command, its declared name under .mcp)
      --tag <name>          tag its paid calls for tag rules and budgets (repeatable)
      --timeout <seconds>   the longest wait for the server and for a seller (default 60)
      --allow-http          allow a plain http:// URL that is not loopback (proofs travel in it)
  -h, --help                this help
`;

interface ProxyFlags {
  policy?: string;
  wallets?: string;
  ledger?: string;
  name?: string;
  tag?: string[];
  timeout?: string;
  'allow-http'?: boolean;
  help?: boolean;
}

/**
 * Runs `stipend mcp proxy` until the host or the server goes away. Returns the exit code.
 *
 * @example
 * ```ts
 * import { mcpProxyCommand } from './mcp-proxy.js';
 * import { processIo } from '../io.js';
 * await mcpProxyCommand(['--', 'npx', '-y', '@acme/paid-mcp'], processIo());
 * ```
 */
export async function mcpProxyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const dashes = args.indexOf('--');
  const own = dashes === -1 ? args : args.slice(0, dashes);
  const command = dashes === -1 ? [] : args.slice(dashes + 1);
  const { values, positionals } = parse<ProxyFlags>('mcp proxy', own, {
    policy: { type: 'string' },
    wallets: { type: 'string' },
    ledger: { type: 'string' },
    name: { type: 'string' },
    tag: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    'allow-http': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(MCP_PROXY_HELP);
    return EXIT.ok;
  }
  const upstream = upstreamOf(positionals, command, io, values['allow-http'] === true);
  const timeoutMs = timeoutMsOf(values.timeout, 60);
  const paying = openMcpPaying(values, io, timeoutMs);
  try {
    const { startMcpProxy } = await import('@stipend/mcp/server');
    let proxy: Awaited<ReturnType<typeof startMcpProxy>>;
    try {
      proxy = await startMcpProxy({
        upstream: 'url' in upstream ? { ...upstream, fetch: paying.http.fetch } : upstream,
        wallets: paying.parts.wallets,
        adapters: paying.parts.adapters,
        prices: paying.parts.prices,
        ...(paying.policyFile !== undefined ? { policyFile: paying.policyFile } : {}),
        budget: paying.budget,
        ledger: paying.ledger,
        ...(values.name !== undefined ? { server: values.name } : {}),
        ...(values.tag ? { tags: values.tag } : {}),
        timeoutMs,
        transport: 'stdio',
      });
    } catch (error) {
      const message = (error as { shortMessage?: string; message?: string }).shortMessage;
      throw new CliError(
        `stipend mcp proxy: ${(message ?? (error as Error).message).replace(/\(allowHttp, --allow-http\)/, '(--allow-http)')}`,
      );
    }
    io.stderr.write(
      `stipend mcp proxy: fronting ${'url' in upstream ? upstream.url : command.join(' ')} as ${proxy.host} — ${paying.summary}\n`,
    );
    await proxy.closed;
  } finally {
    await paying.http.close();
  }
  return EXIT.ok;
}

type Upstream =
  | { readonly url: string; readonly allowHttp: boolean }
  | {
      readonly command: string;
      readonly args: readonly string[];
      readonly env: Readonly<Record<string, string>>;
      readonly cwd: string;
    };

/** The server to front, from `<url>` or `-- <command …>`. */
function upstreamOf(
  positionals: readonly string[],
  command: readonly string[],
  io: CliIo,
  allowHttp: boolean,
): Upstream {
  const usage =
    'give the server to front: stipend mcp proxy -- <command …>, or stipend mcp proxy <https://host/mcp>';
  if (command.length > 0) {
    if (positionals.length > 0) {
      throw new CliError(
        `stipend mcp proxy: give either a URL or -- <command …>, not both (got "${positionals[0]}" before --)`,
        EXIT.usage,
      );
    }
    return { command: command[0]!, args: command.slice(1), env: serverEnv(io.env), cwd: io.cwd };
  }
  if (positionals.length !== 1) throw new CliError(`stipend mcp proxy: ${usage}`, EXIT.usage);
  const text = positionals[0]!;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new CliError(
      `stipend mcp proxy: "${text}" is not an http(s) URL; to start a program, put it after --: stipend mcp proxy -- ${text} …`,
      EXIT.usage,
    );
  }
  return { url: url.href, allowHttp };
}

/**
 * The environment of a server the proxy starts: the command's own, without STIPEND_* (wallet
 * keys, the Stripe secret) — the fronted server is someone else's code.
 */
function serverEnv(env: CliIo['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || /^STIPEND_/i.test(name)) continue;
    out[name] = value;
  }
  return out;
}
