/**
 * Turning wallet settings into what `createPayingFetch` takes: wallets, the three protocol
 * adapters configured with the extra tokens, and the price sources.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  type CredentialStore,
  chainPriceSources,
  fixedPriceSource,
  type KnownToken,
  l402Adapter,
  mppAdapter,
  type PriceSource,
  type ProtocolAdapter,
  pegPriceSource,
  type Wallet,
  x402Adapter,
} from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import {
  type LightningBackend,
  lightningWallet,
  lndRestBackend,
  nwcBackend,
} from '@stipend/wallet-lightning';
import { stripeWallet } from '@stipend/wallet-stripe';
import { Agent, fetch as undiciFetch } from 'undici';
import { createPublicClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { CliError } from '../io.js';
import type { WalletSettings } from './settings.js';
import { stripeApi } from './stripe-api.js';

/** What a paying fetch needs from the settings. */
export interface PayingParts {
  readonly wallets: Wallet[];
  readonly adapters: ProtocolAdapter[];
  readonly prices: PriceSource;
  /** One line per wallet, for people: `EVM 0xf39F…2266 (chain reads: http://…)`. */
  readonly described: string[];
}

/** Options of {@link buildPayingParts}. */
export interface BuildOptions {
  /** The fetch wallets use for their own HTTP calls (LND REST, Stripe, chain reads). */
  readonly fetch: typeof fetch;
  /** Where paid L402 credentials are kept between runs. Default: in memory. */
  readonly credentials?: CredentialStore;
  /** A Lightning backend to use instead of the settings' (the demo's simulator). */
  readonly lightningBackend?: LightningBackend;
  /** Deadline of one chain read (the RPC URL), ms (`--timeout`). Default: viem's (10 s). */
  readonly timeoutMs?: number;
}

/**
 * Builds wallets, adapters and prices from settings. Only configured wallets are built.
 *
 * @throws {CliError} when a setting cannot be used (an unreadable TLS certificate…).
 * @example
 * ```ts
 * import { buildPayingParts } from './build.js';
 * const { wallets, adapters, prices } = buildPayingParts(settings, { fetch });
 * ```
 */
export function buildPayingParts(settings: WalletSettings, options: BuildOptions): PayingParts {
  const wallets: Wallet[] = [];
  const described: string[] = [];

  if (settings.evm) {
    const account = privateKeyToAccount(settings.evm.privateKey);
    const rpcUrl = settings.evm.rpcUrl;
    const publicClient = rpcUrl
      ? createPublicClient({
          transport: http(rpcUrl, {
            fetchFn: options.fetch,
            ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
          }),
        })
      : undefined;
    wallets.push(
      evmWallet({
        account,
        ...(publicClient ? { publicClient } : {}),
        domains: settings.assets
          .filter((asset) => asset.name !== undefined && asset.version !== undefined)
          .map((asset) => ({
            network: asset.network,
            address: asset.address,
            name: asset.name!,
            version: asset.version!,
          })),
      }),
    );
    described.push(`EVM ${account.address}${rpcUrl ? ` (chain reads: ${rpcUrl})` : ''}`);
  }

  const lightning = settings.lightning;
  if (options.lightningBackend || lightning) {
    let backend = options.lightningBackend;
    if (!backend && lightning?.lndRest) {
      const rest = lightning.lndRest;
      backend = lndRestBackend({
        url: rest.url,
        macaroon: rest.macaroon,
        fetch: rest.cert ? fetchTrusting(rest.cert) : options.fetch,
      });
    } else if (!backend && lightning?.nwc) {
      backend = nwcBackend({ url: lightning.nwc.url });
    }
    if (backend) {
      const network = lightning?.network ?? 'regtest';
      wallets.push(lightningWallet({ backend, network }));
      described.push(`Lightning on ${network} via ${backend.name}`);
    }
  }

  if (settings.stripe) {
    const { secretKey, paymentMethod, apiUrl } = settings.stripe;
    wallets.push(
      stripeWallet({
        stripe: stripeApi({ secretKey, fetch: options.fetch, ...(apiUrl ? { apiUrl } : {}) }),
        paymentMethod,
      }),
    );
    described.push(`Stripe ${paymentMethod}${apiUrl ? ` (API: ${apiUrl})` : ''}`);
  }

  const adapters: ProtocolAdapter[] = [
    x402Adapter({ assets: settings.assets }),
    l402Adapter(options.credentials ? { credentials: options.credentials } : {}),
    mppAdapter({ tokens: tokensOf(settings) }),
  ];
  const prices = pricesOf(settings);
  return { wallets, adapters, prices, described };
}

/**
 * The settings' extra assets as the MPP adapter (and `discover`) take them: by
 * `eip155:<chainId>/<address>`.
 *
 * @example
 * ```ts
 * import { tokensOf } from './build.js';
 * tokensOf(settings); // { 'eip155:10/0x…': { symbol: 'USDC', decimals: 6, peg: 'USD' } }
 * ```
 */
export function tokensOf(settings: Pick<WalletSettings, 'assets'>): Record<string, KnownToken> {
  const tokens: Record<string, KnownToken> = {};
  for (const asset of settings.assets) {
    tokens[`${asset.network}/${asset.address}`] = {
      symbol: asset.symbol,
      decimals: asset.decimals,
      ...(asset.peg !== undefined ? { peg: asset.peg } : {}),
    };
  }
  return tokens;
}

/**
 * The price source the settings describe: USD-pegged assets at par, and Bitcoin at the
 * configured `btcUsd` (`STIPEND_BTC_USD`) when one is set.
 *
 * @example
 * ```ts
 * import { pricesOf } from './build.js';
 * const prices = pricesOf({ prices: { btcUsd: '97000' } });
 * ```
 */
export function pricesOf(settings: Pick<WalletSettings, 'prices'>): PriceSource {
  return settings.prices.btcUsd
    ? chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: settings.prices.btcUsd }))
    : pegPriceSource();
}

/** A fetch that trusts one TLS certificate (LND's self-signed `tls.cert`), from a file. */
function fetchTrusting(certPath: string): typeof fetch {
  let ca: string;
  try {
    ca = readFileSync(certPath, 'utf8');
  } catch (error) {
    throw new CliError(
      `Cannot read the LND TLS certificate ${certPath} (STIPEND_LND_TLS_CERT): ${(error as Error).message}`,
    );
  }
  const dispatcher = new Agent({ connect: { ca } });
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    undiciFetch(input as never, {
      ...(init as object),
      dispatcher,
    }) as unknown as Promise<Response>) as typeof fetch;
}
