/**
 * The MCP server a paying proxy fronts: a command it starts (stdio) or a URL (streamable HTTP),
 * and the host name its payments go by in policies, records and errors.
 *
 * @module
 */
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isLoopbackHost, StipendError } from '@stipend/client';

/** Where the fronted MCP server is. */
export type UpstreamSpec =
  | {
      /** A program serving MCP on its stdin/stdout, started by the proxy. */
      readonly command: string;
      readonly args?: readonly string[];
      /**
       * Its environment, on top of the MCP SDK's safe defaults (`HOME`, `PATH`…). Pass what it
       * needs: nothing of the proxy's own environment (wallet keys) reaches it otherwise.
       */
      readonly env?: Readonly<Record<string, string>>;
      readonly cwd?: string;
      /** Its stderr. Default `'inherit'` (the proxy's stderr, which MCP hosts log). */
      readonly stderr?: 'inherit' | 'pipe' | 'ignore';
    }
  | {
      /** A streamable HTTP MCP endpoint (`https://tools.example.com/mcp`). */
      readonly url: string | URL;
      /** The fetch to reach it with (proxies, TLS). Default `globalThis.fetch`. */
      readonly fetch?: typeof fetch;
      /** Plain `http:` to a host that is not loopback. Default `false`: proofs travel over HTTPS. */
      readonly allowHttp?: boolean;
    }
  | {
      /** An MCP SDK client transport, not yet started (tests, in-process servers). */
      readonly transport: Transport;
    };

/** The transport to the fronted server and the host name it goes by. */
export interface OpenedUpstream {
  readonly transport: Transport;
  /** The URL's host name for an HTTP upstream; `undefined` otherwise (the declared name then). */
  readonly host?: string;
  /** For messages: the command line or the URL (without its query). */
  readonly describe: string;
}

/**
 * Builds the client transport for an upstream. An HTTP upstream must be `https:` (or loopback),
 * since the proofs of payment travel in its requests; redirects are followed only within its
 * origin.
 *
 * @throws {StipendError} code `CONFIG_INVALID` for a URL that is not http(s), or plain HTTP to
 *   a host that is not loopback without `allowHttp`.
 * @example
 * ```ts
 * import { openUpstream } from '@stipend/mcp/server';
 * const upstream = openUpstream({ command: 'npx', args: ['-y', '@acme/paid-mcp'] });
 * const http = openUpstream({ url: 'https://tools.example.com/mcp' });
 * http.host; // 'tools.example.com'
 * ```
 */
export function openUpstream(spec: UpstreamSpec): OpenedUpstream {
  if ('transport' in spec) return { transport: spec.transport, describe: 'an MCP transport' };
  if ('command' in spec) {
    return {
      transport: new StdioClientTransport({
        command: spec.command,
        args: [...(spec.args ?? [])],
        ...(spec.env ? { env: { ...spec.env } } : {}),
        ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
        stderr: spec.stderr ?? 'inherit',
      }),
      describe: [spec.command, ...(spec.args ?? [])].join(' '),
    };
  }
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StipendError(
      'CONFIG_INVALID',
      `The MCP server URL must be an https:// URL (e.g. https://tools.example.com/mcp), not "${String(spec.url)}".`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && spec.allowHttp !== true) {
    throw new StipendError(
      'INSECURE_TRANSPORT',
      `Would not send payments to ${url.origin} over plain HTTP: use its https:// URL, or allow plain HTTP explicitly (allowHttp, --allow-http).`,
    );
  }
  return {
    transport: new StreamableHTTPClientTransport(url, {
      redirectPolicy: 'same-origin',
      ...(spec.fetch ? { fetch: spec.fetch } : {}),
    }),
    host: url.hostname,
    describe: `${url.origin}${url.pathname}`,
  };
}
