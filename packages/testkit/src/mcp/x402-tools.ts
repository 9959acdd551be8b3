/**
 * Paid MCP tools over the x402 MCP transport (coinbase/x402 `specs/transports-v2/mcp.md`),
 * taking REAL payments on the local chain through the reference `x402ResourceServer` and the
 * SAME in-process facilitator the testkit's x402 HTTP server uses.
 *
 * Per the spec: a call without payment answers a tool result with `isError: true`, the
 * `PaymentRequired` in `structuredContent` and, in `content[0].text`, the JSON
 * `{"x402/error":{"code":402,"message":…,"data":PaymentRequired}}`; a call with
 * `_meta["x402/payment"]` is matched, verified, executed, then settled, and answers with
 * `_meta["x402/payment-response"]`; a refused verification answers `PaymentRequired` whose
 * `error` is the reason; a failed settlement answers `PaymentRequired` with the settlement
 * response under `"x402/payment-response"`, and the tool output is withheld; a tool that fails
 * is not settled.
 *
 * @module
 */
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements, SettleResponse } from '@x402/core/types';
import { ExactEvmScheme as ExactEvmServerScheme } from '@x402/evm/exact/server';
import type { Address } from 'viem';
import type { LocalChain } from '../chain/chain.js';
import { DEV_ACCOUNTS } from '../chain/dev-accounts.js';
import type { TokenInfo } from '../chain/token.js';
import {
  createLocalFacilitator,
  type LocalFacilitator,
  type RejectionRecord,
  type SettlementRecord,
} from '../x402/facilitator.js';
import {
  type ToolCallParams,
  type ToolDefinition,
  type ToolHost,
  type ToolResult,
  textResult,
  unknownTool,
} from './tools.js';

/** Prices of the paid x402 tools, in the token's atomic units (6 decimals: 1000 = $0.001). */
export const X402_MCP_PRICES = { get_weather: 1000n, premium_report: 50_000n } as const;

/** `_meta` key of the payment payload. */
const PAYMENT_META = 'x402/payment';
/** `_meta` key of the settlement response. */
const RESPONSE_META = 'x402/payment-response';

/** Options of {@link createX402McpTools}. */
export interface X402McpToolsOptions {
  /** The chain the token lives on. */
  readonly chain: LocalChain;
  /**
   * The facilitator that verifies and settles: pass the x402 HTTP server's
   * (`server.facilitator`) to share it. Default: a new local facilitator on `chain`.
   */
  readonly facilitator?: LocalFacilitator;
  /** Recipient. Default: anvil dev account 2 (the x402 HTTP server's default too). */
  readonly payTo?: Address;
  /** Prices per paid tool, atomic units. Default {@link X402_MCP_PRICES}. */
  readonly prices?: Partial<Record<keyof typeof X402_MCP_PRICES, bigint>>;
  /** Makes settlement fail (the facilitator is not called) with this reason, for tests. */
  readonly failSettlement?: string;
}

/** What happened to one `tools/call`. */
export interface X402McpCallRecord {
  readonly tool: string;
  /** Whether the call carried `_meta["x402/payment"]`. */
  readonly paid: boolean;
  readonly outcome:
    | 'free'
    | 'payment_required'
    | 'no_matching_requirements'
    | 'verify_failed'
    | 'tool_error'
    | 'settled'
    | 'settle_failed';
  /** The facilitator's or server's reason, when refused. */
  readonly reason?: string;
}

/** The paid x402 MCP tools. */
export interface X402McpTools extends ToolHost {
  readonly token: TokenInfo;
  readonly network: string;
  readonly payTo: Address;
  readonly prices: Readonly<Record<keyof typeof X402_MCP_PRICES, bigint>>;
  readonly facilitator: LocalFacilitator;
  /** Successful settlements (the facilitator's array, shared with whoever else uses it). */
  readonly settlements: readonly SettlementRecord[];
  readonly rejections: readonly RejectionRecord[];
  /** Every call, in order. */
  readonly calls: readonly X402McpCallRecord[];
}

const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'get_weather',
    description: 'The weather for a city (paid: x402, $0.001).',
    inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
  },
  {
    name: 'premium_report',
    description: 'A long market report (paid: x402, $0.05).',
    inputSchema: { type: 'object', properties: { topic: { type: 'string' } } },
  },
  {
    name: 'fail_after_payment',
    description: 'Always fails after the payment is verified (paid: x402, $0.001); never settled.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'ping',
    description: 'Free.',
    inputSchema: { type: 'object', properties: {} },
  },
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Creates the paid x402 MCP tools: `get_weather` ($0.001), `premium_report` ($0.05),
 * `fail_after_payment` ($0.001, the tool fails so nothing is settled) and the free `ping`.
 * Mount them on an MCP SDK `Server` (see `./tools.ts`).
 *
 * @example
 * ```ts
 * import { startX402Server } from '@stipend/testkit/x402';
 * import { createX402McpTools } from '@stipend/testkit/mcp';
 *
 * const http = await startX402Server();
 * const tools = await createX402McpTools({ chain: http.chain, facilitator: http.facilitator });
 * const unpaid = await tools.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
 * unpaid.isError; // true, structuredContent is the PaymentRequired
 * ```
 */
export async function createX402McpTools(options: X402McpToolsOptions): Promise<X402McpTools> {
  const { chain } = options;
  const facilitator = options.facilitator ?? createLocalFacilitator({ chain });
  const payTo = options.payTo ?? (DEV_ACCOUNTS[2]?.address as Address);
  const prices = { ...X402_MCP_PRICES, ...options.prices };
  const token = chain.token;
  const resourceServer = new x402ResourceServer(facilitator.client).register(
    chain.network,
    new ExactEvmServerScheme(),
  );
  await resourceServer.initialize();

  const accepts = new Map<string, PaymentRequirements[]>();
  for (const [tool, price] of [
    ['get_weather', prices.get_weather],
    ['premium_report', prices.premium_report],
    ['fail_after_payment', prices.get_weather],
  ] as const) {
    accepts.set(
      tool,
      await resourceServer.buildPaymentRequirements({
        scheme: 'exact',
        network: chain.network,
        payTo,
        // An explicit asset amount: the local token is in no default-asset table.
        price: {
          amount: price.toString(),
          asset: token.address,
          extra: { name: token.name, version: token.version },
        },
        maxTimeoutSeconds: 300,
      }),
    );
  }

  const calls: X402McpCallRecord[] = [];

  async function paymentRequired(
    tool: string,
    requirements: PaymentRequirements[],
    error: string,
    settlement?: SettleResponse,
  ): Promise<ToolResult> {
    const description = TOOLS.find((t) => t.name === tool)?.description ?? tool;
    const required = await resourceServer.createPaymentRequiredResponse(
      requirements,
      { url: `mcp://tool/${tool}`, description, mimeType: 'application/json' },
      error,
    );
    const data: Record<string, unknown> = settlement
      ? { ...required, [RESPONSE_META]: settlement }
      : { ...required };
    return {
      isError: true,
      structuredContent: data,
      content: [
        {
          type: 'text',
          text: JSON.stringify({ 'x402/error': { code: 402, message: error, data } }),
        },
      ],
    };
  }

  async function run(tool: string, args: Readonly<Record<string, unknown>>): Promise<ToolResult> {
    if (tool === 'get_weather') {
      const city = typeof args.city === 'string' ? args.city : 'Testville';
      const report = { city, forecast: 'sunny', temperatureC: 21 };
      return textResult(`Weather in ${city}: sunny, 21 °C.`, { structuredContent: report });
    }
    if (tool === 'premium_report') {
      const topic = typeof args.topic === 'string' ? args.topic : 'markets';
      return textResult(`Premium report on ${topic}: up and to the right.`);
    }
    return textResult('The tool failed after the payment was verified.', { isError: true });
  }

  async function callTool(params: ToolCallParams): Promise<ToolResult> {
    const tool = params.name;
    if (tool === 'ping') {
      calls.push({ tool, paid: false, outcome: 'free' });
      return textResult('pong');
    }
    const requirements = accepts.get(tool);
    if (!requirements) throw unknownTool(tool, TOOLS);
    const payload = params._meta?.[PAYMENT_META];
    if (!isObject(payload)) {
      calls.push({ tool, paid: false, outcome: 'payment_required' });
      return paymentRequired(tool, requirements, 'Payment required to access this tool');
    }
    const paymentPayload = payload as unknown as PaymentPayload;
    const matched = resourceServer.findMatchingRequirements(requirements, paymentPayload);
    if (!matched) {
      calls.push({ tool, paid: true, outcome: 'no_matching_requirements' });
      return paymentRequired(tool, requirements, 'No matching payment requirements');
    }
    const verified = await resourceServer.verifyPayment(paymentPayload, matched);
    if (!verified.isValid) {
      const reason = verified.invalidReason ?? 'Payment verification failed';
      calls.push({ tool, paid: true, outcome: 'verify_failed', reason });
      return paymentRequired(tool, requirements, reason);
    }
    const result = await run(tool, params.arguments ?? {});
    if (result.isError) {
      calls.push({ tool, paid: true, outcome: 'tool_error' });
      return result;
    }
    let settlement: SettleResponse;
    if (options.failSettlement !== undefined) {
      settlement = {
        success: false,
        errorReason: options.failSettlement,
        transaction: '',
        network: matched.network,
      };
    } else {
      try {
        settlement = await resourceServer.settlePayment(paymentPayload, matched);
      } catch (error) {
        settlement = {
          success: false,
          errorReason: (error as Error).message,
          transaction: '',
          network: matched.network,
        };
      }
    }
    if (!settlement.success) {
      const reason = settlement.errorReason ?? 'settlement failed';
      calls.push({ tool, paid: true, outcome: 'settle_failed', reason });
      return paymentRequired(
        tool,
        requirements,
        `Payment settlement failed: ${reason}`,
        settlement,
      );
    }
    calls.push({ tool, paid: true, outcome: 'settled' });
    return { ...result, _meta: { ...result._meta, [RESPONSE_META]: settlement } };
  }

  return {
    tools: TOOLS,
    callTool,
    token,
    network: chain.network,
    payTo,
    prices,
    facilitator,
    settlements: facilitator.settlements,
    rejections: facilitator.rejections,
    calls,
  };
}
