import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../io.js';
import { loadWalletSettings } from './settings.js';

const KEY = `0x${'11'.repeat(32)}`;
const dir = mkdtempSync(join(tmpdir(), 'stipend-settings-'));
const missing = join(dir, 'none.json');

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const load = (env: Record<string, string>, explicitFile?: string) =>
  loadWalletSettings({ env, defaultFile: missing, ...(explicitFile ? { explicitFile } : {}) });

describe('loadWalletSettings', () => {
  it('is empty without a file or variables', () => {
    expect(load({})).toEqual({ assets: [], prices: {}, sources: [], file: missing });
  });

  it('reads every wallet from the environment', () => {
    const settings = load({
      STIPEND_EVM_PRIVATE_KEY: KEY.slice(2),
      STIPEND_EVM_RPC_URL: 'http://127.0.0.1:8545',
      STIPEND_LND_REST_URL: 'https://127.0.0.1:8080',
      STIPEND_LND_MACAROON: 'ab01',
      STIPEND_LIGHTNING_NETWORK: 'regtest',
      STIPEND_STRIPE_SECRET_KEY: 'sk_test_1',
      STIPEND_STRIPE_PAYMENT_METHOD: 'pm_card_visa',
      STIPEND_BTC_USD: '97000.5',
      STIPEND_ASSETS:
        '[{"network":"eip155:10","address":"0x0b2C","symbol":"USDC","decimals":6,"peg":"USD"}]',
    });
    expect(settings).toEqual({
      evm: { privateKey: KEY, rpcUrl: 'http://127.0.0.1:8545' },
      lightning: {
        network: 'regtest',
        lndRest: { url: 'https://127.0.0.1:8080', macaroon: 'ab01' },
      },
      stripe: { secretKey: 'sk_test_1', paymentMethod: 'pm_card_visa' },
      assets: [
        { network: 'eip155:10', address: '0x0b2C', symbol: 'USDC', decimals: 6, peg: 'USD' },
      ],
      prices: { btcUsd: '97000.5' },
      sources: ['environment'],
      file: missing,
    });
  });

  it('reads the file, and lets variables override it part by part', () => {
    const path = file('wallets.json', {
      evm: { privateKey: KEY, rpcUrl: 'http://file:8545' },
      lightning: { network: 'signet', nwc: { url: 'nostr+walletconnect://abc?relay=wss://r' } },
      prices: { btcUsd: '100000' },
    });
    const settings = load({ STIPEND_EVM_RPC_URL: 'http://env:8545' }, path);
    expect(settings.evm).toEqual({ privateKey: KEY, rpcUrl: 'http://env:8545' });
    expect(settings.lightning).toEqual({
      network: 'signet',
      nwc: { url: 'nostr+walletconnect://abc?relay=wss://r' },
    });
    expect(settings.prices).toEqual({ btcUsd: '100000' });
    expect(settings.sources).toEqual([path, 'environment']);
    // The default file is read only when it exists.
    expect(loadWalletSettings({ env: {}, defaultFile: path }).evm?.rpcUrl).toBe('http://file:8545');
  });

  it('says exactly what to fix', () => {
    const cases: [Record<string, string>, string | undefined, RegExp][] = [
      [
        { STIPEND_EVM_PRIVATE_KEY: '0x12' },
        undefined,
        /^STIPEND_EVM_PRIVATE_KEY must be a private key/,
      ],
      [{ STIPEND_EVM_RPC_URL: 'http://x' }, undefined, /set STIPEND_EVM_PRIVATE_KEY too/],
      [
        { STIPEND_LND_REST_URL: 'https://n:8080' },
        undefined,
        /no macaroon: set STIPEND_LND_MACAROON/,
      ],
      [{ STIPEND_LND_MACAROON: 'ab' }, undefined, /no LND REST address: set STIPEND_LND_REST_URL/],
      [{ STIPEND_NWC_URL: 'https://x' }, undefined, /must be a Nostr Wallet Connect URL/],
      [
        { STIPEND_NWC_URL: 'nostr+walletconnect://x', STIPEND_LIGHTNING_NETWORK: 'bitcoin' },
        undefined,
        /Lightning network "bitcoin" is unknown: .*mainnet, testnet, signet, regtest/,
      ],
      [
        { STIPEND_STRIPE_SECRET_KEY: 'sk_1' },
        undefined,
        /no payment method: set STIPEND_STRIPE_PAYMENT_METHOD/,
      ],
      [
        { STIPEND_STRIPE_SECRET_KEY: 'sk_1', STIPEND_STRIPE_PAYMENT_METHOD: 'card' },
        undefined,
        /is not a PaymentMethod id/,
      ],
      [{ STIPEND_BTC_USD: '1e5' }, undefined, /must be a decimal number of dollars/],
      [{ STIPEND_ASSETS: '{}' }, undefined, /^STIPEND_ASSETS must be a JSON array/],
      [
        { STIPEND_ASSETS: '[{"network":"n","address":"a","symbol":"s","decimals":1.5}]' },
        undefined,
        /STIPEND_ASSETS\[0\]\.decimals must be a whole number/,
      ],
      [{}, file('bad.json', '{'), /bad\.json is not valid JSON/],
      [{}, file('array.json', []), /array\.json must hold a JSON object/],
      [
        {},
        file('evm.json', { evm: { privateKey: 5 } }),
        /evm\.json: evm\.privateKey must be a non-empty string/,
      ],
      [{}, missing, /^Cannot read the wallets file .*none\.json/],
    ];
    for (const [env, path, message] of cases) {
      let error: unknown;
      try {
        load(env, path);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(CliError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
