/**
 * Payment references: secret-free strings that say where to look a payment up on chain.
 * `eip3009:eip155:<chain>:<token>:<from>:<nonce>:<validBefore>` or
 * `permit2:eip155:<chain>:<token>:<from>:<nonce>:<deadline>` (nonce in decimal).
 *
 * @module
 */
import { type Address, type Hex, isAddress, isHex } from 'viem';

/** What a reference names. */
export interface PaymentReference {
  readonly kind: 'eip3009' | 'permit2';
  readonly chainId: number;
  readonly token: Address;
  readonly from: Address;
  /** EIP-3009: the bytes32 nonce. Permit2: the uint256 nonce. */
  readonly nonce: Hex | bigint;
  /** Unix seconds: EIP-3009 `validBefore` (exclusive), Permit2 `deadline` (inclusive). */
  readonly deadline: bigint;
}

/**
 * Formats a reference.
 *
 * @example
 * ```ts
 * import { formatReference } from './reference.js';
 * formatReference({ kind: 'eip3009', chainId: 8453, token, from, nonce: '0x…', deadline: 1740672154n });
 * // 'eip3009:eip155:8453:0x8335…:0x857b…:0x…:1740672154'
 * ```
 */
export function formatReference(reference: PaymentReference): string {
  const { kind, chainId, token, from, nonce, deadline } = reference;
  return `${kind}:eip155:${chainId}:${token}:${from}:${nonce.toString()}:${deadline}`;
}

/**
 * Parses a reference made by {@link formatReference}; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { parseReference } from './reference.js';
 * parseReference('eip3009:eip155:8453:0x…:0x…:0x…:1740672154')?.kind; // 'eip3009'
 * ```
 */
export function parseReference(text: string): PaymentReference | undefined {
  const parts = text.split(':');
  if (parts.length !== 7 || parts[1] !== 'eip155') return undefined;
  const [kind, , chain, token, from, nonce, deadline] = parts as [string, ...string[]];
  if (kind !== 'eip3009' && kind !== 'permit2') return undefined;
  if (!/^[1-9][0-9]{0,15}$/.test(chain!) || !/^[0-9]{1,20}$/.test(deadline!)) return undefined;
  if (!isAddress(token!, { strict: false }) || !isAddress(from!, { strict: false }))
    return undefined;
  let parsedNonce: Hex | bigint;
  if (kind === 'eip3009') {
    if (!isHex(nonce) || nonce!.length !== 66) return undefined;
    parsedNonce = nonce as Hex;
  } else {
    if (!/^[0-9]{1,78}$/.test(nonce!)) return undefined;
    parsedNonce = BigInt(nonce!);
  }
  return {
    kind,
    chainId: Number(chain),
    token: token as Address,
    from: from as Address,
    nonce: parsedNonce,
    deadline: BigInt(deadline!),
  };
}
