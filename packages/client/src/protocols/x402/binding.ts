/**
 * The x402 `exact`/`lnbtc` request binding (x402-foundation/x402,
 * `specs/schemes/exact/scheme_exact_lnbtc.md`, "Request Binding"): the BOLT 11 description
 * hash of an `lnbtc` invoice is SHA-256 of the JCS form of a binding object built from the
 * request itself, so a paid preimage can only buy the request it was issued for.
 *
 * - `http:1`: `{ domain, method, url, bodyHash, headers: [{ name, valueHash }] }`; the bound
 *   header names come from `extra.requestBindingParams.headers`.
 * - `mcp:1`: `{ domain, server, method: 'tools/call', name, arguments, metadata }` for an MCP
 *   tool call.
 *
 * Every malformed input throws a {@link BindingError} (the spec's
 * `invalid_exact_lnbtc_request_binding`); nothing is repaired or normalised. SHA-256 is Web
 * Crypto's (`globalThis.crypto.subtle`, in Node ≥ 20 and browsers).
 *
 * @module
 */
import { StipendError } from '../../errors/base.js';
import { bytesToHex, utf8ToBytes } from '../../internal/codec.js';
import { canonicalJson } from './jcs.js';

/** The binding profiles this client computes. */
export type BindingProfile = 'http:1' | 'mcp:1';

/** A request binding that cannot be built: the spec's `invalid_exact_lnbtc_request_binding`. */
export class BindingError extends StipendError {
  override name = 'BindingError';
  readonly reason = 'invalid_exact_lnbtc_request_binding';
  constructor(message: string) {
    super('CHALLENGE_INVALID', message, {
      details: { reason: 'invalid_exact_lnbtc_request_binding' },
    });
  }
}

/** An HTTP request as it goes on the wire, for `http:1`. */
export interface HttpBindingInput {
  /** The method as sent (case preserved). */
  readonly method: string;
  /** The absolute target URL as sent, without fragment. */
  readonly url: string;
  /** The content bytes; absent or empty for no body. */
  readonly body?: Uint8Array | undefined;
  /** The field lines sent, `[name, value]`, any name case, repeated names allowed. */
  readonly headerLines: readonly (readonly [string, string])[];
  /** `extra.requestBindingParams.headers`: the bound names. */
  readonly boundHeaders: readonly string[];
}

/** An MCP `tools/call`, for `mcp:1`. */
export interface McpBindingInput {
  /** The MCP server identity the client intends to call (its configuration, not the challenge). */
  readonly server: string;
  /** `params.name`. */
  readonly name: string;
  /** `params.arguments`, `undefined` when omitted. */
  readonly arguments?: unknown;
  /** `params._meta`, `undefined` when absent. */
  readonly meta?: unknown;
  /** `extra.requestBindingParams.metadata`: the bound `_meta` member names. */
  readonly boundMetadata: readonly string[];
}

/** A computed binding: its canonical description and the request hash (64 lowercase hex). */
export interface Binding {
  readonly canonical: string;
  readonly requestHash: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
const URI_CHARS = /^[\x21-\x7e]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * SHA-256 of bytes, as 64 lowercase hex digits (Web Crypto).
 *
 * @example
 * ```ts
 * import { sha256Hex } from './binding.js';
 * await sha256Hex(new Uint8Array()); // 'e3b0c442…b855'
 * ```
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return bytesToHex(new Uint8Array(digest));
}

function fail(message: string): never {
  throw new BindingError(message);
}

/**
 * Checks `extra.requestBindingParams` for a profile: `http:1` needs exactly `{ headers }`
 * (lowercase field names, ascending, unique, never `payment-signature`); `mcp:1` exactly
 * `{ server, metadata }`. Returns the bound names; throws a {@link BindingError}.
 *
 * @example
 * ```ts
 * import { bindingParams } from './binding.js';
 * bindingParams('http:1', { headers: ['accept'] }); // { names: ['accept'] }
 * ```
 */
export function bindingParams(
  profile: unknown,
  params: unknown,
): { readonly names: readonly string[]; readonly server?: string } {
  if (profile !== 'http:1' && profile !== 'mcp:1') {
    fail(`unsupported request binding profile ${JSON.stringify(profile)} (http:1 and mcp:1 are)`);
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    fail('extra.requestBindingParams is not an object');
  }
  const record = params as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  if (profile === 'http:1') {
    if (keys.length !== 1 || keys[0] !== 'headers') {
      fail('http:1 parameters must be exactly { headers }');
    }
    return { names: headerNames(record.headers) };
  }
  if (keys.length !== 2 || keys[0] !== 'metadata' || keys[1] !== 'server') {
    fail('mcp:1 parameters must be exactly { server, metadata }');
  }
  if (typeof record.server !== 'string') fail('mcp:1 server is not a string');
  checkUri(record.server, false);
  return { names: metadataNames(record.metadata), server: record.server };
}

function headerNames(value: unknown): string[] {
  if (!Array.isArray(value)) fail('the bound header list is not an array');
  const names = value as unknown[];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (typeof name !== 'string' || !LOWER_TOKEN.test(name)) {
      fail('bound header names must be lowercase HTTP field names');
    }
    if (name === 'payment-signature') fail('payment-signature must not be bound');
    if (i > 0 && !((names[i - 1] as string) < name)) {
      fail('bound header names must be unique and in ascending order');
    }
  }
  return names as string[];
}

function metadataNames(value: unknown): string[] {
  if (!Array.isArray(value)) fail('the bound metadata list is not an array');
  const names = value as unknown[];
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (typeof name !== 'string' || name.length === 0) {
      fail('bound metadata names must be non-empty strings');
    }
    if (name === 'x402/payment' || name === 'progressToken') {
      fail(`${name} must not be bound`);
    }
    if (i > 0 && !((names[i - 1] as string) < name)) {
      fail('bound metadata names must be unique and in JCS order');
    }
  }
  return names as string[];
}

/** An absolute ASCII URI without user information or fragment (`http`/`https` when `web`). */
function checkUri(text: string, web: boolean): void {
  if (!URI_CHARS.test(text)) fail('the URL must be ASCII without spaces');
  if (text.includes('#')) fail('the URL must not carry a fragment');
  if (BAD_PERCENT.test(text)) fail('the URL has a malformed percent escape');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1];
  if (!scheme) fail('the URL must be absolute');
  if (web && !/^https?$/i.test(scheme)) fail('the URL must be http or https');
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    fail('the URL is not a valid absolute URL');
  }
  if (parsed.username !== '' || parsed.password !== '' || /^[^:]+:\/\/[^/?]*@/.test(text)) {
    fail('the URL must not carry user information');
  }
}

/**
 * The `http:1` binding of a request (see the module comment).
 *
 * @example
 * ```ts
 * import { httpBinding } from './binding.js';
 * const { requestHash } = await httpBinding({
 *   method: 'GET', url: 'https://api.example.com/article/A', headerLines: [], boundHeaders: [],
 * }); // '0d6623f7…c018' (the spec's example)
 * ```
 */
export async function httpBinding(input: HttpBindingInput): Promise<Binding> {
  if (!TOKEN.test(input.method)) fail('the method is not an HTTP token');
  checkUri(input.url, true);
  const names = headerNames(input.boundHeaders);
  const headers = [];
  for (const name of names) {
    const lines = input.headerLines.filter(([line]) => line.toLowerCase() === name);
    let prefixed: Uint8Array;
    if (lines.length === 0) {
      prefixed = Uint8Array.of(0);
    } else {
      const value = lines.map(([, line]) => line.replace(/^[ \t]+|[ \t]+$/g, '')).join(', ');
      if (!FIELD_VALUE.test(value)) fail(`the value of bound header ${name} is not ASCII text`);
      prefixed = new Uint8Array(value.length + 1);
      prefixed[0] = 1;
      for (let i = 0; i < value.length; i++) prefixed[i + 1] = value.charCodeAt(i);
    }
    headers.push({ name, valueHash: await sha256Hex(prefixed) });
  }
  const binding = {
    domain: 'x402:exact:lnbtc:bolt11:http:1',
    method: input.method,
    url: input.url,
    bodyHash: await sha256Hex(input.body ?? new Uint8Array()),
    headers,
  };
  return finish(binding);
}

/**
 * The `mcp:1` binding of an MCP tool call (see the module comment).
 *
 * @example
 * ```ts
 * import { mcpBinding } from './binding.js';
 * const { requestHash } = await mcpBinding({
 *   server: 'https://api.example.com/mcp', name: 'get_article', arguments: { article: 'A' },
 *   boundMetadata: [],
 * }); // '03941bfe…93f4' (the spec's example)
 * ```
 */
export async function mcpBinding(input: McpBindingInput): Promise<Binding> {
  checkUri(input.server, false);
  if (typeof input.name !== 'string' || input.name.length === 0) {
    fail('the tool name must be a non-empty string');
  }
  const args = input.arguments === undefined ? {} : input.arguments;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    fail('the tool arguments must be an object');
  }
  const meta = input.meta === undefined ? {} : input.meta;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    fail('params._meta must be an object');
  }
  const names = metadataNames(input.boundMetadata);
  const metadata = [];
  for (const name of names) {
    const present = Object.hasOwn(meta, name);
    const bytes = present
      ? concat(Uint8Array.of(1), utf8ToBytes(jcs((meta as Record<string, unknown>)[name])))
      : Uint8Array.of(0);
    metadata.push({ name, valueHash: await sha256Hex(bytes) });
  }
  return finish({
    domain: 'x402:exact:lnbtc:bolt11:mcp:1',
    server: input.server,
    method: 'tools/call',
    name: input.name,
    arguments: args,
    metadata,
  });
}

async function finish(binding: Record<string, unknown>): Promise<Binding> {
  const canonical = jcs(binding);
  return { canonical, requestHash: await sha256Hex(utf8ToBytes(canonical)) };
}

function jcs(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch (error) {
    fail(`a bound value is outside JSON: ${(error as Error).message}`);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
