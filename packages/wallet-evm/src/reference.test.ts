import { describe, expect, it } from 'vitest';
import { formatReference, parseReference } from './reference.js';

const token = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const from = '0x857b06519E91e3A54538791bDbb0E22373e36b66';
const nonce = '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480';

describe('payment references', () => {
  it('round-trips an EIP-3009 reference (chain, token, payer, nonce, validBefore)', () => {
    const reference = {
      kind: 'eip3009',
      chainId: 84532,
      token,
      from,
      nonce,
      deadline: 1740672154n,
    } as const;
    const text = formatReference(reference);
    expect(text).toBe(`eip3009:eip155:84532:${token}:${from}:${nonce}:1740672154`);
    expect(parseReference(text)).toEqual(reference);
  });

  it('round-trips a Permit2 reference with a decimal uint256 nonce', () => {
    const big = 2n ** 255n + 17n;
    const text = formatReference({
      kind: 'permit2',
      chainId: 8453,
      token,
      from,
      nonce: big,
      deadline: 5n,
    });
    expect(parseReference(text)).toMatchObject({ kind: 'permit2', nonce: big, deadline: 5n });
  });

  it.each([
    'garbage',
    `eip3009:solana:1:${token}:${from}:${nonce}:1`,
    `eip3009:eip155:84532:0x12:${from}:${nonce}:1`,
    `eip3009:eip155:84532:${token}:${from}:0x12:1`,
    `permit2:eip155:84532:${token}:${from}:0x12:1`,
    `other:eip155:84532:${token}:${from}:1:1`,
  ])('refuses %s', (text) => {
    expect(parseReference(text)).toBeUndefined();
  });
});
