/**
 * The MCP bridge: a tool call is carried through a paying fetch as a synthetic HTTP exchange,
 * so that the very same core pays it (policy decision, budget reservation, pending ledger
 * record, wallet, proof, one paid retry, commit / release / hold) with the protocol adapters'
 * own parsers and proof builders. Nothing here builds a proof or reads terms into offers.
 *
 * - First send: the tool is called. x402 terms in the result become a 402 with
 *   `PAYMENT-REQUIRED` (v2) or a JSON body (v1); MPP challenges (JSON-RPC `-32042`) become a
 *   402 with `WWW-Authenticate: Payment …`. Any other answer is a plain 200 (or, for a
 *   JSON-RPC error, the error is thrown as it is).
 * - Paid retry: the adapter's proof header becomes `_meta["x402/payment"]` (the decoded
 *   `PaymentPayload`) or `_meta["org.paymentauth/credential"]` (the credential object echoing
 *   the challenge exactly as received), the tool is called once more on the same client, and
 *   the answer becomes what the adapter reads: `PAYMENT-RESPONSE`, `Payment-Receipt`, fresh
 *   terms or an RFC 9457 problem.
 *
 * Requests reach the bridge only when they carry the call header of a call it opened; every
 * other request goes to the base fetch untouched.
 *
 * @module
 */

import {
  decodeAnyBase64Json,
  encodeBase64Json,
  encodeBase64UrlJson,
} from '@stipend/client/internal';
import { randomIdOf } from './ids.js';
import {
  MPP_CREDENTIAL_META,
  type MppPaymentData,
  mcpCredentialOf,
  mppDataOf,
  mppReceiptOf,
  mppResultData,
  wwwAuthenticateOf,
} from './mpp-mcp.js';
import {
  settlementOf,
  type ToolResultLike,
  X402_PAYMENT_META,
  type X402ToolTerms,
  x402TermsOf,
} from './x402-mcp.js';

/** The request header that routes a synthetic request to its MCP call. */
export const CALL_HEADER = 'x-stipend-mcp-call';

/** The parameters of `tools/call`. */
export interface ToolCallParams {
  readonly name: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
  readonly _meta?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** What the bridge calls: an MCP SDK `Client#callTool`, bound, with its other arguments. */
export type CallTool = (params: ToolCallParams) => Promise<ToolResultLike>;

/** The last answer of a bridged call. */
export type McpAnswer =
  | {
      readonly kind: 'result';
      readonly result: ToolResultLike;
      /** True when the result is payment terms (not the tool's output). */
      readonly terms: boolean;
    }
  | { readonly kind: 'error'; readonly error: unknown; readonly terms: boolean };

/** One tool call in flight through the bridge. */
export interface BridgedCall {
  readonly callTool: CallTool;
  readonly params: ToolCallParams;
  /** MPP challenges received for this call, by id (echoed exactly in the credential). */
  readonly challenges: Map<string, Readonly<Record<string, unknown>>>;
  /** The answer to the latest send. */
  answer?: McpAnswer;
  /** How many times the tool was called (1 unpaid + at most 1 paid). */
  sends: number;
}

/** The router in front of a paying fetch's transport. */
export interface McpBridge {
  /** Sends bridged requests to their MCP call and every other request to the base fetch. */
  readonly fetch: typeof fetch;
  /** Opens a call; its id goes in {@link CALL_HEADER}. */
  open(
    callTool: CallTool,
    params: ToolCallParams,
  ): { readonly id: string; readonly call: BridgedCall };
  /** Forgets a call. */
  close(id: string): void;
}

/**
 * Creates the bridge. `base` is the fetch for everything that is not an MCP call (default:
 * `globalThis.fetch`, resolved at call time).
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { CALL_HEADER, createMcpBridge } from '@stipend/mcp';
 *
 * const bridge = createMcpBridge();
 * const payingFetch = createPayingFetch({ wallets, fetch: bridge.fetch });
 * const { id, call } = bridge.open((params) => client.callTool(params), { name: 'get_weather' });
 * await payingFetch('https://weather.mcp/tools/get_weather', { method: 'POST', headers: { [CALL_HEADER]: id } });
 * console.warn(call.answer);
 * bridge.close(id);
 * ```
 */
export function createMcpBridge(base?: typeof fetch): McpBridge {
  const calls = new Map<string, BridgedCall>();

  const bridged = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(
      init?.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    const id = headers.get(CALL_HEADER);
    if (id === null) return (base ?? globalThis.fetch)(input, init);
    const call = calls.get(id);
    if (!call) {
      throw new TypeError(`No MCP tool call ${id} is open; it ended or never started.`);
    }
    return send(call, headers);
  }) as typeof fetch;

  return {
    fetch: bridged,
    open(callTool, params) {
      const id = randomIdOf('mcp_');
      const call: BridgedCall = { callTool, params, challenges: new Map(), sends: 0 };
      calls.set(id, call);
      return { id, call };
    },
    close(id) {
      calls.delete(id);
    },
  };
}

/** Calls the tool for one send of the synthetic request and maps the answer to a response. */
async function send(call: BridgedCall, headers: Headers): Promise<Response> {
  const meta: Record<string, unknown> = { ...call.params._meta };
  let paid: 'x402' | 'mpp' | undefined;
  const x402 =
    headers.get('payment-signature') ??
    headers.get('x-payment') ??
    headers.get('x-payment-signature');
  if (x402 !== null) {
    meta[X402_PAYMENT_META] = decodeAnyBase64Json(x402);
    paid = 'x402';
  }
  const credential = [headers.get('payment-authorization'), headers.get('authorization')].find(
    (value) => value !== null && /^Payment\s/i.test(value),
  );
  if (credential) {
    meta[MPP_CREDENTIAL_META] = mcpCredentialOf(credential, call.challenges);
    paid = 'mpp';
  }
  const params: ToolCallParams =
    Object.keys(meta).length > 0 ? { ...call.params, _meta: meta } : call.params;

  call.sends++;
  let result: ToolResultLike;
  try {
    result = await call.callTool(params);
  } catch (error) {
    const data = mppDataOf((error as { data?: unknown } | null)?.data);
    // Not a payment answer (a lost connection, a timeout, another JSON-RPC error): thrown as it
    // is. On the paid retry the core then holds the payment as unknown.
    if (!data) {
      call.answer = { kind: 'error', error, terms: false };
      throw error;
    }
    call.answer = { kind: 'error', error, terms: true };
    return paid ? refusal(call, data) : challenge(call, undefined, data);
  }

  const terms = x402TermsOf(result);
  const mpp = mppResultData(result);
  call.answer = { kind: 'result', result, terms: terms !== undefined || mpp !== undefined };
  if (!paid) {
    return terms || mpp ? challenge(call, terms, mpp) : synthetic(200, {});
  }
  if (paid === 'x402') {
    const settlement = terms?.settlement ?? settlementOf(result);
    const receipt: Record<string, string> = settlement
      ? { 'payment-response': encodeBase64Json(settlement) }
      : {};
    if (terms) return challenge(call, terms, undefined, receipt);
    return synthetic(result.isError === true ? 500 : 200, receipt);
  }
  if (mpp) return refusal(call, mpp);
  const receipt = mppReceiptOf(result);
  return synthetic(
    result.isError === true ? 500 : 200,
    receipt ? { 'payment-receipt': encodeBase64UrlJson(receipt) } : {},
  );
}

/** A 402 carrying the terms of the answer, for the adapters to parse. */
function challenge(
  call: BridgedCall,
  x402: X402ToolTerms | undefined,
  mpp: MppPaymentData | undefined,
  extra: Record<string, string> = {},
): Response {
  const headers: Record<string, string> = { ...extra };
  let body: string | undefined;
  if (x402) {
    if (x402.paymentRequired.x402Version === 1) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(x402.paymentRequired);
    } else {
      headers['payment-required'] = encodeBase64Json(x402.paymentRequired);
    }
  }
  if (mpp && mpp.challenges.length > 0) {
    for (const item of mpp.challenges) {
      if (typeof item.id === 'string') call.challenges.set(item.id, item);
    }
    headers['www-authenticate'] = wwwAuthenticateOf(mpp.challenges);
  }
  return synthetic(402, headers, body);
}

/** The answer to a paid MPP retry that refused it: the problem, and any fresh challenges. */
function refusal(call: BridgedCall, data: MppPaymentData): Response {
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (data.problem) {
    headers['content-type'] = 'application/problem+json';
    body = JSON.stringify(data.problem);
  }
  if (data.challenges.length > 0) {
    for (const item of data.challenges) {
      if (typeof item.id === 'string') call.challenges.set(item.id, item);
    }
    headers['www-authenticate'] = wwwAuthenticateOf(data.challenges);
  }
  const status =
    data.httpStatus !== undefined && data.httpStatus >= 400 && data.httpStatus <= 599
      ? data.httpStatus
      : 402;
  return synthetic(status, headers, body);
}

function synthetic(status: number, headers: Record<string, string>, body?: string): Response {
  return new Response(body ?? null, { status, headers });
}
