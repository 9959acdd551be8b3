/**
 * The shape of the testkit's paid MCP tool servers, independent of the MCP SDK: tool
 * definitions as `tools/list` shows them, and a `tools/call` handler that answers with a tool
 * result or throws a JSON-RPC error (any error with a numeric `code`, a `message` and optional
 * `data`; the MCP SDK's `Server` sends such an error as the JSON-RPC error response).
 *
 * Mount a {@link ToolHost} on an MCP SDK `Server`:
 *
 * ```ts
 * server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...host.tools] }));
 * server.setRequestHandler(CallToolRequestSchema, (request) => host.callTool(request.params));
 * ```
 *
 * @module
 */

/** A tool as `tools/list` shows it. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: {
    readonly type: 'object';
    readonly properties: Readonly<Record<string, unknown>>;
    readonly required?: readonly string[];
  };
}

/** The parameters of `tools/call`. */
export interface ToolCallParams {
  readonly name: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly _meta?: Readonly<Record<string, unknown>>;
}

/** A tool result (`CallToolResult`). */
export interface ToolResult {
  readonly content: readonly { readonly type: 'text'; readonly text: string }[];
  readonly structuredContent?: Readonly<Record<string, unknown>>;
  readonly isError?: boolean;
  readonly _meta?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** A set of tools behind one `tools/call` handler. */
export interface ToolHost {
  readonly tools: readonly ToolDefinition[];
  /** Answers `tools/call`; throws a {@link JsonRpcError} (or an MCP SDK `McpError`). */
  callTool(params: ToolCallParams): Promise<ToolResult>;
}

/**
 * A JSON-RPC error answer (`code`, `message`, `data`) a tool handler throws.
 *
 * @example
 * ```ts
 * import { JsonRpcError } from './tools.js';
 * throw new JsonRpcError(-32602, 'Unknown tool nope');
 * ```
 */
export class JsonRpcError extends Error {
  override name = 'JsonRpcError';
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    if (data !== undefined) this.data = data;
  }
}

/**
 * JSON-RPC `-32602`: the tool does not exist.
 *
 * @example
 * ```ts
 * import { unknownTool } from './tools.js';
 * throw unknownTool('nope', host.tools); // Unknown tool "nope"; this server has get_weather, ping.
 * ```
 */
export function unknownTool(name: string, tools: readonly ToolDefinition[]): JsonRpcError {
  return new JsonRpcError(
    -32602,
    `Unknown tool ${JSON.stringify(name)}; this server has ${tools.map((t) => t.name).join(', ')}.`,
  );
}

/**
 * A plain text tool result.
 *
 * @example
 * ```ts
 * import { textResult } from './tools.js';
 * textResult('pong'); // { content: [{ type: 'text', text: 'pong' }] }
 * ```
 */
export function textResult(text: string, extra: Partial<ToolResult> = {}): ToolResult {
  return { content: [{ type: 'text', text }], ...extra };
}
