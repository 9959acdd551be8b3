/**
 * The paid `fetch` tool: its definition (JSON Schema), input checks, and the call itself through
 * the server's paying fetch (policy, budgets, ledger, guarded dispatcher).
 *
 * @module
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import {
  formatAmount,
  formatUsd,
  getCredentialUse,
  getPayment,
  isStipendError,
  type PayingFetch,
  parseUsd,
  StipendError,
} from '@stipend/client';
import { blockedTargetOf } from './dispatcher.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Request headers the model may not set (hop-by-hop, framing, the target, proxies). */
const FORBIDDEN_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);
const MAX_URL_CHARS = 8192;
const MAX_HEADERS = 64;
const MAX_BODY_CHARS = 1024 * 1024;
/** Response headers worth showing the model. */
const SHOWN_HEADERS = [
  'content-type',
  'content-length',
  'location',
  'retry-after',
  'cache-control',
  'last-modified',
  'etag',
];

/** The `fetch` tool as `tools/list` shows it. */
export const FETCH_TOOL: Tool = {
  name: 'fetch',
  title: 'Fetch a URL (pays HTTP 402 within the spend policy)',
  description:
    'Fetches an http(s) URL. When the server answers 402 Payment Required (x402, L402 or MPP), ' +
    'pays once within the spend policy configured by the user (per-request caps, budgets, ' +
    'allowed hosts), then returns the response. Private, loopback and link-local addresses are ' +
    'refused. Use max_usd to cap what this one call may pay. The policy cannot be changed from here.',
  inputSchema: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'An absolute http:// or https:// URL.' },
      method: { type: 'string', enum: [...METHODS], description: 'HTTP method. Default GET.' },
      headers: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description: 'Request headers (name → value).',
      },
      body: { type: 'string', description: 'Request body (text). Not allowed with GET or HEAD.' },
      max_usd: {
        type: 'string',
        description:
          'Most this call may pay, in US dollars (e.g. "0.05"). Can only lower the policy cap.',
      },
    },
    required: ['url'],
    additionalProperties: false,
  },
  annotations: { openWorldHint: true, readOnlyHint: false, idempotentHint: false },
};

/** The checked input of one `fetch` call. */
export interface FetchInput {
  readonly url: URL;
  readonly method: (typeof METHODS)[number];
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly maxUsd?: string;
}

function invalid(message: string): StipendError {
  return new StipendError('TOOL_INPUT_INVALID', message);
}

/**
 * Checks the arguments of a `fetch` call.
 *
 * @throws {StipendError} code `TOOL_INPUT_INVALID`, saying which argument to fix.
 * @example
 * ```ts
 * import { parseFetchInput } from '@stipend/mcp/server';
 * parseFetchInput({ url: 'https://api.example.com/x', max_usd: '0.05' }).method; // 'GET'
 * ```
 */
export function parseFetchInput(args: unknown): FetchInput {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw invalid('The arguments must be an object such as { "url": "https://…" }.');
  }
  const given = args as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!['url', 'method', 'headers', 'body', 'max_usd'].includes(key)) {
      throw invalid(`Unknown argument "${key}"; use url, method, headers, body and max_usd.`);
    }
  }
  if (typeof given.url !== 'string' || given.url.length > MAX_URL_CHARS) {
    throw invalid(`url must be an absolute http(s) URL of at most ${MAX_URL_CHARS} characters.`);
  }
  let url: URL;
  try {
    url = new URL(given.url);
  } catch {
    throw invalid(`url ${JSON.stringify(given.url)} is not an absolute URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`url must use http or https, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('url must not carry a user name or password; send credentials in headers.');
  }
  const method = (given.method ?? 'GET') as string;
  if (
    typeof method !== 'string' ||
    !(METHODS as readonly string[]).includes(method.toUpperCase())
  ) {
    throw invalid(`method must be one of ${METHODS.join(', ')}.`);
  }
  const upper = method.toUpperCase() as FetchInput['method'];
  const headers: Record<string, string> = {};
  if (given.headers !== undefined) {
    if (
      typeof given.headers !== 'object' ||
      given.headers === null ||
      Array.isArray(given.headers)
    ) {
      throw invalid('headers must be an object of header names to string values.');
    }
    const entries = Object.entries(given.headers as Record<string, unknown>);
    if (entries.length > MAX_HEADERS) throw invalid(`At most ${MAX_HEADERS} headers may be sent.`);
    for (const [name, value] of entries) {
      if (typeof value !== 'string') throw invalid(`Header ${name} must have a string value.`);
      if (FORBIDDEN_HEADERS.has(name.toLowerCase())) {
        throw invalid(`Header ${name} cannot be set; the HTTP client sets it.`);
      }
      headers[name] = value;
    }
  }
  let body: string | undefined;
  if (given.body !== undefined) {
    if (typeof given.body !== 'string' || given.body.length > MAX_BODY_CHARS) {
      throw invalid(`body must be a string of at most ${MAX_BODY_CHARS} characters.`);
    }
    if (upper === 'GET' || upper === 'HEAD') throw invalid(`A ${upper} request has no body.`);
    body = given.body;
  }
  let maxUsd: string | undefined;
  if (given.max_usd !== undefined) {
    if (typeof given.max_usd !== 'string')
      throw invalid('max_usd must be a string such as "0.05".');
    try {
      parseUsd(given.max_usd);
    } catch (error) {
      throw invalid(`max_usd: ${(error as Error).message}`);
    }
    maxUsd = given.max_usd;
  }
  return {
    url,
    method: upper,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(maxUsd !== undefined ? { maxUsd } : {}),
  };
}

/** Options of {@link runFetch}. */
export interface RunFetchOptions {
  /** Largest response body returned, in bytes. */
  readonly maxResponseBytes: number;
  /** Tags of every call (select policy tag rules). */
  readonly tags: readonly string[];
  /** Aborts the request (the MCP request was cancelled, or the time is up). */
  readonly signal?: AbortSignal;
}

const TEXTUAL =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|problem\+json)|[^;]*\+(json|xml))/i;

async function readBounded(
  response: Response,
  max: number,
): Promise<{ bytes: Uint8Array; truncated: boolean; size: number }> {
  if (!response.body) return { bytes: new Uint8Array(0), truncated: false, size: 0 };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = max - size;
    if (value.byteLength > room) {
      if (room > 0) chunks.push(value.subarray(0, room));
      size = max;
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, truncated, size };
}

/**
 * A tool error result for an error: its code and message for the model, its JSON for programs.
 *
 * @example
 * ```ts
 * import { errorResult } from '@stipend/mcp/server';
 * errorResult(new Error('boom')).isError; // true
 * ```
 */
export function errorResult(error: unknown): CallToolResult {
  const blocked = blockedTargetOf(error);
  const typed: StipendError = blocked
    ? blocked
    : isStipendError(error)
      ? error
      : new StipendError(
          'FETCH_FAILED',
          `The request failed: ${describeCause(error)}. Check the URL and that the server is up.`,
        );
  return {
    isError: true,
    content: [{ type: 'text', text: `${typed.code}: ${typed.message}` }],
    structuredContent: { error: typed.toJSON() },
  };
}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && message !== '') parts.push(message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ') || String(error);
}

/**
 * Performs one `fetch` call through the paying fetch and shapes the answer for the model: the
 * status, a few headers, the body (bounded), and what was paid.
 *
 * @example
 * ```ts
 * import { parseFetchInput, runFetch } from '@stipend/mcp/server';
 * const result = await runFetch(payingFetch, parseFetchInput({ url }), { maxResponseBytes: 65536, tags: ['mcp'] });
 * ```
 */
export async function runFetch(
  payingFetch: PayingFetch,
  input: FetchInput,
  options: RunFetchOptions,
): Promise<CallToolResult> {
  let response: Response;
  try {
    response = await payingFetch(input.url.href, {
      method: input.method,
      headers: input.headers,
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      payment: {
        tags: options.tags,
        ...(input.maxUsd !== undefined ? { maxUsd: input.maxUsd } : {}),
      },
    });
  } catch (error) {
    return errorResult(error);
  }
  let read: Awaited<ReturnType<typeof readBounded>>;
  try {
    read = await readBounded(response, options.maxResponseBytes);
  } catch (error) {
    return errorResult(error);
  }
  const contentType = response.headers.get('content-type') ?? '';
  const textual = contentType === '' || TEXTUAL.test(contentType);
  const headers: Record<string, string> = {};
  for (const name of SHOWN_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const payment = paymentSummary(response);
  const body = textual
    ? new TextDecoder().decode(read.bytes)
    : `(${read.size} bytes of ${contentType} not shown as text)`;
  const structured: Record<string, unknown> = {
    url: input.url.href,
    status: response.status,
    headers,
    body,
    truncated: read.truncated,
    ...(textual ? {} : { bodyBase64: Buffer.from(read.bytes).toString('base64') }),
    ...(payment ? { payment } : {}),
  };
  const paidLine = payment
    ? `\nPayment: ${payment.status}${payment.usd ? ` ${payment.usd}` : ''}${payment.rail ? ` via ${payment.rail}` : ''}${payment.payee ? ` to ${payment.payee}` : ''}`
    : '';
  const text =
    `HTTP ${response.status} ${input.method} ${input.url.href}${paidLine}\n\n${body}` +
    (read.truncated ? `\n\n[truncated at ${options.maxResponseBytes} bytes]` : '');
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/** What was paid for a response, for the model. */
interface PaymentSummary {
  readonly status: string;
  readonly rail?: string;
  readonly payee?: string;
  readonly amount?: string;
  readonly usd?: string;
  readonly reference?: string;
  readonly error?: string;
}

function paymentSummary(response: Response): PaymentSummary | undefined {
  const payment = getPayment(response);
  if (payment) {
    const { record } = payment;
    const reference = payment.receipt?.reference ?? record.receiptReference ?? record.reference;
    return {
      status: payment.status,
      rail: `${record.protocol}:${record.scheme}`,
      payee: record.payee,
      amount: formatAmount(record.amount),
      usd: formatUsd(record.committedUsdMicros ?? record.reservedUsdMicros),
      ...(reference ? { reference } : {}),
      ...(payment.error ? { error: payment.error.shortMessage } : {}),
    };
  }
  const reused = getCredentialUse(response);
  return reused ? { status: 'reused-credential', rail: reused.protocol } : undefined;
}
