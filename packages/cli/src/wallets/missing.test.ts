import type { OfferSummary, Wallet } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { btcPriceHint, missingWalletHints, unknownAssetHint, walletKindFor } from './missing.js';

const offer = (
  protocol: 'x402' | 'l402' | 'mpp',
  scheme: string,
  network?: string,
): OfferSummary => ({
  id: `${protocol}:${scheme}`,
  protocol,
  scheme,
  amount: { value: 1n, unit: { kind: 'msat' } },
  payee: 'p',
  origin: 'https://a.example',
  ...(network ? { network } : {}),
});
const wallet = (rails: string[]): Wallet => ({
  id: 'w',
  rails,
  canPay: () => true,
  pay: () => Promise.reject(new Error('not used')),
});

describe('walletKindFor', () => {
  it('maps rails to the wallet kinds the command configures', () => {
    expect(walletKindFor('x402', 'upto')).toBe('evm');
    expect(walletKindFor('mpp', 'evm.charge')).toBe('evm');
    expect(walletKindFor('l402', 'bolt11')).toBe('lightning');
    expect(walletKindFor('mpp', 'lightning.charge')).toBe('lightning');
    expect(walletKindFor('mpp', 'stripe.charge')).toBe('stripe');
    expect(walletKindFor('mpp', 'tempo.charge')).toBeUndefined();
  });
});

describe('missingWalletHints', () => {
  it('names the variable to set for each rail no wallet serves, once', () => {
    const hints = missingWalletHints(
      [
        offer('x402', 'exact', 'eip155:8453'),
        offer('x402', 'exact', 'eip155:8453'),
        offer('mpp', 'stripe.charge'),
        offer('mpp', 'tempo.charge', 'eip155:4217'),
        offer('l402', 'bolt11'),
      ],
      [wallet(['l402:bolt11'])],
      '/home/me/.config/stipend/wallets.json',
    );
    expect(hints).toEqual([
      'this 402 offers x402 (exact) on eip155:8453 but no EVM wallet is configured: set STIPEND_EVM_PRIVATE_KEY (and STIPEND_EVM_RPC_URL for balance checks), or add "evm": {"privateKey": "0x…", "rpcUrl": "…"} to /home/me/.config/stipend/wallets.json',
      'this 402 offers mpp (stripe.charge) but no Stripe wallet is configured: set STIPEND_STRIPE_SECRET_KEY and STIPEND_STRIPE_PAYMENT_METHOD (pm_…), or add "stripe": {"secretKey": "sk_…", "paymentMethod": "pm_…"} to /home/me/.config/stipend/wallets.json',
      'this 402 offers mpp (tempo.charge) on eip155:4217, which the stipend command has no wallet for',
    ]);
  });
});

describe('hints for unpriced and unknown tokens', () => {
  it('point at the settings', () => {
    expect(unknownAssetHint('asset 0x1 on eip155:1 is not a known asset', 'w.json')).toMatch(
      /^to accept that token, add it to "assets" in w\.json \(or STIPEND_ASSETS\)/,
    );
    expect(unknownAssetHint('something else', 'w.json')).toBeUndefined();
    expect(btcPriceHint(['price_unavailable'], ['lightning:msat'], 'w.json')).toMatch(
      /set STIPEND_BTC_USD/,
    );
    expect(btcPriceHint(['price_unavailable'], ['eip155:1/0x1'], 'w.json')).toBeUndefined();
  });
});
