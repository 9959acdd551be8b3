/**
 * `stipend mcp add <client>`: writes the entry that starts `stipend mcp` (or `stipend mcp proxy`
 * in front of another server) into an MCP client's configuration file, keeping every other
 * server in it, and prints what it wrote.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import {
  defaultConfigPath,
  MCP_CLIENTS,
  type McpClientName,
  mergeServer,
  type ServerEntry,
} from '../mcp-config/client-config.js';

export const MCP_ADD_HELP = `Usage: stipend mcp add <claude|cursor|vscode> [options] [-- <command …> | --url <url>]

Adds Stipend to an MCP client's configuration and prints what it wrote:
  claude   Claude Desktop's claude_desktop_config.json (macOS, Windows; ~/.config/Claude on Linux)
  cursor   ~/.cursor/mcp.json
  vscode   .vscode/mcp.json of the current folder (the workspace)
Other servers in the file are kept. No secret is written: wallets and keys stay in
~/.config/stipend/wallets.json or STIPEND_* variables of the client's environment.

Without -- or --url the entry runs "stipend mcp" (a paid fetch tool). With them it runs
"stipend mcp proxy", fronting that server and paying its paid tools.

Options:
      --config <file>       the configuration file to write (default: the client's, above)
      --name <name>         the server's name in the file (default stipend, or stipend-proxy)
      --command <path>      how the client starts stipend (default stipend; give the full path
                            if the client does not see your PATH, e.g. --command "$(which stipend)")
      --url <url>           front this streamable HTTP MCP server (stipend mcp proxy <url>)
      --force               replace an entry of the same name
      --policy <file>       passed on: the spend policy (made absolute)
      --wallets <file>      passed on: the wallet settings (made absolute)
      --ledger <file>       passed on: the ledger (made absolute)
      --allow-host <host>   passed on to stipend mcp (repeatable)
  -h, --help                this help
`;

interface AddFlags {
  config?: string;
  name?: string;
  command?: string;
  url?: string;
  force?: boolean;
  policy?: string;
  wallets?: string;
  ledger?: string;
  'allow-host'?: string[];
  help?: boolean;
}

/**
 * Runs `stipend mcp add`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { mcpAddCommand } from './mcp-add.js';
 * import { processIo } from '../io.js';
 * await mcpAddCommand(['cursor', '--policy', 'policy.json'], processIo());
 * ```
 */
export async function mcpAddCommand(args: readonly string[], io: CliIo): Promise<number> {
  const dashes = args.indexOf('--');
  const own = dashes === -1 ? args : args.slice(0, dashes);
  const fronted = dashes === -1 ? [] : args.slice(dashes + 1);
  const { values, positionals } = parse<AddFlags>('mcp add', own, {
    config: { type: 'string' },
    name: { type: 'string' },
    command: { type: 'string' },
    url: { type: 'string' },
    force: { type: 'boolean' },
    policy: { type: 'string' },
    wallets: { type: 'string' },
    ledger: { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(MCP_ADD_HELP);
    return EXIT.ok;
  }
  const client = positionals[0];
  if (positionals.length !== 1 || !isClient(client)) {
    throw new CliError(
      `stipend mcp add: name the client: ${MCP_CLIENTS.join(', ')} (e.g. stipend mcp add cursor)`,
      EXIT.usage,
    );
  }
  if (values.url !== undefined && fronted.length > 0) {
    throw new CliError(
      'stipend mcp add: give either --url or -- <command …>, not both',
      EXIT.usage,
    );
  }
  const proxied = values.url !== undefined || fronted.length > 0;
  if (proxied && values['allow-host']) {
    throw new CliError(
      'stipend mcp add: --allow-host is for stipend mcp (the fetch tool), not for a proxy',
      EXIT.usage,
    );
  }
  const name = values.name ?? (proxied ? 'stipend-proxy' : 'stipend');
  if (!/^[\w.@-]{1,64}$/.test(name)) {
    throw new CliError(
      `--name must be letters, digits, ".", "-", "_" or "@" (at most 64), not "${name}"`,
      EXIT.usage,
    );
  }
  const absolute = (path: string) => resolve(io.cwd, path);
  const passed = [
    ...(values.policy !== undefined ? ['--policy', absolute(values.policy)] : []),
    ...(values.wallets !== undefined ? ['--wallets', absolute(values.wallets)] : []),
    ...(values.ledger !== undefined ? ['--ledger', absolute(values.ledger)] : []),
  ];
  const args_ = proxied
    ? ['mcp', 'proxy', ...passed, ...(values.url !== undefined ? [values.url] : ['--', ...fronted])]
    : ['mcp', ...passed, ...(values['allow-host'] ?? []).flatMap((host) => ['--allow-host', host])];
  const entry: ServerEntry = { command: values.command ?? 'stipend', args: args_ };

  const path = absolute(
    values.config ??
      defaultConfigPath(client, {
        home: io.env.HOME || homedir(),
        cwd: io.cwd,
        platform: process.platform,
        env: io.env,
      }),
  );
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(`stipend mcp add: cannot read ${path}: ${(error as Error).message}`);
    }
  }
  const merged = mergeServer(existing, client, name, entry, { replace: values.force === true });
  if (!merged.ok) throw new CliError(`stipend mcp add: ${path}: ${merged.problem}`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    // Written beside, then renamed: a reader never sees half a file.
    const temporary = `${path}.stipend-${process.pid}.tmp`;
    const mode = existing === undefined ? 0o600 : statSync(path).mode & 0o777;
    writeFileSync(temporary, merged.text, { mode });
    renameSync(temporary, path);
  } catch (error) {
    throw new CliError(`stipend mcp add: cannot write ${path}: ${(error as Error).message}`);
  }
  const key = client === 'vscode' ? 'servers' : 'mcpServers';
  io.stdout.write(
    `${merged.replaced ? 'Replaced' : existing === undefined ? 'Created' : 'Added to'} ${path}:\n` +
      `${JSON.stringify({ [key]: { [name]: merged.written } }, null, 2)}\n` +
      `Restart ${clientWords(client)} to load it.\n`,
  );
  return EXIT.ok;
}

function isClient(value: string | undefined): value is McpClientName {
  return (MCP_CLIENTS as readonly string[]).includes(value ?? '');
}

function clientWords(client: McpClientName): string {
  return client === 'claude'
    ? 'Claude Desktop'
    : client === 'cursor'
      ? 'Cursor'
      : 'VS Code (or reload the window)';
}
