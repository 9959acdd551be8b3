/**
 * A local MPP (Machine Payments Protocol) seller built on the REAL `mppx` 0.11 server, with the
 * `stripe` charge method wired to the Stripe stand-ins of `@stipend/testkit/stripe`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Challenge, Receipt } from 'mppx';
import { evm, Mppx, stripe, tempo } from 'mppx/server';
import type { Hex } from 'viem';
import { createClient, custom } from 'viem';
import { tempoModerato } from 'viem/chains';
import type { MppxStripeClient, PaymentIntentsStandIn } from '../stripe/index.js';
import { createPaymentIntentsStandIn } from '../stripe/index.js';
import type { Eip3009SettleInput } from './evm-settle.js';
import { createEip3009Settler, viemEip3009Chain } from './evm-settle.js';

/** Paths the server mounts. */
export const mppRoutes = {
  /** `GET`, no payment. */
  free: '/free',
  /** `GET`, one `stripe/charge` challenge. */
  article: '/article',
  /** `POST`, one `stripe/charge` challenge; answers with the request body. */
  echo: '/echo',
  /** `GET`, several challenges in one `WWW-Authenticate`: stripe at two prices, then tempo. */
  multi: '/multi',
  /** `GET`, needs `Authorization: Bearer <bearerToken>`; its challenge says `header="Payment-Authorization"`. */
  authedArticle: '/authed/article',
  /** `GET`, `evm/charge` that also emits x402 `PAYMENT-REQUIRED`; only with the `evm` option. */
  evmArticle: '/evm/article',
} as const;

/** pathUSD on Tempo (TIP-20, 6 decimals); offered on `/multi` as a method our client lacks. */
const pathUsd = '0x20c0000000000000000000000000000000000000';
/** Anvil dev account #1, the default payee for tempo and evm offers. */
const defaultRecipient = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

/** EVM chain parameters for the `evm/charge` route (a local anvil with an EIP-3009 token). */
export interface MppEvmOptions {
  /** JSON-RPC URL of the local chain. */
  rpcUrl: string;
  /** The EIP-3009 token contract. */
  tokenAddress: `0x${string}`;
  chainId: number;
  /** Payee; default anvil dev account #1. */
  recipient?: `0x${string}` | undefined;
  /** EIP-712 domain name of the token; default `USDC`. */
  tokenName?: string | undefined;
  /** EIP-712 domain version of the token; default `2`. */
  tokenVersion?: string | undefined;
  /** Token decimals; default 6. */
  decimals?: number | undefined;
  /** Price in display units; default `0.01`. */
  amount?: string | undefined;
  /** Key that pays gas when settling; default anvil dev account #0. */
  settlerPrivateKey?: Hex | undefined;
  /** Replaces on-chain settlement (e.g. to observe authorizations); default submits to `rpcUrl`. */
  settle?: ((input: Eip3009SettleInput) => Promise<{ reference: string }>) | undefined;
}

/** Options of {@link startMppServer}. */
export interface StartMppServerOptions {
  /**
   * Records PaymentIntents; a fresh `createPaymentIntentsStandIn()` by default. Pass the one of a
   * running `startStripeStandIn()` to check charges against the SPTs it issued.
   */
  paymentIntents?: PaymentIntentsStandIn | undefined;
  /**
   * The Stripe client mppx calls; defaults to `paymentIntents.client`. A real `stripe` SDK client
   * from `stripeStandIn.createStripeClient()` also works and goes over HTTP.
   */
  stripeClient?: MppxStripeClient | undefined;
  /** Seller's Stripe Business Network profile (`methodDetails.networkId`). */
  networkId?: string | undefined;
  /** HMAC key for challenge ids, ≥ 32 bytes; random by default. */
  secretKey?: string | undefined;
  /** Challenge realm; default `testkit.stipend.local`. */
  realm?: string | undefined;
  /** Prices in dollars as mppx display strings (Stripe's card minimum is 0.50). */
  prices?: { article?: string; echo?: string; multi?: readonly [string, string] } | undefined;
  /** Bearer token `/authed/article` requires; default `testkit-bearer-token`. */
  bearerToken?: string | undefined;
  /** Mounts `/evm/article` when given. */
  evm?: MppEvmOptions | undefined;
}

/** A challenge the server issued. */
export interface IssuedChallengeRecord {
  readonly route: string;
  readonly method: string;
  readonly intent: string;
  readonly challenge: Challenge.Challenge;
}

/** A payment mppx accepted. */
export interface PaymentSuccessRecord {
  readonly route: string;
  readonly method: string;
  readonly intent: string;
  readonly challengeId: string;
  readonly receipt: Receipt.Receipt;
}

/** A credential mppx refused. */
export interface PaymentFailureRecord {
  readonly route: string;
  readonly method: string;
  readonly intent: string;
  readonly challengeId: string;
  /** RFC 9457 problem type URI, e.g. `https://paymentauth.org/problems/verification-failed`. */
  readonly problemType: string;
  readonly message: string;
}

/** A running MPP test server. */
export interface MppServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly realm: string;
  readonly networkId: string;
  readonly bearerToken: string;
  readonly routes: typeof mppRoutes;
  /** The PaymentIntents stand-in mppx charges through (records every PaymentIntent). */
  readonly paymentIntents: PaymentIntentsStandIn;
  /** Every challenge issued, oldest first. */
  readonly challenges: readonly IssuedChallengeRecord[];
  /** Every accepted payment. */
  readonly payments: readonly PaymentSuccessRecord[];
  /** Every refused credential. */
  readonly failures: readonly PaymentFailureRecord[];
  /** Full URL of a route. */
  urlOf(route: (typeof mppRoutes)[keyof typeof mppRoutes]): string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** A viem client for Tempo Moderato whose transport refuses every call: nothing leaves the host. */
function offlineTempoClient() {
  return createClient({
    chain: tempoModerato,
    transport: custom({
      async request({ method }) {
        throw new Error(
          `testkit MPP server: no Tempo chain here (refused JSON-RPC ${method}); tempo offers are for display only.`,
        );
      },
    }),
  });
}

type Observable = {
  onChallengeCreated(
    handler: (ctx: {
      challenge: Challenge.Challenge;
      method: { name: string; intent: string };
      input?: unknown;
    }) => void,
  ): unknown;
  onPaymentSuccess(
    handler: (ctx: {
      challenge: Challenge.Challenge;
      method: { name: string; intent: string };
      receipt: Receipt.Receipt;
      input?: unknown;
    }) => void,
  ): unknown;
  onPaymentFailed(
    handler: (ctx: {
      challenge: Challenge.Challenge;
      method: { name: string; intent: string };
      error: { type: string; message: string };
      input?: unknown;
    }) => void,
  ): unknown;
};

function routeOf(input: unknown): string {
  return input instanceof Request ? new URL(input.url).pathname : '';
}

/**
 * Starts an MPP seller on 127.0.0.1 (free port) using the real `mppx/server` with its `stripe`
 * charge method (and `tempo`/`evm` offers), backed by the Stripe PaymentIntents stand-in instead
 * of Stripe. Routes are in {@link mppRoutes}: `/free`, `/article` ($0.50), `POST /echo` ($0.50,
 * echoes the body), `/multi` (stripe $0.50 and $1.00 plus a tempo pathUSD offer, folded into one
 * `WWW-Authenticate` by `compose`), `/authed/article` (Bearer auth, then a challenge with
 * `header="Payment-Authorization"`), and `/evm/article` when `evm` is given (`evm/charge` with an
 * x402 `PAYMENT-REQUIRED` next to `WWW-Authenticate: Payment`). It records challenges, payments,
 * refusals and PaymentIntents.
 *
 * The tempo offer on `/multi` cannot be paid here: its chain client refuses every RPC call.
 *
 * @example
 * ```ts
 * import { startMppServer } from '@stipend/testkit/mpp';
 *
 * const server = await startMppServer();
 * const res = await fetch(server.urlOf('/article')); // 402, WWW-Authenticate: Payment ... method="stripe"
 * await server.close();
 * ```
 */
export async function startMppServer(options: StartMppServerOptions = {}): Promise<MppServer> {
  const paymentIntents = options.paymentIntents ?? createPaymentIntentsStandIn();
  const stripeClient = options.stripeClient ?? paymentIntents.client;
  const networkId = options.networkId ?? 'profile_test_stipend_seller';
  const secretKey = options.secretKey ?? randomBytes(32).toString('base64url');
  const realm = options.realm ?? 'testkit.stipend.local';
  const bearerToken = options.bearerToken ?? 'testkit-bearer-token';
  const prices = {
    article: options.prices?.article ?? '0.50',
    echo: options.prices?.echo ?? '0.50',
    multi: options.prices?.multi ?? (['0.50', '1.00'] as const),
  };

  const challenges: IssuedChallengeRecord[] = [];
  const payments: PaymentSuccessRecord[] = [];
  const failures: PaymentFailureRecord[] = [];
  const observe = (mppx: Observable) => {
    mppx.onChallengeCreated((ctx) => {
      challenges.push({
        route: routeOf(ctx.input),
        method: ctx.method.name,
        intent: ctx.method.intent,
        challenge: ctx.challenge,
      });
    });
    mppx.onPaymentSuccess((ctx) => {
      payments.push({
        route: routeOf(ctx.input),
        method: ctx.method.name,
        intent: ctx.method.intent,
        challengeId: ctx.challenge.id,
        receipt: ctx.receipt,
      });
    });
    mppx.onPaymentFailed((ctx) => {
      failures.push({
        route: routeOf(ctx.input),
        method: ctx.method.name,
        intent: ctx.method.intent,
        challengeId: ctx.challenge.id,
        problemType: ctx.error.type,
        message: ctx.error.message,
      });
    });
  };

  const stripeCharge = () =>
    stripe.charge({
      client: stripeClient,
      networkId,
      currency: 'usd',
      decimals: 2,
      paymentMethodTypes: ['card'],
    });

  const main = Mppx.create({
    methods: [
      stripeCharge(),
      tempo.charge({
        currency: pathUsd,
        recipient: defaultRecipient,
        testnet: true,
        getClient: offlineTempoClient,
      }),
    ],
    secretKey,
    realm,
  });
  const authed = Mppx.create({ methods: [stripeCharge()], secretKey, realm, requiresAuth: true });
  observe(main as unknown as Observable);
  observe(authed as unknown as Observable);

  const evmOptions = options.evm;
  const evmMppx = evmOptions
    ? Mppx.create({
        methods: [
          evm.charge({
            currency: evmOptions.tokenAddress,
            chainId: evmOptions.chainId,
            decimals: evmOptions.decimals ?? 6,
            authorization: {
              name: evmOptions.tokenName ?? 'USDC',
              version: evmOptions.tokenVersion ?? '2',
            },
            recipient: evmOptions.recipient ?? defaultRecipient,
            settle:
              evmOptions.settle ??
              createEip3009Settler(
                viemEip3009Chain({
                  rpcUrl: evmOptions.rpcUrl,
                  chainId: evmOptions.chainId,
                  settlerPrivateKey: evmOptions.settlerPrivateKey,
                }),
              ),
          }),
        ],
        secretKey,
        realm,
      })
    : undefined;
  if (evmMppx) observe(evmMppx as unknown as Observable);

  const app = new Hono();
  app.get(mppRoutes.free, (c) => c.json({ free: true }));

  app.get(mppRoutes.article, async (c) => {
    const result = await main['stripe/charge']({
      amount: prices.article,
      description: 'Testkit article',
    })(c.req.raw);
    if (result.status === 402) return result.challenge;
    return result.withReceipt(Response.json({ title: 'Testkit article', body: 'Paid content.' }));
  });

  app.post(mppRoutes.echo, async (c) => {
    const result = await main['stripe/charge']({ amount: prices.echo })(c.req.raw);
    if (result.status === 402) return result.challenge;
    const body = await c.req.raw.arrayBuffer();
    const contentType = c.req.header('content-type') ?? 'application/octet-stream';
    return result.withReceipt(new Response(body, { headers: { 'content-type': contentType } }));
  });

  app.get(mppRoutes.multi, async (c) => {
    const result = await main.compose(
      ['stripe/charge', { amount: prices.multi[0], description: 'Cheaper offer' }],
      ['stripe/charge', { amount: prices.multi[1], description: 'Dearer offer' }],
      ['tempo/charge', { amount: prices.multi[0] }],
    )(c.req.raw);
    if (result.status === 402) return result.challenge;
    return result.withReceipt(Response.json({ multi: true }));
  });

  app.get(mppRoutes.authedArticle, async (c) => {
    if (c.req.header('authorization') !== `Bearer ${bearerToken}`) {
      return c.json({ error: 'Send Authorization: Bearer <bearerToken> first.' }, 401, {
        'www-authenticate': `Bearer realm="${realm}"`,
      });
    }
    const result = await authed['stripe/charge']({ amount: prices.article })(c.req.raw);
    if (result.status === 402) return result.challenge;
    return result.withReceipt(Response.json({ title: 'Members article' }));
  });

  if (evmMppx && evmOptions) {
    app.get(mppRoutes.evmArticle, async (c) => {
      const result = await evmMppx['evm/charge']({ amount: evmOptions.amount ?? '0.01' })(
        c.req.raw,
      );
      if (result.status === 402) return result.challenge;
      return result.withReceipt(Response.json({ title: 'EVM article' }));
    });
  }

  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) resolve();
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    realm,
    networkId,
    bearerToken,
    routes: mppRoutes,
    paymentIntents,
    challenges,
    payments,
    failures,
    urlOf: (route) => `${url}${route}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}
