import { describe, expect, it } from 'vitest';
import { createAssetRegistry, X402_KNOWN_ASSETS } from './assets.js';
import { BASE_SEPOLIA_USDC, BASE_USDC } from './fixtures.test-helpers.js';

describe('known-asset registry', () => {
  const registry = createAssetRegistry();

  it('knows USDC on Base with the EIP-712 domain the token uses ("USD Coin", "2")', () => {
    expect(registry.byAddress('eip155:8453', BASE_USDC)).toEqual({
      network: 'eip155:8453',
      address: BASE_USDC,
      symbol: 'USDC',
      decimals: 6,
      name: 'USD Coin',
      version: '2',
      peg: 'USD',
    });
  });

  it('knows Base Sepolia USDC as "USDC" (not "USD Coin"), address matched case-insensitively', () => {
    expect(registry.byAddress('eip155:84532', BASE_SEPOLIA_USDC.toLowerCase())?.name).toBe('USDC');
  });

  it('covers the networks x402 lists', () => {
    const networks = X402_KNOWN_ASSETS.map((asset) => asset.network);
    for (const chain of [8453, 84532, 1, 137, 42161, 421614, 43114, 143]) {
      expect(networks).toContain(`eip155:${chain}`);
    }
    expect(X402_KNOWN_ASSETS.every((asset) => asset.decimals === 6 && asset.peg === 'USD')).toBe(
      true,
    );
  });

  it('does not find an asset on another network than its own', () => {
    expect(registry.byAddress('eip155:1', BASE_USDC)).toBeUndefined();
    expect(registry.bySymbol('eip155:10', 'USDC')).toBeUndefined();
  });

  it('finds by symbol, case-insensitively', () => {
    expect(registry.bySymbol('eip155:8453', 'usdc')?.address).toBe(BASE_USDC);
  });

  it('adds user assets, and a user entry replaces a built-in one', () => {
    const custom = createAssetRegistry([
      {
        network: 'eip155:31337',
        address: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        symbol: 'TST',
        decimals: 18,
      },
      {
        network: 'eip155:8453',
        address: BASE_USDC,
        symbol: 'USDC',
        decimals: 6,
        name: 'Other',
        version: '9',
      },
    ]);
    expect(custom.bySymbol('eip155:31337', 'tst')?.decimals).toBe(18);
    expect(custom.byAddress('eip155:8453', BASE_USDC)?.name).toBe('Other');
    expect(custom.byAddress('eip155:8453', BASE_USDC)?.peg).toBeUndefined();
  });

  it('refuses a symbol that names two assets on one network', () => {
    const twice = createAssetRegistry([
      {
        network: 'eip155:8453',
        address: '0x0000000000000000000000000000000000000001',
        symbol: 'USDC',
        decimals: 6,
      },
    ]);
    expect(twice.bySymbol('eip155:8453', 'USDC')).toBeUndefined();
    expect(twice.byAddress('eip155:8453', BASE_USDC)?.symbol).toBe('USDC');
  });

  it.each([
    [{ network: 'base', address: '0x1', symbol: 'X', decimals: 6 }, /assets\[0\]\.network/],
    [{ network: 'eip155:1', address: '0x1', symbol: 'X', decimals: 6.5 }, /assets\[0\]\.decimals/],
    [{ network: 'eip155:1', address: '0x1', symbol: '', decimals: 6 }, /assets\[0\]\.symbol/],
    [
      { network: 'eip155:1', address: '0x1', symbol: 'X', decimals: 6, name: 'X' },
      /assets\[0\]\.version/,
    ],
    [
      { network: 'eip155:1', address: '0x1', symbol: 'X', decimals: 6, peg: 'usd' },
      /assets\[0\]\.peg/,
    ],
  ])('says which field of a bad entry to fix (%#)', (asset, message) => {
    expect(() => createAssetRegistry([asset])).toThrow(message);
  });
});
