/**
 * Test helpers: the MCP SDK pieces the suites in `test/mcp` use (that folder cannot resolve
 * `@modelcontextprotocol/sdk` itself), and serving a tool host on a real SDK `Server` over the
 * SDK's in-memory transport.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ElicitRequestSchema,
  type ElicitResult,
  ListToolsRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
export { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
export { Server } from '@modelcontextprotocol/sdk/server/index.js';
export { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
export {
  CallToolRequestSchema,
  ElicitRequestSchema,
  ListToolsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';

/** A tool host as the testkit's paid tool servers are (structural, no testkit import). */
export interface ToolHostLike {
  readonly tools: readonly {
    readonly name: string;
    readonly description: string;
    readonly inputSchema: unknown;
  }[];
  callTool(params: {
    name: string;
    arguments?: Record<string, unknown>;
    _meta?: Record<string, unknown>;
  }): Promise<Record<string, unknown>>;
}

/** What the host's user answers to an elicitation. */
export type ElicitAnswer = (request: {
  message: string;
  requestedSchema?: unknown;
}) => ElicitResult | Promise<ElicitResult>;

/** A connected SDK client and server pair. */
export interface Connected {
  readonly client: Client;
  readonly server: Server;
  close(): Promise<void>;
}

/** An SDK `Server` serving a tool host (JSON-RPC errors it throws go out as they are). */
function toolServer(host: ToolHostLike, name: string): Server {
  const server = new Server({ name, version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: host.tools.map((tool) => ({ ...tool })) as Tool[],
  }));
  server.setRequestHandler(
    CallToolRequestSchema,
    async (request) => (await host.callTool(request.params)) as CallToolResult,
  );
  return server;
}

/**
 * Serves a tool host on an SDK `Server` at the end of an in-memory link, and returns the other
 * end: the client transport a proxy (or any client) connects with.
 *
 * @example
 * ```ts
 * import { toolHostTransport } from '../../packages/mcp/src/sdk.test-helpers.js';
 * const { transport, close } = await toolHostTransport(tools, { name: 'Weather Tools' });
 * ```
 */
export async function toolHostTransport(
  host: ToolHostLike,
  options: { name?: string } = {},
): Promise<{ transport: Transport; close(): Promise<void> }> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const server = toolServer(host, options.name ?? 'Testkit Tools');
  await server.connect(serverSide);
  return { transport: clientSide, close: () => server.close() };
}

/**
 * Serves a tool host over the MCP streamable HTTP transport (stateless: one SDK `Server` per
 * request) on 127.0.0.1, and records every request's path.
 *
 * @example
 * ```ts
 * import { serveToolHostHttp } from '../../packages/mcp/src/sdk.test-helpers.js';
 * const site = await serveToolHostHttp(tools, { name: 'Articles' });
 * // site.url === 'http://127.0.0.1:<port>/mcp'
 * ```
 */
export async function serveToolHostHttp(
  host: ToolHostLike,
  options: { name?: string } = {},
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const http = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (!request.url?.startsWith('/mcp')) {
      response.writeHead(404).end();
      return;
    }
    const server = toolServer(host, options.name ?? 'Testkit Tools');
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    void server
      .connect(transport)
      .then(() => transport.handleRequest(request, response))
      .catch(() => {
        if (!response.headersSent) response.writeHead(500).end();
      });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * Serves a tool host on an SDK `Server` and connects an SDK `Client` to it in memory. JSON-RPC
 * errors the host throws reach the client as JSON-RPC errors.
 *
 * @example
 * ```ts
 * import { connectToolHost } from '../../packages/mcp/src/sdk.test-helpers.js';
 * const { client, close } = await connectToolHost(tools, { name: 'Weather Tools' });
 * await client.callTool({ name: 'ping' });
 * await close();
 * ```
 */
export async function connectToolHost(
  host: ToolHostLike,
  options: { name?: string; elicit?: ElicitAnswer } = {},
): Promise<Connected> {
  const server = toolServer(host, options.name ?? 'Testkit Tools');
  const client = await connectClient(
    (transport) => server.connect(transport),
    options.elicit ? { elicit: options.elicit } : {},
  );
  return {
    client,
    server,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/**
 * Creates an SDK client (declaring form elicitation when `elicit` is given) and connects it in
 * memory to whatever `connectServer` connects to the other end.
 *
 * @example
 * ```ts
 * import { connectClient } from '../../packages/mcp/src/sdk.test-helpers.js';
 * const client = await connectClient((transport) => mcpServer.connect(transport), {
 *   elicit: () => ({ action: 'accept', content: { approve: true } }),
 * });
 * ```
 */
export async function connectClient(
  connectServer: (transport: InMemoryTransport) => Promise<void>,
  options: { elicit?: ElicitAnswer; clientOptions?: ClientOptions } = {},
): Promise<Client> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await connectServer(serverTransport);
  const client = new Client(
    { name: 'test-agent', version: '1.0.0' },
    {
      ...options.clientOptions,
      capabilities: {
        ...options.clientOptions?.capabilities,
        ...(options.elicit ? { elicitation: { form: {} } } : {}),
      },
    },
  );
  const elicit = options.elicit;
  if (elicit) {
    client.setRequestHandler(ElicitRequestSchema, async (request) =>
      elicit(request.params as { message: string; requestedSchema?: unknown }),
    );
  }
  await client.connect(clientTransport);
  return client;
}
