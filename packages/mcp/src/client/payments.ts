/**
 * Paying MCP tool calls under a spend policy: {@link createMcpPayments} builds ONE paying fetch
 * (one policy engine, one budget store, one ledger, one set of wallets and adapters) whose
 * transport is the MCP bridge, so tool calls and plain HTTP 402 calls are decided, reserved,
 * paid and booked by the same core. {@link withPayments} wraps an MCP SDK `Client` so that its
 * `callTool` pays through it.
 *
 * @module
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  type BudgetStore,
  createPayingFetch,
  getPayment,
  type Ledger,
  type PayingFetch,
  type PayingFetchConfig,
  type PaymentInit,
  type PaymentOutcome,
  type PolicyEngine,
  StipendError,
} from '@stipend/client';
import { type Elicit, elicitationApprover } from '../elicitation.js';
import { type BridgedCall, CALL_HEADER, createMcpBridge, type ToolCallParams } from './bridge.js';

type SdkCallTool = Client['callTool'];
/** The parameters of `tools/call`, as the MCP SDK types them. */
export type CallToolParams = Parameters<SdkCallTool>[0];
/** What `Client#callTool` resolves with. */
export type CallToolAnswer = Awaited<ReturnType<SdkCallTool>>;
/** The result schema `Client#callTool` accepts. */
export type CallToolResultSchema = Parameters<SdkCallTool>[1];

/** The part of an MCP SDK `Client` that paying needs. */
export type McpClientLike = Pick<Client, 'callTool' | 'getServerVersion'>;

/** Configuration of {@link createMcpPayments}: a paying fetch's, plus elicitation. */
export interface McpPaymentsConfig extends PayingFetchConfig {
  /**
   * Asks the user through MCP elicitation when the policy needs an approval and no `approver`
   * is given: pass the host's own elicitation UI (the handler it registers for
   * `elicitation/create`). Without either, payments that need approval are refused.
   */
  readonly elicit?: Elicit;
}

/** Options of one paid tool call. */
export interface McpCallOptions {
  /**
   * The host name this server goes by in policies, records and errors (`weather.mcp`,
   * `tools.example.com`). Default: the server's declared name, lower-cased, under `.mcp`
   * (`Weather Server` → `weather-server.mcp`). A declared name is the server's own claim: set
   * this when a policy rule for the host must not apply to another server.
   */
  readonly server?: string;
  /** Per-call payment options (tags, `maxUsd`, idempotency key, `pay: false`); tighten-only. */
  readonly payment?: PaymentInit;
  /** Passed to `Client#callTool`. */
  readonly resultSchema?: CallToolResultSchema;
  /** Passed to `Client#callTool` (signal, timeout…); used for both calls. */
  readonly requestOptions?: RequestOptions;
}

/** One paying core for MCP tool calls and HTTP requests. */
export interface McpPayments {
  /** The paying fetch: HTTP 402 responses are paid under the same policy and budgets. */
  readonly fetch: PayingFetch;
  readonly ledger: Ledger;
  readonly budget: BudgetStore;
  readonly engine: PolicyEngine;
  /**
   * Calls a tool and pays once when it answers with payment terms (x402 or MPP MCP transport).
   *
   * @throws {PolicyDeniedError | ApprovalError} when the policy pays nothing (nothing was paid).
   * @throws {PaymentFailedError} when the paid retry was refused or its outcome is unknown.
   */
  callTool(
    client: McpClientLike,
    params: CallToolParams,
    options?: McpCallOptions,
  ): Promise<CallToolAnswer>;
}

const toolPayments = new WeakMap<object, PaymentOutcome>();

/**
 * The payment made for a tool result, if one was made.
 *
 * @example
 * ```ts
 * import { getToolPayment } from '@stipend/mcp';
 * const result = await paid.callTool({ name: 'get_weather' });
 * getToolPayment(result)?.record.committedUsdMicros; // 1000n
 * ```
 */
export function getToolPayment(result: object): PaymentOutcome | undefined {
  return toolPayments.get(result);
}

/**
 * Creates the paying core for MCP tool calls, sharing everything with its HTTP paying fetch.
 *
 * @example
 * ```ts
 * import { createMcpPayments } from '@stipend/mcp';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payments = createMcpPayments({
 *   wallets: [evmWallet({ account })],
 *   policy: { global: { maxPerRequest: { usd: '0.05' }, limits: [{ usd: '2', window: { calendar: 'day' } }] } },
 * });
 * const result = await payments.callTool(client, { name: 'get_weather', arguments: { city: 'Oslo' } });
 * const res = await payments.fetch('https://api.example.com/report'); // same budgets
 * ```
 */
export function createMcpPayments(config: McpPaymentsConfig): McpPayments {
  const { elicit, ...rest } = config;
  const bridge = createMcpBridge(config.fetch);
  const approver = config.approver ?? (elicit ? elicitationApprover(elicit) : undefined);
  const payingFetch = createPayingFetch({
    ...rest,
    ...(approver ? { approver } : {}),
    fetch: bridge.fetch,
  });

  return {
    fetch: payingFetch,
    ledger: payingFetch.ledger,
    budget: payingFetch.budget,
    engine: payingFetch.engine,
    async callTool(client, params, options = {}) {
      const host = hostFor(options.server, client);
      const { id, call } = bridge.open(
        (sent) =>
          client.callTool(sent as CallToolParams, options.resultSchema, options.requestOptions),
        params as ToolCallParams,
      );
      try {
        const extraTags = options.payment?.tags ?? [];
        const response = await payingFetch(
          `https://${host}/tools/${encodeURIComponent(params.name)}`,
          {
            method: 'POST',
            headers: { [CALL_HEADER]: id },
            payment: { ...options.payment, tags: ['mcp', `mcp:${params.name}`, ...extraTags] },
            ...(options.requestOptions?.signal ? { signal: options.requestOptions.signal } : {}),
          },
        );
        return await conclude(response, call);
      } finally {
        bridge.close(id);
      }
    },
  };
}

/** Reads the outcome of a bridged call: the tool's answer, or the typed error. */
async function conclude(response: Response, call: BridgedCall): Promise<CallToolAnswer> {
  if (response.status === 202 && response.headers.has('stipend-approval-id')) {
    const body = (await response.json().catch(() => ({}))) as { approval?: unknown };
    throw new StipendError(
      'APPROVAL_PENDING',
      `The tool call's payment awaits approval ${response.headers.get('stipend-approval-id')}; call again with the same payment.idempotencyKey once it is decided.`,
      { details: { approval: body.approval } },
    );
  }
  const answer = call.answer;
  if (!answer) {
    throw new StipendError('MCP_NO_ANSWER', 'The MCP tool call ended without an answer.');
  }
  const payment = getPayment(response);
  if (payment && payment.status !== 'paid' && answer.terms) {
    throw (
      payment.error ??
      new StipendError('PAYMENT_FAILED', `The tool call's payment ended ${payment.status}.`)
    );
  }
  if (answer.kind === 'error') throw answer.error;
  const result = answer.result as CallToolAnswer;
  if (payment) toolPayments.set(result, payment);
  return result;
}

/** The host a server goes by: the given one, or its declared name under `.mcp`. */
function hostFor(server: string | undefined, client: McpClientLike): string {
  if (server !== undefined) {
    let host: string;
    try {
      host = new URL(`https://${server}/`).hostname;
    } catch {
      host = '';
    }
    if (host === '' || host !== server.toLowerCase()) {
      throw new StipendError(
        'MCP_SERVER_NAME_INVALID',
        `server "${server}" is not a host name; use letters, digits, dots and hyphens (e.g. "weather.mcp").`,
      );
    }
    return host;
  }
  return declaredHostOf(client.getServerVersion()?.name);
}

/**
 * The host name a server goes by when none is given: its declared name, lower-cased, under
 * `.mcp` (`Weather Server` → `weather-server.mcp`; nothing usable → `mcp-server.mcp`).
 *
 * @example
 * ```ts
 * import { declaredHostOf } from './payments.js';
 * declaredHostOf('Weather Server'); // 'weather-server.mcp'
 * ```
 */
export function declaredHostOf(declared: string | undefined): string {
  const label = (declared ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return `${label || 'mcp-server'}.mcp`;
}

/** Options of {@link withPayments}: an existing {@link McpPayments}, or what makes one. */
export type WithPaymentsOptions = (
  | { readonly payments: McpPayments }
  | (McpPaymentsConfig & { readonly payments?: undefined })
) & {
  /** The host name the server goes by (see {@link McpCallOptions.server}). */
  readonly server?: string;
};

/** `Client#callTool` with payments, plus per-call `payment` options. */
export type PayingCallTool = (
  params: CallToolParams,
  resultSchema?: CallToolResultSchema,
  options?: RequestOptions & { readonly payment?: PaymentInit },
) => Promise<CallToolAnswer>;

/** An MCP client whose `callTool` pays; everything else is the client's own. */
export type PayingClient<C extends McpClientLike> = Omit<C, 'callTool'> & {
  readonly callTool: PayingCallTool;
  /** The paying core (its `fetch` pays HTTP 402 responses under the same budgets). */
  readonly payments: McpPayments;
};

/**
 * Wraps an MCP SDK client so that tool calls answered with payment terms (x402:
 * `isError` + `structuredContent` `PaymentRequired`; MPP: JSON-RPC `-32042`) are paid once
 * under the policy, the proof going back to the same server only. The client is not modified:
 * the wrapper forwards everything else to it.
 *
 * @example
 * ```ts
 * import { Client } from '@modelcontextprotocol/sdk/client/index.js';
 * import { getToolPayment, withPayments } from '@stipend/mcp';
 * import { stripeWallet } from '@stipend/wallet-stripe';
 *
 * const client = new Client({ name: 'agent', version: '1.0.0' });
 * await client.connect(transport);
 * const paid = withPayments(client, {
 *   wallets: [stripeWallet({ stripe, paymentMethod: 'pm_…' })],
 *   policy: { global: { maxPerRequest: { usd: '1.00' } } },
 *   server: 'articles.mcp',
 * });
 * const result = await paid.callTool({ name: 'get_article', arguments: { id: '42' } });
 * console.warn(getToolPayment(result)?.record.status); // 'committed'
 * ```
 */
export function withPayments<C extends McpClientLike>(
  client: C,
  options: WithPaymentsOptions,
): PayingClient<C> {
  const { server, payments: given, ...config } = options;
  const payments = given ?? createMcpPayments(config as McpPaymentsConfig);
  const callTool: PayingCallTool = (params, resultSchema, requestOptions) => {
    const { payment, ...sdkOptions } = requestOptions ?? {};
    return payments.callTool(client, params, {
      ...(server !== undefined ? { server } : {}),
      ...(payment ? { payment } : {}),
      ...(resultSchema ? { resultSchema } : {}),
      ...(requestOptions ? { requestOptions: sdkOptions } : {}),
    });
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'callTool') return callTool;
      if (property === 'payments') return payments;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as unknown as PayingClient<C>;
}
