import fc from 'fast-check';
import { type Address, getAddress, type Hex, hashTypedData } from 'viem';
import { describe, expect, it } from 'vitest';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from './constants.js';
import { domainSeparator, transferAuthorizationDigest } from './digest.js';

const SPEC_DOMAIN = {
  name: 'USDC',
  version: '2',
  chainId: 84532,
  verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as Address,
};
const SPEC_MESSAGE = {
  from: '0x857b06519E91e3A54538791bDbb0E22373e36b66' as Address,
  to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' as Address,
  value: 10000n,
  validAfter: 1740672089n,
  validBefore: 1740672154n,
  nonce: '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480' as Hex,
};

describe('EIP-3009 digest', () => {
  it('gives the spec vector its domain separator and digest (x402.md §1.9)', () => {
    expect(domainSeparator(SPEC_DOMAIN)).toBe(
      '0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818',
    );
    expect(transferAuthorizationDigest(SPEC_DOMAIN, SPEC_MESSAGE)).toBe(
      '0xf256992871671abcb27ff92885a7afa46218724e5fc0bac35d050115aa1d22e6',
    );
  });

  it("equals viem's hashTypedData for any domain and message", () => {
    const address = fc
      .uint8Array({ minLength: 20, maxLength: 20 })
      .map((bytes) => getAddress(`0x${Buffer.from(bytes).toString('hex')}`));
    const uint = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n });
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 8 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        address,
        address,
        address,
        uint,
        uint,
        uint,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (name, version, chainId, token, from, to, value, validAfter, validBefore, nonceBytes) => {
          const domain = { name, version, chainId, verifyingContract: token };
          const message = {
            from,
            to,
            value,
            validAfter,
            validBefore,
            nonce: `0x${Buffer.from(nonceBytes).toString('hex')}` as Hex,
          };
          expect(transferAuthorizationDigest(domain, message)).toBe(
            hashTypedData({
              domain,
              types: TRANSFER_WITH_AUTHORIZATION_TYPES,
              primaryType: 'TransferWithAuthorization',
              message,
            }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses values that are not uint256 and nonces that are not bytes32', () => {
    expect(() => transferAuthorizationDigest(SPEC_DOMAIN, { ...SPEC_MESSAGE, value: -1n })).toThrow(
      RangeError,
    );
    expect(() =>
      transferAuthorizationDigest(SPEC_DOMAIN, { ...SPEC_MESSAGE, nonce: '0x1234' }),
    ).toThrow(/bytes32/);
  });
});
