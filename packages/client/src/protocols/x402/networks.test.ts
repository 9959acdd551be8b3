import { describe, expect, it } from 'vitest';
import { evmChainId, toCaip2 } from './networks.js';

describe('x402 network names', () => {
  it.each([
    ['base', 'eip155:8453'],
    ['base-sepolia', 'eip155:84532'],
    ['avalanche-fuji', 'eip155:43113'],
    ['polygon', 'eip155:137'],
    ['solana-devnet', 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1'],
    ['eip155:10', 'eip155:10'],
  ])('maps the v1 name %s to %s', (name, caip2) => {
    expect(toCaip2(name, 1)).toBe(caip2);
  });

  it('refuses unknown v1 names and v1 names in v2', () => {
    expect(toCaip2('optimism-sepolia', 1)).toBeUndefined();
    expect(toCaip2('toString', 1)).toBeUndefined();
    expect(toCaip2('base', 2)).toBeUndefined();
    expect(toCaip2('eip155:8453', 2)).toBe('eip155:8453');
  });

  it('reads EVM chain ids and nothing else', () => {
    expect(evmChainId('eip155:84532')).toBe(84532);
    expect(evmChainId('eip155:0')).toBeUndefined();
    expect(evmChainId('eip155:01')).toBeUndefined();
    expect(evmChainId('solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp')).toBeUndefined();
  });
});
