/**
 * Runs in Chromium, bundled by `browser.test.ts` from the BUILT packages (`dist/`): the three
 * protocols through one paying fetch, with the wallets a browser app would use:
 *
 * - x402: `evmWallet` with a viem private-key account (bundled);
 * - MPP stripe charge: `stripeWallet({ createToken, retrieveToken, revokeToken })`, delegating
 *   to the page's own server (the secret key never reaches the page);
 * - L402: the built `lndRestBackend` pointed at an LND REST stand-in behind the page's origin,
 *   through a small page wallet (below). `lightningWallet` itself cannot be bundled for
 *   browsers: its `bolt11@1.4.1` dependency needs Node's `buffer`, `stream` and `events`
 *   (see README, "what could not run in the browser").
 *
 * `window.__stipend.run(config)` returns what each call ended with.
 */
import {
  chainPriceSources,
  createPayingFetch,
  fixedPriceSource,
  getPayment,
  isStipendError,
  type KnownAsset,
  l402Adapter,
  mppAdapter,
  type PaymentOffer,
  type Proof,
  pegPriceSource,
  type Wallet,
  WalletError,
  x402Adapter,
} from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import { stripeWallet } from '@stipend/wallet-stripe';
import { privateKeyToAccount } from 'viem/accounts';
// Type-checked against the source; the bundler swaps in the BUILT `dist/lnd-rest.js` (fetch only).
import { lndRestBackend } from '../../packages/wallet-lightning/src/lnd-rest.js';

/** What the test passes to the page. */
export interface PageConfig {
  readonly privateKey: `0x${string}`;
  readonly asset: KnownAsset;
  readonly lndMacaroonHex: string;
  readonly exposingOrigin: string;
  readonly hidingOrigin: string;
}

/** How one call ended, as plain data. */
export interface CallResult {
  readonly status?: number;
  readonly body?: unknown;
  readonly payment?: string;
  readonly record?: string;
  readonly reused?: boolean;
  readonly code?: string;
  readonly error?: string;
}

declare global {
  interface Window {
    __stipend?: { run(config: PageConfig): Promise<Record<string, CallResult>> };
  }
}

/** A Lightning wallet for the page: pays `l402:bolt11` offers through an LND REST backend. */
function lndRestWallet(backend: ReturnType<typeof lndRestBackend>): Wallet {
  return {
    id: 'lnd-rest-page',
    rails: ['l402:bolt11'],
    canPay: (offer) => (offer.amount.unit.kind === 'msat' ? true : 'not a Lightning offer'),
    async pay(offer: PaymentOffer): Promise<Proof> {
      const raw = offer.raw as { invoice: string; paymentHash: string };
      try {
        const paid = await backend.pay({
          invoice: raw.invoice,
          paymentHash: raw.paymentHash,
          amountMsat: offer.amount.value,
          maxFeeMsat: offer.maxFee?.value ?? 0n,
          timeoutMs: 10_000,
        });
        const preimage =
          typeof paid.preimage === 'string'
            ? paid.preimage
            : Array.from(paid.preimage, (b) => b.toString(16).padStart(2, '0')).join('');
        return {
          offerId: offer.id,
          reference: raw.paymentHash,
          settlement: 'final',
          secret: { preimage: preimage.toLowerCase() },
        };
      } catch (error) {
        throw new WalletError({
          walletId: 'lnd-rest-page',
          message: `LND REST did not pay: ${(error as Error).message}`,
          paid: 'unknown',
          reference: raw.paymentHash,
          cause: error,
        });
      }
    },
    async lookup(reference) {
      const found = await backend.lookup(reference);
      return found.status === 'succeeded'
        ? 'paid'
        : found.status === 'failed' || found.status === 'not_found'
          ? 'failed'
          : 'pending';
    },
  };
}

async function run(config: PageConfig): Promise<Record<string, CallResult>> {
  const json = async (path: string, body?: unknown) => {
    const response = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const payingFetch = createPayingFetch({
    adapters: [x402Adapter({ assets: [config.asset] }), l402Adapter(), mppAdapter()],
    // USD stablecoins and USD at par; bitcoin at a fixed test price ($100 000).
    prices: chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '100000' })),
    wallets: [
      evmWallet({ account: privateKeyToAccount(config.privateKey) }),
      stripeWallet({
        createToken: (request) => json('/spt/issue', request),
        retrieveToken: (id) => json(`/spt/${encodeURIComponent(id)}`),
        revokeToken: (id) => json(`/spt/${encodeURIComponent(id)}/revoke`, {}),
      }),
      lndRestWallet(
        lndRestBackend({ url: `${location.origin}/lnd`, macaroon: config.lndMacaroonHex }),
      ),
    ],
    policy: {
      global: {
        maxPerRequest: { usd: '1.00' },
        limits: [{ usd: '5', window: { calendar: 'day' } }],
      },
    },
  });

  const call = async (url: string): Promise<CallResult> => {
    try {
      const response = await payingFetch(url);
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      const payment = getPayment(response);
      return {
        status: response.status,
        body,
        ...(payment ? { payment: payment.status, record: payment.record.status } : {}),
        ...(payment?.error ? { code: payment.error.code } : {}),
      };
    } catch (error) {
      return isStipendError(error)
        ? { code: error.code, error: error.shortMessage }
        : { error: String(error) };
    }
  };

  const results: Record<string, CallResult> = {};
  results.x402 = await call('/weather');
  results.l402 = await call('/quote');
  results.l402Again = await call('/quote');
  results.mpp = await call('/article');
  results.x402CrossOrigin = await call(`${config.exposingOrigin}/weather`);
  results.hiddenX402 = await call(`${config.hidingOrigin}/weather`);
  results.hiddenL402 = await call(`${config.hidingOrigin}/quote`);
  results.hiddenMpp = await call(`${config.hidingOrigin}/article`);
  // Browsers accept far larger headers than Node's fetch (16 KiB): the parsers' own caps apply.
  results.headerBomb = await call('/bomb');
  results.ledger = {
    body: (await payingFetch.ledger.list()).map((r) => `${r.protocol}:${r.status}`),
  };
  return results;
}

window.__stipend = { run };
