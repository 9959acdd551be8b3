import { randomBytes } from 'node:crypto';
import { type Address, type Hex, type LocalAccount, parseSignature, toHex } from 'viem';

/** EIP-712 types of an EIP-3009 `TransferWithAuthorization` message. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

/** The fields of an EIP-3009 transfer authorization (times are unix seconds). */
export interface TransferAuthorization {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: Hex;
}

/** The EIP-712 domain fields of an EIP-3009 token. */
export interface Eip3009Domain {
  readonly address: Address;
  readonly chainId: number;
  readonly name: string;
  readonly version: string;
}

/** A signed authorization, with the signature also split into `v`, `r`, `s`. */
export interface SignedTransferAuthorization {
  readonly authorization: TransferAuthorization;
  readonly signature: Hex;
  readonly v: number;
  readonly r: Hex;
  readonly s: Hex;
}

/**
 * A fresh random 32-byte EIP-3009 nonce.
 *
 * @example
 * ```ts
 * import { randomAuthorizationNonce } from '@stipend/testkit/chain';
 * const nonce = randomAuthorizationNonce(); // '0x…' (64 hex digits)
 * ```
 */
export function randomAuthorizationNonce(): Hex {
  return toHex(randomBytes(32));
}

/**
 * Signs an EIP-3009 `TransferWithAuthorization` with viem's `signTypedData` against the
 * token's EIP-712 domain `{ name, version, chainId, verifyingContract }`.
 *
 * @example
 * ```ts
 * import { devAccount, randomAuthorizationNonce, signTransferAuthorization } from '@stipend/testkit/chain';
 * const payer = devAccount(4);
 * const signed = await signTransferAuthorization(payer, chain.token, {
 *   from: payer.address, to: devAccount(2).address, value: 1000n,
 *   validAfter: 0n, validBefore: BigInt(Math.floor(Date.now() / 1000) + 300),
 *   nonce: randomAuthorizationNonce(),
 * });
 * ```
 */
export async function signTransferAuthorization(
  account: LocalAccount,
  token: Eip3009Domain,
  authorization: TransferAuthorization,
): Promise<SignedTransferAuthorization> {
  const signature = await account.signTypedData({
    domain: {
      name: token.name,
      version: token.version,
      chainId: token.chainId,
      verifyingContract: token.address,
    },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message: authorization,
  });
  const parsed = parseSignature(signature);
  const v = parsed.v !== undefined ? Number(parsed.v) : parsed.yParity + 27;
  return { authorization, signature, v, r: parsed.r, s: parsed.s };
}
