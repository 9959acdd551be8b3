/**
 * Test helpers: the MCP SDK pieces the suites in `test/mcp` use (that folder cannot resolve
 * `@modelcontextprotocol/sdk` itself), and serving a tool host on a real SDK `Server` over the
 * SDK's in-memory transport.
 */
import { Client, type ClientOptions } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
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
  const server = new Server(
    { name: options.name ?? 'Testkit Tools', version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: host.tools.map((tool) => ({ ...tool })) as Tool[],
  }));
  server.setRequestHandler(
    CallToolRequestSchema,
    async (request) => (await host.callTool(request.params)) as CallToolResult,
  );
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
