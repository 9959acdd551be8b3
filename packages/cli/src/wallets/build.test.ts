import { msat, toUsdMicros } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { buildPayingParts } from './build.js';

const KEY = `0x${'22'.repeat(32)}` as const;

describe('buildPayingParts', () => {
  it('builds only the configured wallets, the three adapters and the price sources', async () => {
    const none = buildPayingParts(
      { assets: [], prices: {}, sources: [], file: 'w.json' },
      { fetch },
    );
    expect(none.wallets).toEqual([]);
    expect(none.adapters.map((a) => a.protocol)).toEqual(['x402', 'l402', 'mpp']);
    await expect(
      toUsdMicros(msat(1000n), none.prices, { now: Date.now(), maxAgeMs: 1000 }),
    ).rejects.toThrow();

    const all = buildPayingParts(
      {
        evm: { privateKey: KEY, rpcUrl: 'http://127.0.0.1:1' },
        lightning: { network: 'regtest', lndRest: { url: 'http://127.0.0.1:2', macaroon: 'ab' } },
        stripe: { secretKey: 'sk_1', paymentMethod: 'pm_card_visa', apiUrl: 'http://127.0.0.1:3' },
        assets: [],
        prices: { btcUsd: '100000' },
        sources: [],
        file: 'w.json',
      },
      { fetch },
    );
    expect(all.wallets.map((w) => w.id)).toEqual([
      'evm:0x1563915e194D8CfBA1943570603F7606A3115508',
      'lightning-lnd-rest',
      'stripe',
    ]);
    expect(all.described).toEqual([
      'EVM 0x1563915e194D8CfBA1943570603F7606A3115508 (chain reads: http://127.0.0.1:1)',
      'Lightning on regtest via lnd-rest',
      'Stripe pm_card_visa (API: http://127.0.0.1:3)',
    ]);
    // $100,000 per BTC: 1 sat = $0.001.
    const priced = await toUsdMicros(msat(1000n), all.prices, { now: Date.now(), maxAgeMs: 1000 });
    expect(priced.usdMicros).toBe(1000n);
  });

  it('says which certificate file it cannot read', () => {
    expect(() =>
      buildPayingParts(
        {
          lightning: {
            network: 'mainnet',
            lndRest: { url: 'https://n:8080', macaroon: 'ab', cert: '/nope/tls.cert' },
          },
          assets: [],
          prices: {},
          sources: [],
          file: 'w.json',
        },
        { fetch },
      ),
    ).toThrow(/Cannot read the LND TLS certificate \/nope\/tls\.cert \(STIPEND_LND_TLS_CERT\)/);
  });
});
