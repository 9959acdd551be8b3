/**
 * Wallet settings for the `stipend` command: read from a JSON file and from `STIPEND_*`
 * environment variables (which win), checked up front with messages that say what to fix.
 *
 * File format (`~/.config/stipend/wallets.json`, or `--wallets <file>`), every part optional:
 *
 * ```json
 * {
 *   "evm": { "privateKey": "0x…", "rpcUrl": "https://…" },
 *   "lightning": { "network": "mainnet", "lndRest": { "url": "https://…:8080", "macaroon": "…", "cert": "/path/tls.cert" } },
 *   "lightning": { "network": "mainnet", "nwc": { "url": "nostr+walletconnect://…" } },
 *   "stripe": { "secretKey": "sk_…", "paymentMethod": "pm_…", "apiUrl": "https://api.stripe.com" },
 *   "assets": [{ "network": "eip155:10", "address": "0x…", "symbol": "USDC", "decimals": 6, "name": "USD Coin", "version": "2", "peg": "USD" }],
 *   "prices": { "btcUsd": "100000" }
 * }
 * ```
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import type { KnownAsset } from '@stipend/client';
import { CliError } from '../io.js';

/** Lightning networks a wallet can be on. */
export type LightningNetworkName = 'mainnet' | 'testnet' | 'signet' | 'regtest';

/** Checked wallet settings. */
export interface WalletSettings {
  readonly evm?: { readonly privateKey: `0x${string}`; readonly rpcUrl?: string };
  readonly lightning?: {
    readonly network: LightningNetworkName;
    readonly lndRest?: { readonly url: string; readonly macaroon: string; readonly cert?: string };
    readonly nwc?: { readonly url: string };
  };
  readonly stripe?: {
    readonly secretKey: string;
    readonly paymentMethod: string;
    readonly apiUrl?: string;
  };
  /** Tokens accepted beyond the built-in list (x402 known assets; MPP tokens). */
  readonly assets: readonly KnownAsset[];
  /** Fixed prices for units that are not USD-pegged. */
  readonly prices: { readonly btcUsd?: string };
  /** Where the settings came from, for messages: file paths and `environment`. */
  readonly sources: readonly string[];
  /** The file that was read or would be read (for "add … to <file>" hints). */
  readonly file: string;
}

/** Where to read settings from. */
export interface SettingsSource {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `--wallets <file>`: must exist. */
  readonly explicitFile?: string;
  /** The default file: read when it exists. */
  readonly defaultFile: string;
}

type Json = Record<string, unknown>;

const NETWORKS: readonly LightningNetworkName[] = ['mainnet', 'testnet', 'signet', 'regtest'];

/**
 * Reads wallet settings from the file (explicit, or the default when it exists) and the
 * environment. Environment variables override the file, part by part:
 * `STIPEND_EVM_PRIVATE_KEY`, `STIPEND_EVM_RPC_URL`; `STIPEND_LND_REST_URL` +
 * `STIPEND_LND_MACAROON` (+ `STIPEND_LND_TLS_CERT`), or `STIPEND_NWC_URL`, with
 * `STIPEND_LIGHTNING_NETWORK` (default `mainnet`); `STIPEND_STRIPE_SECRET_KEY` +
 * `STIPEND_STRIPE_PAYMENT_METHOD` (+ `STIPEND_STRIPE_API_URL`); `STIPEND_ASSETS` (JSON array);
 * `STIPEND_BTC_USD`.
 *
 * @throws {CliError} naming the file or variable to fix.
 * @example
 * ```ts
 * import { loadWalletSettings } from './settings.js';
 * const settings = loadWalletSettings({ env: process.env, defaultFile: '/home/me/.config/stipend/wallets.json' });
 * ```
 */
export function loadWalletSettings(source: SettingsSource): WalletSettings {
  const file = source.explicitFile ?? source.defaultFile;
  const sources: string[] = [];
  let json: Json = {};
  if (source.explicitFile !== undefined || existsSync(file)) {
    json = readJsonFile(file);
    sources.push(file);
  }
  const env = source.env;
  const where = (field: string) => `${file}: ${field}`;

  // EVM
  let evm: WalletSettings['evm'];
  const evmJson = objectAt(json, 'evm', where);
  const evmKey = env.STIPEND_EVM_PRIVATE_KEY ?? stringAt(evmJson, 'privateKey', where, 'evm.');
  const evmRpc = env.STIPEND_EVM_RPC_URL ?? stringAt(evmJson, 'rpcUrl', where, 'evm.');
  if (evmKey !== undefined) {
    const label =
      env.STIPEND_EVM_PRIVATE_KEY !== undefined
        ? 'STIPEND_EVM_PRIVATE_KEY'
        : where('evm.privateKey');
    const key = evmKey.startsWith('0x') ? evmKey : `0x${evmKey}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
      throw new CliError(`${label} must be a private key: 0x followed by 64 hex digits`);
    }
    evm = {
      privateKey: key as `0x${string}`,
      ...(evmRpc
        ? {
            rpcUrl: checkUrl(
              evmRpc,
              env.STIPEND_EVM_RPC_URL !== undefined ? 'STIPEND_EVM_RPC_URL' : where('evm.rpcUrl'),
            ),
          }
        : {}),
    };
  } else if (env.STIPEND_EVM_RPC_URL !== undefined) {
    throw new CliError(
      'STIPEND_EVM_RPC_URL is set but no EVM key is: set STIPEND_EVM_PRIVATE_KEY too',
    );
  }

  // Lightning
  let lightning: WalletSettings['lightning'];
  const lnJson = objectAt(json, 'lightning', where);
  const restJson = lnJson ? objectAt(lnJson, 'lndRest', where, 'lightning.') : undefined;
  const nwcJson = lnJson ? objectAt(lnJson, 'nwc', where, 'lightning.') : undefined;
  const restUrl =
    env.STIPEND_LND_REST_URL ?? stringAt(restJson, 'url', where, 'lightning.lndRest.');
  const macaroon =
    env.STIPEND_LND_MACAROON ?? stringAt(restJson, 'macaroon', where, 'lightning.lndRest.');
  const cert = env.STIPEND_LND_TLS_CERT ?? stringAt(restJson, 'cert', where, 'lightning.lndRest.');
  const nwcUrl = env.STIPEND_NWC_URL ?? stringAt(nwcJson, 'url', where, 'lightning.nwc.');
  const networkText =
    env.STIPEND_LIGHTNING_NETWORK ?? stringAt(lnJson, 'network', where, 'lightning.') ?? 'mainnet';
  if (restUrl !== undefined || macaroon !== undefined || nwcUrl !== undefined) {
    if (!NETWORKS.includes(networkText as LightningNetworkName)) {
      throw new CliError(
        `Lightning network "${networkText}" is unknown: set STIPEND_LIGHTNING_NETWORK (or lightning.network in ${file}) to one of ${NETWORKS.join(', ')}`,
      );
    }
    const network = networkText as LightningNetworkName;
    if (restUrl !== undefined || macaroon !== undefined) {
      if (restUrl === undefined) {
        throw new CliError(
          'An LND macaroon is set but no LND REST address: set STIPEND_LND_REST_URL (e.g. https://127.0.0.1:8080)',
        );
      }
      if (macaroon === undefined) {
        throw new CliError(
          'STIPEND_LND_REST_URL is set but no macaroon: set STIPEND_LND_MACAROON to a pay-only macaroon (hex or base64)',
        );
      }
      lightning = {
        network,
        lndRest: {
          url: checkUrl(restUrl, 'STIPEND_LND_REST_URL'),
          macaroon,
          ...(cert !== undefined ? { cert } : {}),
        },
      };
    } else if (nwcUrl !== undefined) {
      if (!nwcUrl.startsWith('nostr+walletconnect://')) {
        throw new CliError(
          'STIPEND_NWC_URL must be a Nostr Wallet Connect URL (nostr+walletconnect://…)',
        );
      }
      lightning = { network, nwc: { url: nwcUrl } };
    }
  }

  // Stripe
  let stripe: WalletSettings['stripe'];
  const stripeJson = objectAt(json, 'stripe', where);
  const secretKey =
    env.STIPEND_STRIPE_SECRET_KEY ?? stringAt(stripeJson, 'secretKey', where, 'stripe.');
  const paymentMethod =
    env.STIPEND_STRIPE_PAYMENT_METHOD ?? stringAt(stripeJson, 'paymentMethod', where, 'stripe.');
  const apiUrl = env.STIPEND_STRIPE_API_URL ?? stringAt(stripeJson, 'apiUrl', where, 'stripe.');
  if (secretKey !== undefined || paymentMethod !== undefined) {
    if (secretKey === undefined) {
      throw new CliError(
        'A Stripe payment method is set but no secret key: set STIPEND_STRIPE_SECRET_KEY (sk_…)',
      );
    }
    if (paymentMethod === undefined) {
      throw new CliError(
        'STIPEND_STRIPE_SECRET_KEY is set but no payment method: set STIPEND_STRIPE_PAYMENT_METHOD to the pm_… your Shared Payment Tokens wrap',
      );
    }
    if (!/^pm_\w+$/.test(paymentMethod)) {
      throw new CliError(
        `The Stripe payment method "${paymentMethod}" is not a PaymentMethod id (pm_…)`,
      );
    }
    stripe = {
      secretKey,
      paymentMethod,
      ...(apiUrl !== undefined ? { apiUrl: checkUrl(apiUrl, 'STIPEND_STRIPE_API_URL') } : {}),
    };
  }

  // Assets and prices
  const assetsValue =
    env.STIPEND_ASSETS !== undefined
      ? parseJsonText(env.STIPEND_ASSETS, 'STIPEND_ASSETS')
      : json.assets;
  const assets = checkAssets(
    assetsValue,
    env.STIPEND_ASSETS !== undefined ? 'STIPEND_ASSETS' : where('assets'),
  );
  const pricesJson = objectAt(json, 'prices', where);
  const btcUsd = env.STIPEND_BTC_USD ?? stringAt(pricesJson, 'btcUsd', where, 'prices.');
  if (btcUsd !== undefined && !/^\d+(\.\d+)?$/.test(btcUsd)) {
    throw new CliError(
      `The BTC price "${btcUsd}" must be a decimal number of dollars such as 97000 (STIPEND_BTC_USD or prices.btcUsd)`,
    );
  }

  const fromEnv = Object.keys(env).some(
    (name) => name.startsWith('STIPEND_') && env[name] !== undefined && WALLET_VARIABLES.has(name),
  );
  if (fromEnv) sources.push('environment');
  return {
    ...(evm ? { evm } : {}),
    ...(lightning ? { lightning } : {}),
    ...(stripe ? { stripe } : {}),
    assets,
    prices: btcUsd !== undefined ? { btcUsd } : {},
    sources,
    file,
  };
}

/** The environment variables {@link loadWalletSettings} reads. */
export const WALLET_VARIABLES: ReadonlySet<string> = new Set([
  'STIPEND_EVM_PRIVATE_KEY',
  'STIPEND_EVM_RPC_URL',
  'STIPEND_LIGHTNING_NETWORK',
  'STIPEND_LND_REST_URL',
  'STIPEND_LND_MACAROON',
  'STIPEND_LND_TLS_CERT',
  'STIPEND_NWC_URL',
  'STIPEND_STRIPE_SECRET_KEY',
  'STIPEND_STRIPE_PAYMENT_METHOD',
  'STIPEND_STRIPE_API_URL',
  'STIPEND_ASSETS',
  'STIPEND_BTC_USD',
]);

function readJsonFile(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the wallets file ${path}: ${(error as Error).message}`);
  }
  const value = parseJsonText(text, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${path} must hold a JSON object such as {"evm": {"privateKey": "0x…"}}`);
  }
  return value as Json;
}

function parseJsonText(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
}

function objectAt(
  json: Json | undefined,
  key: string,
  where: (field: string) => string,
  prefix = '',
): Json | undefined {
  const value = json?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${where(prefix + key)} must be an object`);
  }
  return value as Json;
}

function stringAt(
  json: Json | undefined,
  key: string,
  where: (field: string) => string,
  prefix = '',
): string | undefined {
  const value = json?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new CliError(`${where(prefix + key)} must be a non-empty string`);
  }
  return value;
}

function checkUrl(text: string, label: string): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return text;
  } catch {
    throw new CliError(`${label} must be an http(s) URL, not "${text}"`);
  }
}

function checkAssets(value: unknown, label: string): KnownAsset[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new CliError(`${label} must be a JSON array of tokens`);
  return value.map((entry, i) => {
    const asset = entry as Record<string, unknown> | null;
    const at = `${label}[${i}]`;
    if (typeof asset !== 'object' || asset === null) throw new CliError(`${at} must be an object`);
    for (const field of ['network', 'address', 'symbol'] as const) {
      if (typeof asset[field] !== 'string' || asset[field] === '') {
        throw new CliError(`${at}.${field} must be a non-empty string`);
      }
    }
    if (
      !Number.isInteger(asset.decimals) ||
      (asset.decimals as number) < 0 ||
      (asset.decimals as number) > 36
    ) {
      throw new CliError(`${at}.decimals must be a whole number of decimals such as 6`);
    }
    for (const field of ['name', 'version', 'peg'] as const) {
      if (asset[field] !== undefined && typeof asset[field] !== 'string') {
        throw new CliError(`${at}.${field} must be a string`);
      }
    }
    return asset as unknown as KnownAsset;
  });
}
