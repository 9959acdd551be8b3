/**
 * MCP clients' configuration files, as their documentation describes them: where each one
 * keeps it, the key its servers live under, and one server entry merged into an existing file
 * without dropping anything else in it.
 *
 * - Claude Desktop: `claude_desktop_config.json`, servers under `mcpServers`, `{ command, args }`.
 * - Cursor: `~/.cursor/mcp.json`, servers under `mcpServers`, `{ command, args }`.
 * - VS Code: `.vscode/mcp.json` of the workspace, servers under `servers`,
 *   `{ type: "stdio", command, args }`.
 *
 * @module
 */
import { join } from 'node:path';

/** The MCP clients `stipend mcp add` knows. */
export const MCP_CLIENTS = ['claude', 'cursor', 'vscode'] as const;
export type McpClientName = (typeof MCP_CLIENTS)[number];

/** A stdio server entry. */
export interface ServerEntry {
  readonly command: string;
  readonly args: readonly string[];
}

/**
 * Where a client keeps its MCP configuration by default.
 *
 * @example
 * ```ts
 * import { defaultConfigPath } from './client-config.js';
 * defaultConfigPath('cursor', { home: '/home/ada', cwd: '/work', platform: 'linux', env: {} });
 * // '/home/ada/.cursor/mcp.json'
 * ```
 */
export function defaultConfigPath(
  client: McpClientName,
  where: {
    readonly home: string;
    readonly cwd: string;
    readonly platform: NodeJS.Platform;
    readonly env: Readonly<Record<string, string | undefined>>;
  },
): string {
  switch (client) {
    case 'cursor':
      return join(where.home, '.cursor', 'mcp.json');
    case 'vscode':
      return join(where.cwd, '.vscode', 'mcp.json');
    case 'claude': {
      if (where.platform === 'darwin') {
        return join(
          where.home,
          'Library',
          'Application Support',
          'Claude',
          'claude_desktop_config.json',
        );
      }
      if (where.platform === 'win32') {
        const appData = where.env.APPDATA || join(where.home, 'AppData', 'Roaming');
        return join(appData, 'Claude', 'claude_desktop_config.json');
      }
      const config = where.env.XDG_CONFIG_HOME || join(where.home, '.config');
      return join(config, 'Claude', 'claude_desktop_config.json');
    }
  }
}

/** The outcome of {@link mergeServer}. */
export type Merged =
  | {
      readonly ok: true;
      readonly text: string;
      readonly replaced: boolean;
      readonly written: Record<string, unknown>;
    }
  | { readonly ok: false; readonly problem: string };

/**
 * Adds (or, with `replace`, replaces) one server entry in a client's configuration text and
 * returns the new text. Everything else in the file — other servers, other settings — is kept
 * as it is. A file that is not a JSON object, or whose servers key is not an object, is not
 * touched (the problem says why).
 *
 * @example
 * ```ts
 * import { mergeServer } from './client-config.js';
 * const merged = mergeServer('{"mcpServers":{"other":{"command":"x"}}}', 'claude', 'stipend', {
 *   command: 'stipend',
 *   args: ['mcp'],
 * });
 * // merged.text keeps "other" and adds "stipend"
 * ```
 */
export function mergeServer(
  existing: string | undefined,
  client: McpClientName,
  name: string,
  entry: ServerEntry,
  options: { readonly replace?: boolean } = {},
): Merged {
  let config: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (error) {
      return {
        ok: false,
        problem: `it is not plain JSON (${(error as Error).message}; comments and trailing commas cannot be kept), so it was left as it is: add the entry by hand`,
      };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { ok: false, problem: 'it is not a JSON object, so it was left as it is' };
    }
    config = parsed as Record<string, unknown>;
  }
  const key = client === 'vscode' ? 'servers' : 'mcpServers';
  const servers = config[key] ?? {};
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    return { ok: false, problem: `its "${key}" is not an object, so it was left as it is` };
  }
  const written: Record<string, unknown> =
    client === 'vscode'
      ? { type: 'stdio', command: entry.command, args: [...entry.args] }
      : { command: entry.command, args: [...entry.args] };
  const had = Object.hasOwn(servers, name);
  if (had && !options.replace) {
    const same =
      JSON.stringify((servers as Record<string, unknown>)[name]) === JSON.stringify(written);
    if (same) {
      return { ok: true, text: `${JSON.stringify(config, null, 2)}\n`, replaced: false, written };
    }
    return {
      ok: false,
      problem: `it already has a server named "${name}"; choose another with --name, or replace it with --force`,
    };
  }
  const next = { ...config, [key]: { ...(servers as Record<string, unknown>), [name]: written } };
  return { ok: true, text: `${JSON.stringify(next, null, 2)}\n`, replaced: had, written };
}
