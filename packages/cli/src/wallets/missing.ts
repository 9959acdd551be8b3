/**
 * Saying which wallet a 402 needed and how to configure it, when none could pay.
 *
 * @module
 */
import type { Wallet } from '@stipend/client';

/** What the hints need to know about an offer. */
export interface OfferRail {
  readonly protocol: string;
  readonly scheme: string;
  readonly network?: string;
}

/** The kinds of wallet the command can configure. */
export type WalletKind = 'evm' | 'lightning' | 'stripe';

/**
 * Which wallet kind pays a rail, or `undefined` when the command has none for it.
 *
 * @example
 * ```ts
 * import { walletKindFor } from './missing.js';
 * walletKindFor('mpp', 'stripe.charge'); // 'stripe'
 * ```
 */
export function walletKindFor(protocol: string, scheme: string): WalletKind | undefined {
  if (protocol === 'x402') return 'evm';
  if (protocol === 'l402') return 'lightning';
  if (protocol === 'mpp') {
    if (scheme.startsWith('evm.')) return 'evm';
    if (scheme.startsWith('lightning.')) return 'lightning';
    if (scheme.startsWith('stripe.')) return 'stripe';
  }
  return undefined;
}

const HOW: Record<WalletKind, (file: string) => string> = {
  evm: (file) =>
    `no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY (and STIPEND_EVM_RPC_URL for balance checks), or add "evm": {"privateKey": "0x…", "rpcUrl": "…"} to ${file}`,
  lightning: (file) =>
    `no Lightning wallet is configured: set STIPEND_LND_REST_URL and STIPEND_LND_MACAROON (LND), or STIPEND_NWC_URL (Nostr Wallet Connect), with STIPEND_LIGHTNING_NETWORK; or add "lightning": {…} to ${file}`,
  stripe: (file) =>
    `no Stripe wallet is configured: set STIPEND_STRIPE_SECRET_KEY and STIPEND_STRIPE_PAYMENT_METHOD (pm_…), or add "stripe": {"secretKey": "sk_…", "paymentMethod": "pm_…"} to ${file}`,
};

/**
 * One sentence per offer that no configured wallet could even try, saying what to set; empty
 * when some wallet serves every offer's rail (then the refusal is about something else).
 *
 * @example
 * ```ts
 * import { missingWalletHints } from './missing.js';
 * missingWalletHints(offers, [], '~/.config/stipend/wallets.json');
 * // ['this 402 offers x402 (exact) on eip155:8453 but no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY …']
 * ```
 */
export function missingWalletHints(
  offers: readonly OfferRail[],
  wallets: readonly Wallet[],
  file: string,
): string[] {
  const hints: string[] = [];
  const seen = new Set<string>();
  for (const offer of offers) {
    const rail = `${offer.protocol}:${offer.scheme}`;
    if (wallets.some((wallet) => wallet.rails.includes(rail))) continue;
    const on = offer.network ? ` on ${offer.network}` : '';
    const what = `this 402 offers ${offer.protocol} (${offer.scheme})${on}`;
    if (seen.has(what)) continue;
    seen.add(what);
    const kind = walletKindFor(offer.protocol, offer.scheme);
    hints.push(
      kind
        ? `${what} but ${HOW[kind](file)}`
        : `${what}, which the stipend command has no wallet for`,
    );
  }
  return hints;
}

/** An offer that was not paid, and why. */
export interface RefusedOffer extends OfferRail {
  /** The denial code (`no_wallet`, `asset_not_allowed`, `price_unavailable`, …). */
  readonly code: string;
  readonly reason: string;
  /** The offer's unit key, when it was read (`lightning:msat`). */
  readonly unit?: string;
}

/**
 * What to change so that a refused 402 can be paid, the first thing first: a rail with no
 * wallet at all is said before anything else (adding a token or a price would not make it
 * payable), and alone when no offer has a wallet. Then: the Lightning network, an unknown
 * token, a BTC price. `messages` are further texts to read (the error's, unreadable challenges).
 *
 * @example
 * ```ts
 * import { refusalHints } from './missing.js';
 * refusalHints([{ protocol: 'l402', scheme: 'bolt11', code: 'price_unavailable', reason: '…', unit: 'lightning:msat' }], [], 'wallets.json');
 * // ['this 402 offers l402 (bolt11) but no Lightning wallet is configured: set STIPEND_LND_REST_URL …']
 * ```
 */
export function refusalHints(
  refused: readonly RefusedOffer[],
  wallets: readonly Wallet[],
  file: string,
  messages: readonly string[] = [],
): string[] {
  const walletless = refused.filter(
    (offer) =>
      !wallets.some((wallet) => wallet.rails.includes(`${offer.protocol}:${offer.scheme}`)),
  );
  const hints = missingWalletHints(walletless, wallets, file);
  if (refused.length > 0 && walletless.length === refused.length) return hints;
  const texts = [...refused.map((offer) => offer.reason), ...messages];
  const network = lightningNetworkHint(texts, file);
  if (network) hints.push(network);
  const asset = texts.map((text) => unknownAssetHint(text, file)).find((hint) => hint);
  if (asset) hints.push(asset);
  const price = btcPriceHint(
    refused.map((offer) => offer.code),
    refused.map(
      (offer) => offer.unit ?? (/lightning:msat/.test(offer.reason) ? 'lightning:msat' : ''),
    ),
    file,
  );
  if (price) hints.push(price);
  return hints;
}

/**
 * A hint for an invoice on another Lightning network than the wallet's: which setting to change.
 *
 * @example
 * ```ts
 * import { lightningNetworkHint } from './missing.js';
 * lightningNetworkHint(['the invoice is for regtest but this wallet pays on mainnet'], 'wallets.json');
 * // 'the invoice is for regtest but the Lightning wallet pays on mainnet: set STIPEND_LIGHTNING_NETWORK=regtest …'
 * ```
 */
export function lightningNetworkHint(texts: readonly string[], file: string): string | undefined {
  for (const text of texts) {
    const match = /invoice is for (\w+) but this wallet pays on (\w+)/.exec(text);
    if (!match) continue;
    const [, invoice, wallet] = match;
    return `the invoice is for ${invoice} but the Lightning wallet pays on ${wallet}: if your node is on ${invoice}, set STIPEND_LIGHTNING_NETWORK=${invoice} (or "lightning": {"network": "${invoice}"} in ${file})`;
  }
  return undefined;
}

/**
 * A hint for an offer refused because its token is not a known asset: how to add it in the
 * command's settings (the adapter's own message speaks of `x402Adapter({ assets })`).
 *
 * @example
 * ```ts
 * import { unknownAssetHint } from './missing.js';
 * unknownAssetHint('asset 0xabc on eip155:31337 is not a known asset, …', 'wallets.json');
 * ```
 */
export function unknownAssetHint(message: string, file: string): string | undefined {
  if (!/not a known asset|unknown (token|asset)/i.test(message)) return undefined;
  return `to accept that token, add it to "assets" in ${file} (or STIPEND_ASSETS): [{"network": "eip155:…", "address": "0x…", "symbol": "USDC", "decimals": 6, "name": "…", "version": "…", "peg": "USD"}] — only for a token whose decimals and peg you know`;
}

/**
 * A hint for Lightning offers refused because msat has no price: set a BTC price.
 *
 * @example
 * ```ts
 * import { btcPriceHint } from './missing.js';
 * btcPriceHint(['price_unavailable'], ['lightning:msat'], 'wallets.json');
 * ```
 */
export function btcPriceHint(
  codes: readonly string[],
  units: readonly string[],
  file: string,
): string | undefined {
  const unpriced = codes.some(
    (code, i) => code === 'price_unavailable' && units[i] === 'lightning:msat',
  );
  if (!unpriced) return undefined;
  return `Lightning amounts need a BTC price: set STIPEND_BTC_USD (e.g. 97000) or "prices": {"btcUsd": "97000"} in ${file}`;
}
