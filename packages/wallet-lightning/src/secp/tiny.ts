/**
 * secp256k1 public-key recovery with `tiny-secp256k1` (libsecp256k1 compiled to WebAssembly,
 * about ten times faster than pure JavaScript), wrapped to the one recovery signature
 * ({@link SecpRecover}). No Node built-in here: the caller passes the loader, so tests can make
 * it fail and `./node.ts` can load it synchronously.
 *
 * @module
 */
import { bytesToHex, hexToBytes } from '../bytes.js';
import type { SecpRecover } from './noble.js';

/** The part of `tiny-secp256k1` (2.x) this package uses. */
interface TinySecp256k1 {
  recover(
    hash: Uint8Array,
    signature: Uint8Array,
    recoveryId: 0 | 1 | 2 | 3,
    compressed?: boolean,
  ): Uint8Array | null;
}

// A known answer: the key of sha256('stipend secp256k1 recovery self-check key') signed
// sha256('stipend secp256k1 recovery self-check'). A module that does not recover it (another
// major version, a stand-in) is not used: a wrong payee key would slip past a deny list.
const CHECK = {
  hash: '23d2b4de8358c3d6cd141fdfa4656802accf14530f819240680022c416a7f527',
  compact:
    'd61df7bc16082b966724187fd25cdcc3db8516a95551a6000267d79bff856b0953d1bf6fcedb44f658931ac3c77179be0290b0f36e12209c5e5685e21d834f7a',
  recoveryId: 1,
  key: '030d1ce2ef4b102afe411fbcda5dfaa68963a23ddf581d79871f818ecccea95b35',
} as const;

/**
 * Recovery through the module `load` returns (`tiny-secp256k1`), or `undefined` when it cannot
 * be used: `load` throws (not installed, no WebAssembly), the module has no `recover`, or it
 * fails the known-answer check.
 *
 * @example
 * ```ts
 * import { createRequire } from 'node:module';
 * import { tinyRecoverFrom } from './tiny.js';
 * const fast = tinyRecoverFrom(() => createRequire(import.meta.url)('tiny-secp256k1'));
 * ```
 */
export function tinyRecoverFrom(load: () => unknown): SecpRecover | undefined {
  let tiny: Partial<TinySecp256k1> | undefined;
  try {
    tiny = load() as Partial<TinySecp256k1> | undefined;
  } catch {
    return undefined;
  }
  const recoverRaw = tiny?.recover;
  if (typeof recoverRaw !== 'function') return undefined;
  const recover = (hash: Uint8Array, compact: Uint8Array, recoveryId: number): Uint8Array => {
    if (recoveryId !== 0 && recoveryId !== 1 && recoveryId !== 2 && recoveryId !== 3) {
      throw new RangeError(`invalid recovery id ${recoveryId}`);
    }
    const key = recoverRaw.call(tiny, hash, compact, recoveryId, true);
    if (!ArrayBuffer.isView(key) || key.byteLength !== 33) {
      throw new Error('no public key could be recovered from the signature');
    }
    return key;
  };
  try {
    const key = recover(hexToBytes(CHECK.hash), hexToBytes(CHECK.compact), CHECK.recoveryId);
    if (bytesToHex(key) !== CHECK.key) return undefined;
  } catch {
    return undefined;
  }
  return { name: 'tiny-secp256k1', recover };
}
