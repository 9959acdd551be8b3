/**
 * Paid MCP tools over the MPP MCP transport, served by the REAL `mppx` 0.11 server with its MCP
 * SDK transport (`Transport.mcpSdk()`): a call without a credential throws the JSON-RPC error
 * `-32042` whose `data.challenges` holds the `stripe/charge` challenge; a call with
 * `_meta["org.paymentauth/credential"]` is verified by mppx (HMAC id, expiry, the Stripe charge
 * through the testkit's PaymentIntents stand-in) and answers with
 * `_meta["org.paymentauth/receipt"]`; a refused credential throws `-32043` (or `-32602` for a
 * malformed one) with an RFC 9457 problem in `data.problem`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Challenge, Receipt } from 'mppx';
import { Mppx, stripe, Transport } from 'mppx/server';
import {
  createPaymentIntentsStandIn,
  type MppxStripeClient,
  type PaymentIntentsStandIn,
} from '../stripe/index.js';
import {
  type ToolCallParams,
  type ToolDefinition,
  type ToolHost,
  type ToolResult,
  textResult,
  unknownTool,
} from './tools.js';

/** Prices of the paid MPP tools, in dollars (mppx display strings; Stripe's card minimum is $0.50). */
export const MPP_MCP_PRICES = { get_article: '0.50', get_digest: '1.00' } as const;

/** Options of {@link createMppMcpTools}. */
export interface MppMcpToolsOptions {
  /** PaymentIntents stand-in mppx charges through (pass a `startStripeStandIn()`'s). */
  readonly paymentIntents?: PaymentIntentsStandIn;
  /** The Stripe client mppx calls; default `paymentIntents.client`. */
  readonly stripeClient?: MppxStripeClient;
  /** Seller's Stripe Business Network profile. Default `profile_test_stipend_seller`. */
  readonly networkId?: string;
  /** HMAC key for challenge ids (≥ 32 bytes); random by default. */
  readonly secretKey?: string;
  /** Challenge realm. Default `mcp.testkit.stipend.local`. */
  readonly realm?: string;
  /** Prices per tool, in dollars. */
  readonly prices?: Partial<Record<keyof typeof MPP_MCP_PRICES, string>>;
}

/** A payment event mppx reported. */
export interface MppMcpPaymentRecord {
  readonly challengeId: string;
  readonly receipt: Receipt.Receipt;
}

/** A refused credential mppx reported. */
export interface MppMcpFailureRecord {
  readonly challengeId: string;
  readonly problemType: string;
  readonly message: string;
}

/** The paid MPP MCP tools. */
export interface MppMcpTools extends ToolHost {
  readonly realm: string;
  readonly networkId: string;
  readonly paymentIntents: PaymentIntentsStandIn;
  /** Every challenge issued. */
  readonly challenges: readonly Challenge.Challenge[];
  /** Every accepted payment. */
  readonly payments: readonly MppMcpPaymentRecord[];
  /** Every refused credential. */
  readonly failures: readonly MppMcpFailureRecord[];
}

const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'get_article',
    description: 'An article (paid: MPP stripe charge, $0.50).',
    inputSchema: { type: 'object', properties: { id: { type: 'string' } } },
  },
  {
    name: 'get_digest',
    description: 'A weekly digest (paid: MPP stripe charge, $1.00).',
    inputSchema: { type: 'object', properties: {} },
  },
  { name: 'ping', description: 'Free.', inputSchema: { type: 'object', properties: {} } },
];

function createMppx(options: {
  stripeClient: MppxStripeClient;
  networkId: string;
  secretKey: string;
  realm: string;
}) {
  return Mppx.create({
    methods: [
      stripe.charge({
        client: options.stripeClient,
        networkId: options.networkId,
        currency: 'usd',
        decimals: 2,
        paymentMethodTypes: ['card'],
      }),
    ],
    secretKey: options.secretKey,
    realm: options.realm,
    transport: Transport.mcpSdk(),
  });
}

/**
 * Creates the paid MPP MCP tools `get_article` ($0.50), `get_digest` ($1.00) and the free
 * `ping`, on mppx's own MCP SDK transport. Mount them on an MCP SDK `Server` (see `./tools.ts`).
 *
 * @example
 * ```ts
 * import { startStripeStandIn } from '@stipend/testkit/stripe';
 * import { createMppMcpTools } from '@stipend/testkit/mcp';
 *
 * const stripeApi = await startStripeStandIn({ sellerProfile: 'profile_seller' });
 * const tools = createMppMcpTools({ paymentIntents: stripeApi.paymentIntents, networkId: 'profile_seller' });
 * await tools.callTool({ name: 'get_article' }); // throws McpError -32042 with data.challenges
 * ```
 */
export function createMppMcpTools(options: MppMcpToolsOptions = {}): MppMcpTools {
  const paymentIntents = options.paymentIntents ?? createPaymentIntentsStandIn();
  const networkId = options.networkId ?? 'profile_test_stipend_seller';
  const realm = options.realm ?? 'mcp.testkit.stipend.local';
  const prices = { ...MPP_MCP_PRICES, ...options.prices };
  const mppx = createMppx({
    stripeClient: options.stripeClient ?? paymentIntents.client,
    networkId,
    secretKey: options.secretKey ?? randomBytes(32).toString('base64url'),
    realm,
  });

  const challenges: Challenge.Challenge[] = [];
  const payments: MppMcpPaymentRecord[] = [];
  const failures: MppMcpFailureRecord[] = [];
  mppx.onChallengeCreated((ctx) => {
    challenges.push(ctx.challenge as Challenge.Challenge);
  });
  mppx.onPaymentSuccess((ctx) => {
    payments.push({ challengeId: ctx.challenge.id, receipt: ctx.receipt });
  });
  mppx.onPaymentFailed((ctx) => {
    const error = ctx.error as { type?: string; message?: string };
    failures.push({
      challengeId: ctx.challenge.id,
      problemType: error.type ?? 'unknown',
      message: error.message ?? '',
    });
  });

  async function callTool(params: ToolCallParams): Promise<ToolResult> {
    if (params.name === 'ping') return textResult('pong');
    const price =
      params.name === 'get_article'
        ? prices.get_article
        : params.name === 'get_digest'
          ? prices.get_digest
          : undefined;
    if (price === undefined) throw unknownTool(params.name, TOOLS);
    const description = params.name === 'get_article' ? 'Testkit article' : 'Weekly digest';
    const result = await mppx['stripe/charge']({ amount: price, description })({
      _meta: params._meta as Record<string, unknown> | undefined,
    });
    if (result.status === 402) throw result.challenge;
    const id = typeof params.arguments?.id === 'string' ? params.arguments.id : '1';
    const output =
      params.name === 'get_article'
        ? textResult(`Article ${id}: paid content.`, {
            structuredContent: { id, title: 'Testkit article' },
          })
        : textResult('Digest: everything that happened this week.');
    return result.withReceipt({ ...output, content: [...output.content] }) as ToolResult;
  }

  return {
    tools: TOOLS,
    callTool,
    realm,
    networkId,
    paymentIntents,
    challenges,
    payments,
    failures,
  };
}
