import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { RouteConfig, RoutesConfig } from '@x402/core/server';
import { ExactEvmScheme as ExactEvmServerScheme } from '@x402/evm/exact/server';
import {
  paymentMiddlewareFromHTTPServer,
  x402HTTPResourceServer,
  x402ResourceServer,
} from '@x402/hono';
import { Hono } from 'hono';
import type { Address, Hex } from 'viem';
import { type LocalChain, startChain } from '../chain/chain.js';
import { DEV_ACCOUNTS } from '../chain/dev-accounts.js';
import type { TokenInfo } from '../chain/token.js';
import {
  createLocalFacilitator,
  type LocalFacilitator,
  type RejectionRecord,
  type SettlementRecord,
} from './facilitator.js';
import { defaultX402Routes, type X402Route } from './routes.js';
import { x402V1Middleware } from './v1-middleware.js';

/** Options for {@link startX402Server}. */
export interface X402ServerOptions {
  /**
   * Chain to settle on. Default: a fresh {@link startChain} (chain id 31337 for v2, 84532 —
   * posing as `base-sepolia`, still local — for v1), stopped again by `close()`.
   */
  readonly chain?: LocalChain;
  /** x402 protocol version to serve. Default 2 (the reference `@x402/hono` middleware). */
  readonly version?: 1 | 2;
  /** Routes to serve. Default: {@link defaultX402Routes}. */
  readonly routes?: readonly X402Route[];
  /** Routes served in addition to `routes` (or to the defaults). */
  readonly extraRoutes?: readonly X402Route[];
  /** Default recipient. Default: anvil dev account 2. */
  readonly payTo?: Address;
  /** Recipient of the cheaper `/two-offers` offer. Default: anvil dev account 3. */
  readonly secondPayTo?: Address;
  /** Private key that settles (pays gas). Default: anvil dev account 1 (public test key). */
  readonly facilitatorPrivateKey?: Hex;
}

/** One HTTP request the x402 test server received. */
export interface X402RequestRecord {
  readonly method: string;
  readonly path: string;
  /** True when it carried `PAYMENT-SIGNATURE` or `X-PAYMENT`. */
  readonly paid: boolean;
}

/** A running x402 test server. */
export interface X402ServerHandle {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`; append a path. */
  readonly url: string;
  /** Same as `url` (scheme, host and port). */
  readonly origin: string;
  readonly port: number;
  /** Protocol version served. */
  readonly version: 1 | 2;
  /** Network as the served version names it: `eip155:31337`, or `base-sepolia` for v1. */
  readonly network: string;
  readonly chain: LocalChain;
  readonly token: TokenInfo;
  /** Default recipient. */
  readonly payTo: Address;
  /** Recipient of the cheaper `/two-offers` offer. */
  readonly secondPayTo: Address;
  /** The in-process reference facilitator and its records. */
  readonly facilitator: LocalFacilitator;
  /** Every successful settlement (same array as `facilitator.settlements`). */
  readonly settlements: readonly SettlementRecord[];
  /** Every refused payment (same array as `facilitator.rejections`). */
  readonly rejections: readonly RejectionRecord[];
  /**
   * Every HTTP request the server received, in order (round trips counted at the server):
   * method, path and whether it carried a payment (`PAYMENT-SIGNATURE` or `X-PAYMENT`).
   */
  readonly requests: readonly X402RequestRecord[];
  readonly routes: readonly X402Route[];
  /** The Hono app (also usable in-process via `app.fetch`). */
  readonly app: Hono;
  /** Stops the HTTP server (and the chain, if this server started it). */
  close(): Promise<void>;
}

function toRoutesConfig(
  routes: readonly X402Route[],
  token: TokenInfo,
  payTo: Address,
): RoutesConfig {
  const config: Record<string, RouteConfig> = {};
  for (const route of routes) {
    const offers = route.accepts ?? [];
    if (offers.length === 0) continue;
    config[`${route.method} ${route.path}`] = {
      description: route.description,
      mimeType: route.mimeType,
      accepts: offers.map((offer) => ({
        scheme: 'exact',
        network: token.network,
        payTo: offer.payTo ?? payTo,
        maxTimeoutSeconds: offer.maxTimeoutSeconds,
        // An explicit asset amount: the local token is not in the default-asset table.
        price: {
          amount: offer.amount.toString(),
          asset: offer.asset ?? token.address,
          extra: { ...(offer.extra ?? { name: token.name, version: token.version }) },
        },
      })),
    };
  }
  return config;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts an x402 resource server on 127.0.0.1 (free port) that takes REAL payments on the
 * local chain. v2 (default) is the official stack end to end: Hono + `@x402/hono`
 * `paymentMiddleware` + `x402ResourceServer` with the `@x402/evm` exact server scheme,
 * backed by an in-process `x402Facilitator` (`@x402/evm` exact facilitator scheme) that
 * submits `transferWithAuthorization` from a dev key. v1 uses the testkit's own v1 HTTP layer
 * over the same facilitator's v1 path (see {@link x402V1Middleware}). Prices are explicit
 * `{ amount, asset, extra: { name, version } }` (the local token is in no default table); the
 * network `eip155:<chainId>` is registered with both server and facilitator.
 *
 * Clients: `@x402/fetch` refuses unknown assets by default — allow the token with
 * `client.setSpendControls({ allowedAssets: [{ network, asset: token.address }] })`.
 *
 * @example
 * ```ts
 * import { startX402Server } from '@stipend/testkit/x402';
 * const server = await startX402Server();
 * const res = await fetch(`${server.url}/weather`); // 402 + PAYMENT-REQUIRED
 * // … pay, then: server.settlements[0] → { transaction, payer, amount: 1000n, … }
 * await server.close();
 * ```
 */
export async function startX402Server(options: X402ServerOptions = {}): Promise<X402ServerHandle> {
  const version = options.version ?? 2;
  if (version !== 1 && version !== 2) {
    throw new Error(`x402 version ${String(version)} is not served: use 1 or 2`);
  }
  const ownChain = !options.chain;
  const chain = options.chain ?? (await startChain({ chainId: version === 1 ? 84532 : 31337 }));
  try {
    const payTo = options.payTo ?? (DEV_ACCOUNTS[2]?.address as Address);
    const secondPayTo = options.secondPayTo ?? (DEV_ACCOUNTS[3]?.address as Address);
    const routes = [
      ...(options.routes ?? defaultX402Routes({ payTo, secondPayTo })),
      ...(options.extraRoutes ?? []),
    ];
    const facilitator = createLocalFacilitator({
      chain,
      privateKey: options.facilitatorPrivateKey,
    });

    const app = new Hono();
    let network: string;
    if (version === 2) {
      network = chain.network;
      const resourceServer = new x402ResourceServer(facilitator.client).register(
        chain.network,
        new ExactEvmServerScheme(),
      );
      const httpServer = new x402HTTPResourceServer(
        resourceServer,
        toRoutesConfig(routes, chain.token, payTo),
      );
      // Fetch /supported and validate the routes now, so a misconfiguration fails here.
      await httpServer.initialize();
      app.use(paymentMiddlewareFromHTTPServer(httpServer, undefined, undefined, false));
    } else {
      if (!facilitator.v1Network) {
        throw new Error(
          `x402 v1 names networks (base-sepolia, base, …) and has no name for chain id ` +
            `${chain.chainId}: start the chain with startChain({ chainId: 84532 }) ` +
            '(it poses as base-sepolia; nothing leaves the machine) or omit `chain`.',
        );
      }
      network = facilitator.v1Network;
      app.use(
        x402V1Middleware({
          routes,
          network,
          token: chain.token,
          payTo,
          facilitator: facilitator.client,
        }),
      );
    }
    for (const route of routes) app.on(route.method, route.path, route.handler);

    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const requests: X402RequestRecord[] = [];
    server.on('request', (request) => {
      const headers = request.headers;
      requests.push({
        method: request.method ?? 'GET',
        path: (request.url ?? '/').split('?')[0] ?? '/',
        paid: headers['payment-signature'] !== undefined || headers['x-payment'] !== undefined,
      });
    });
    const port = await listen(server);
    const url = `http://127.0.0.1:${port}`;

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownChain) await chain.stop();
      })();
      return closing;
    };

    return {
      url,
      origin: url,
      port,
      version,
      network,
      chain,
      token: chain.token,
      payTo,
      secondPayTo,
      facilitator,
      settlements: facilitator.settlements,
      rejections: facilitator.rejections,
      requests,
      routes,
      app,
      close,
    };
  } catch (error) {
    if (ownChain) await chain.stop();
    throw error;
  }
}
