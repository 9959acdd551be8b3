import { keccak256, stringToHex } from 'viem';
import { describe, expect, it } from 'vitest';
import { purchaseNonce } from './nonce.js';

const PAYER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

describe('purchaseNonce', () => {
  it('is keccak256(tag ‖ chain ‖ payer ‖ keccak256(key)): the same in every process', () => {
    const tag = keccak256(stringToHex('stipend/wallet-evm/purchase-nonce/v1')).slice(2);
    const chain = (8453).toString(16).padStart(64, '0');
    const payer = PAYER.slice(2).toLowerCase().padStart(64, '0');
    const key = keccak256(stringToHex('order-42')).slice(2);
    expect(purchaseNonce({ idempotencyKey: 'order-42', payer: PAYER, chainId: 8453 })).toBe(
      keccak256(`0x${tag}${chain}${payer}${key}`),
    );
  });

  it('asked again (the remembered nonce) it is the same; any other input gives another nonce', () => {
    const first = purchaseNonce({ idempotencyKey: 'k', payer: PAYER, chainId: 1 });
    expect(
      purchaseNonce({
        idempotencyKey: 'k',
        payer: PAYER.toLowerCase() as `0x${string}`,
        chainId: 1,
      }),
    ).toBe(first);
    const others = [
      purchaseNonce({ idempotencyKey: 'k', payer: OTHER, chainId: 1 }),
      purchaseNonce({ idempotencyKey: 'k', payer: PAYER, chainId: 2 }),
      purchaseNonce({ idempotencyKey: 'k2', payer: PAYER, chainId: 1 }),
      purchaseNonce({ idempotencyKey: '1|k', payer: PAYER, chainId: 1 }),
    ];
    expect(new Set([first, ...others]).size).toBe(5);
  });

  it('past the remembered ones it recomputes the same value', () => {
    const first = purchaseNonce({ idempotencyKey: 'early', payer: PAYER, chainId: 10 });
    for (let index = 0; index < 600; index++) {
      purchaseNonce({ idempotencyKey: `filler-${index}`, payer: PAYER, chainId: 10 });
    }
    expect(purchaseNonce({ idempotencyKey: 'early', payer: PAYER, chainId: 10 })).toBe(first);
  });

  it('refuses a missing key or a chain id that is not one', () => {
    expect(() => purchaseNonce({ idempotencyKey: '', payer: PAYER, chainId: 1 })).toThrow(
      TypeError,
    );
    expect(() => purchaseNonce({ idempotencyKey: 'k', payer: PAYER, chainId: 0 })).toThrow(
      RangeError,
    );
  });
});
