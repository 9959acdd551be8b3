/**
 * secp256k1 public-key recovery in pure JavaScript (`@noble/curves`): the implementation every
 * platform can run, and the one browsers get. {@link SecpRecover} is the one recovery
 * signature of this package; `./node.ts` may pick a faster implementation of it in Node.
 *
 * @module
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';

/** A secp256k1 public-key recovery implementation. */
export interface SecpRecover {
  /** Which library recovers (for diagnostics and tests). */
  readonly name: 'tiny-secp256k1' | '@noble/curves';
  /**
   * The compressed (33-byte) key that made `compact` (`r ‖ s`, 64 bytes) over the 32-byte
   * `hash`, with recovery id `recoveryId` (0 to 3). High-S signatures are accepted, as BOLT 11
   * readers must recover them too. Throws when no key can be recovered.
   */
  recover(hash: Uint8Array, compact: Uint8Array, recoveryId: number): Uint8Array;
}

/**
 * Recovery with `@noble/curves` (about 3.5 ms per signature on a server core).
 *
 * @example
 * ```ts
 * import { nobleRecover } from './noble.js';
 * const key = nobleRecover.recover(sha256(message), compact, recoveryId); // 33 bytes
 * ```
 */
export const nobleRecover: SecpRecover = {
  name: '@noble/curves',
  recover(hash, compact, recoveryId) {
    return secp256k1.Signature.fromBytes(compact, 'compact')
      .addRecoveryBit(recoveryId)
      .recoverPublicKey(hash)
      .toBytes(true);
  },
};
