/**
 * The nonce of a purchase: derived, never random, so that signing the same purchase twice
 * gives the same nonce, and at most one of the signatures can ever settle on chain (an
 * EIP-3009 token marks a nonce used per payer; Permit2 flips one bit per owner and nonce).
 *
 * `keccak256(TAG ‖ uint256(chainId) ‖ address(payer) ‖ keccak256(utf8(idempotencyKey)))`: every
 * part has a fixed length, so no two inputs encode alike, and the tag keeps these hashes apart
 * from any other keccak256 the payer signs. The offer is deliberately not part of it: the
 * pre-authorized offer and the offer of the 402 that follows it (or a second 402 with other
 * terms) are one purchase, and must not become two live authorizations.
 *
 * @module
 */
import { type Address, getAddress, type Hex, keccak256, stringToHex } from 'viem';

/** Domain separation of the encoding (32 bytes once hashed, never reused elsewhere). */
const TAG = keccak256(stringToHex('stipend/wallet-evm/purchase-nonce/v1')).slice(2);

/**
 * The bytes32 nonce of one purchase by one payer on one chain. The Permit2 nonce is the same
 * value read as a uint256.
 *
 * @example
 * ```ts
 * import { purchaseNonce } from './nonce.js';
 * const nonce = purchaseNonce({ idempotencyKey: 'order-42', payer, chainId: 8453 });
 * // the same three inputs give the same nonce in every process
 * ```
 */
export function purchaseNonce(input: {
  readonly idempotencyKey: string;
  readonly payer: Address;
  readonly chainId: number;
}): Hex {
  const { idempotencyKey, chainId } = input;
  if (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0) {
    throw new TypeError('the purchase has no idempotency key');
  }
  if (!Number.isSafeInteger(chainId) || chainId < 1) {
    throw new RangeError(`${chainId} is not a chain id`);
  }
  const memo = `${chainId}|${input.payer.toLowerCase()}|${idempotencyKey}`;
  let nonce = recent.get(memo);
  if (nonce === undefined) {
    const chain = chainId.toString(16).padStart(64, '0');
    const payer = getAddress(input.payer).slice(2).toLowerCase().padStart(64, '0');
    const key = keccak256(stringToHex(idempotencyKey)).slice(2);
    nonce = keccak256(`0x${TAG}${chain}${payer}${key}`);
    // A purchase asks for its nonce twice (its reference, then the signature): keep the latest.
    if (recent.size >= RECENT) recent.delete(recent.keys().next().value!);
    recent.set(memo, nonce);
  }
  return nonce;
}

/** Nonces of the latest purchases (two keccak256 each, several per purchase otherwise). */
const RECENT = 256;
const recent = new Map<string, Hex>();
