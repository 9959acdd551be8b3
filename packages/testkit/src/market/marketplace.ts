/**
 * `startMarketplace`: every testkit seller at once, on one real local chain, with funded
 * wallets for an agent — the embedded default that `pnpm demo` and `stipend testkit serve` run.
 *
 * @module
 */
import type { Address } from 'viem';
import { type LocalChain, startChain } from '../chain/chain.js';
import { DEV_ACCOUNTS, type DevAccount } from '../chain/dev-accounts.js';
import { DEFAULT_L402_ROUTES } from '../l402/routes.js';
import { type L402Server, startL402Server } from '../l402/server.js';
import { type LndRestStandIn, startLndRestStandIn } from '../lightning/lnd-rest-stand-in.js';
import {
  createLightningNetwork,
  type LightningNetwork,
  type LightningNode,
} from '../lightning/simulator.js';
import { type MppServer, startMppServer } from '../mpp/mpp-server.js';
import { type StripeStandIn, startStripeStandIn } from '../stripe/spt-server.js';
import { startX402Server, type X402ServerHandle } from '../x402/server.js';
import {
  ARTICLE_SELLER_PROFILE,
  DATASET_PRICE_MSAT,
  FORECAST_L402_PRICE_MSAT,
  FORECAST_X402_PRICE,
  forecastX402Route,
  MARKET_BTC_USD,
  MARKET_L402_ROUTES,
  type MarketItem,
} from './catalogue.js';
import { type Gateway, startGateway } from './gateway.js';
import { type MarketWalletsConfig, walletsEnv } from './wallets.js';

/** Options of {@link startMarketplace}. */
export interface StartMarketplaceOptions {
  /** Test USDC minted to the agent, atomic units (6 decimals). Default 10 USDC. */
  readonly agentFunds?: bigint;
  /** Anvil dev account (0–9) the agent pays from. Default 5. */
  readonly agentAccountIndex?: number;
  /** Called with a short line as each part starts (progress for people). */
  readonly onProgress?: (line: string) => void;
}

/** Counters over everything that could move money, to prove what was (not) paid. */
export interface MarketCounters {
  /** The agent's test-USDC balance, atomic units. */
  readonly agentTokenBalance: bigint;
  /** x402 settlements by the reference facilitator. */
  readonly x402Settlements: number;
  /** MPP payments mppx accepted (stripe and evm). */
  readonly mppPayments: number;
  /** Lightning payments that succeeded in the simulator. */
  readonly lightningPayments: number;
  /** Every `pay` call the simulator received (refused ones too). */
  readonly lightningAttempts: number;
  /** Shared Payment Tokens the Stripe stand-in issued. */
  readonly sptIssued: number;
  /** PaymentIntents the Stripe stand-in recorded. */
  readonly paymentIntents: number;
}

/** A running marketplace. */
export interface Marketplace {
  /** Where everything listens (all on 127.0.0.1). */
  readonly urls: {
    /** The x402 seller (official `@x402/hono` middleware, v2). */
    readonly x402: string;
    /** The L402 seller (aperture-equivalent). */
    readonly l402: string;
    /** The MPP seller (real `mppx` server). */
    readonly mpp: string;
    /** The gateway selling `/bundle/forecast` through x402 and L402 at once. */
    readonly gateway: string;
    /** The anvil JSON-RPC endpoint. */
    readonly rpc: string;
    /** The Stripe API stand-in. */
    readonly stripeApi: string;
    /** The agent's Lightning node over the LND REST protocol (stand-in). */
    readonly lndRest: string;
  };
  /** Every paid route, for people. */
  readonly items: readonly MarketItem[];
  /** Who sells at each origin. */
  readonly sellers: Readonly<Record<string, string>>;
  /** Who is behind each payee id (address, node key, Stripe profile). */
  readonly payees: Readonly<Record<string, string>>;
  /** The agent's wallet settings (public test keys and local stand-ins only). */
  readonly wallets: MarketWalletsConfig;
  /** The same as `STIPEND_*` environment variables. */
  readonly env: Readonly<Record<string, string>>;
  /** The agent's EVM dev account (a PUBLIC anvil key). */
  readonly agent: DevAccount;
  readonly chain: LocalChain;
  readonly x402: X402ServerHandle;
  readonly l402: L402Server;
  readonly mpp: MppServer;
  readonly stripe: StripeStandIn;
  readonly gateway: Gateway;
  readonly lightning: {
    readonly network: LightningNetwork;
    /** The agent's node (the payer). */
    readonly agentNode: LightningNode;
    readonly lndRest: LndRestStandIn;
  };
  /** A snapshot of what has been paid so far. */
  counters(): Promise<MarketCounters>;
  /** Stops every server and the chain (anvil). Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * Starts the whole local marketplace: a real anvil chain with the EIP-3009 test USDC, the
 * official x402 v2 server and facilitator on it, the aperture-equivalent L402 server over the
 * Lightning simulator, the real mppx server with Stripe charges (Stripe API stand-in) and an
 * `evm/charge` route on the same chain, and a gateway selling one route through x402 AND L402
 * at different prices. It funds an agent: test USDC on an anvil dev account, a Lightning node
 * in the simulator (reachable over the LND REST protocol), a Stripe test PaymentMethod.
 * Everything binds to 127.0.0.1 on free ports; `close()` stops all of it, anvil included.
 *
 * @example
 * ```ts
 * import { startMarketplace } from '@stipend/testkit/market';
 * const market = await startMarketplace();
 * console.log(market.items.map((item) => `${item.method} ${item.url} — ${item.terms}`));
 * await market.close();
 * ```
 */
export async function startMarketplace(
  options: StartMarketplaceOptions = {},
): Promise<Marketplace> {
  const progress = options.onProgress ?? (() => {});
  const agentIndex = options.agentAccountIndex ?? 5;
  const agent = DEV_ACCOUNTS[agentIndex];
  if (!agent) throw new Error(`agentAccountIndex ${agentIndex} is out of range: use 0–9`);
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'the marketplace did not stop cleanly');
  };

  try {
    progress('starting a local EVM chain (anvil) with the test USDC token');
    const chain = await startChain();
    stops.push(() => chain.stop());
    await chain.mint(agent.address, options.agentFunds ?? 10_000_000n);

    const weatherCo = DEV_ACCOUNTS[2]!.address;
    const forecastCo = DEV_ACCOUNTS[3]!.address;
    const articleEvmRecipient = DEV_ACCOUNTS[1]!.address;

    progress('starting the x402 seller (official @x402/hono middleware, v2)');
    const x402 = await startX402Server({
      chain,
      payTo: weatherCo,
      secondPayTo: forecastCo,
      extraRoutes: [forecastX402Route(forecastCo)],
    });
    stops.push(() => x402.close());

    progress('starting the L402 seller and the Lightning simulator');
    const network = createLightningNetwork();
    stops.push(() => network.close());
    const sellerNode = network.createNode({ alias: 'quotes-co' });
    const agentNode = network.createNode({ alias: 'agent' });
    const l402 = await startL402Server({
      network,
      node: sellerNode,
      routes: [...DEFAULT_L402_ROUTES, ...MARKET_L402_ROUTES],
    });
    stops.push(() => l402.close());
    const lndRest = await startLndRestStandIn(network, { node: agentNode });
    stops.push(() => lndRest.close());

    progress('starting the MPP seller (mppx) and the Stripe API stand-in');
    const stripe = await startStripeStandIn({ sellerProfile: ARTICLE_SELLER_PROFILE });
    stops.push(() => stripe.close());
    const mpp = await startMppServer({
      networkId: ARTICLE_SELLER_PROFILE,
      paymentIntents: stripe.paymentIntents,
      evm: {
        rpcUrl: chain.rpcUrl,
        tokenAddress: chain.token.address,
        chainId: chain.chainId,
        recipient: articleEvmRecipient,
      },
    });
    stops.push(() => mpp.close());

    const gateway = await startGateway({
      routes: [
        {
          method: 'GET',
          path: '/bundle/forecast',
          sellers: { x402: x402.url, l402: l402.url },
        },
      ],
    });
    stops.push(() => gateway.close());

    const token = chain.token;
    const wallets: MarketWalletsConfig = {
      evm: { privateKey: agent.privateKey, rpcUrl: chain.rpcUrl },
      lightning: {
        network: 'regtest',
        lndRest: { url: lndRest.url, macaroon: lndRest.macaroonHex },
      },
      stripe: { secretKey: stripe.secretKey, paymentMethod: 'pm_card_visa', apiUrl: stripe.url },
      assets: [
        {
          network: token.network,
          address: token.address,
          symbol: 'USDC',
          decimals: token.decimals,
          name: token.name,
          version: token.version,
          peg: 'USD',
        },
      ],
      prices: { btcUsd: MARKET_BTC_USD },
    };
    const sats = (msat: bigint) => `${msat / 1000n} sat`;
    const items: MarketItem[] = [
      item('weather', 'GET', `${x402.url}/weather`, 'Weather Co', 'x402 exact: 0.001 USDC'),
      item('echo-x402', 'POST', `${x402.url}/echo`, 'Weather Co', 'x402 exact: 0.001 USDC'),
      item(
        'two-offers',
        'GET',
        `${x402.url}/two-offers`,
        'Weather Co',
        'x402 exact: 0.005 or 0.002 USDC',
      ),
      item('quote', 'GET', `${l402.url}/quote`, 'Quotes Co', `L402: ${sats(100_000n)}`),
      item('report', 'GET', `${l402.url}/report`, 'Quotes Co', `L402: ${sats(250_000n)}`),
      item(
        'dataset',
        'GET',
        `${l402.url}/dataset`,
        'Quotes Co',
        `L402: ${sats(DATASET_PRICE_MSAT)}`,
      ),
      item('article', 'GET', mpp.urlOf('/article'), 'Daily Article', 'MPP stripe charge: $0.50'),
      item(
        'evm-article',
        'GET',
        mpp.urlOf('/evm/article'),
        'Daily Article',
        'MPP evm charge or x402: 0.01 USDC',
      ),
      item(
        'forecast',
        'GET',
        `${gateway.url}/bundle/forecast`,
        'Forecast Bundle',
        `x402: ${formatUsdc(FORECAST_X402_PRICE)} USDC, or L402: ${sats(FORECAST_L402_PRICE_MSAT)}`,
      ),
    ];

    const counters = async (): Promise<MarketCounters> => ({
      agentTokenBalance: await chain.balanceOf(agent.address as Address),
      x402Settlements: x402.settlements.length,
      mppPayments: mpp.payments.length,
      lightningPayments: network.stats().succeeded,
      lightningAttempts: network.stats().attempts,
      sptIssued: stripe.ledger.list().length,
      paymentIntents: stripe.paymentIntents.paymentIntents.length,
    });

    let closing: Promise<void> | undefined;
    return {
      urls: {
        x402: x402.url,
        l402: l402.url,
        mpp: mpp.url,
        gateway: gateway.url,
        rpc: chain.rpcUrl,
        stripeApi: stripe.url,
        lndRest: lndRest.url,
      },
      items,
      sellers: {
        [x402.url]: 'Weather Co',
        [l402.url]: 'Quotes Co',
        [mpp.url]: 'Daily Article',
        [gateway.url]: 'Forecast Bundle',
      },
      payees: {
        [weatherCo]: 'Weather Co',
        [forecastCo]: 'Forecast Co',
        [articleEvmRecipient]: 'Daily Article',
        [ARTICLE_SELLER_PROFILE]: 'Daily Article',
        [sellerNode.pubkey]: 'Quotes Co',
      },
      wallets,
      env: walletsEnv(wallets),
      agent,
      chain,
      x402,
      l402,
      mpp,
      stripe,
      gateway,
      lightning: { network, agentNode, lndRest },
      counters,
      close: () => {
        closing ??= stopAll();
        return closing;
      },
    };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

function item(
  key: string,
  method: 'GET' | 'POST',
  url: string,
  seller: string,
  terms: string,
): MarketItem {
  return { key, method, url, seller, terms };
}

function formatUsdc(atomic: bigint): string {
  const whole = atomic / 1_000_000n;
  const fraction = (atomic % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}
