import { describe, expect, it } from 'vitest';
import { builtInAsset, checkKnownAsset, createAssetRegistry, KNOWN_ASSETS } from './assets.js';

const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';

describe('known-asset registry (the one home of client-known decimals)', () => {
  it('knows USDC on Base: 6 decimals, pegged to USD, matched case-insensitively', () => {
    expect(builtInAsset('eip155:8453', BASE_USDC.toLowerCase())).toMatchObject({
      symbol: 'USDC',
      decimals: 6,
      peg: 'USD',
    });
    expect(builtInAsset('eip155:1', BASE_USDC)).toBeUndefined();
    expect(KNOWN_ASSETS.every((asset) => Object.isFrozen(asset))).toBe(true);
  });

  it('adds user entries and names a bad field in the words of the option', () => {
    const registry = createAssetRegistry(
      [{ network: 'eip155:31337', address: '0xabc', symbol: 'TST', decimals: 18 }],
      'x402Adapter assets',
    );
    expect(registry.bySymbol('eip155:31337', 'tst')?.decimals).toBe(18);
    expect(() =>
      createAssetRegistry(
        [{ network: 'eip155:1', address: '0xabc', symbol: 'X', decimals: 1.5 }],
        'x402Adapter assets',
      ),
    ).toThrow(/^x402Adapter assets\[0\]\.decimals: must be the token's decimals/);
    expect(() =>
      checkKnownAsset(
        { network: 'eip155:1', address: '0xabc', symbol: 'X', decimals: 6, peg: 'usd' },
        'where',
      ),
    ).toThrow(/^where\.peg: must be an upper-case ISO 4217 code/);
  });
});
