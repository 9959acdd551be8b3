/**
 * A short, stable, non-cryptographic fingerprint of a string (two FNV-1a 32-bit hashes with
 * different offsets, 16 hex digits). Used for offer ids ("the same terms give the same id")
 * and for payment ids derived from an idempotency key; never for anything secret.
 *
 * @example
 * ```ts
 * import { fingerprint } from './fingerprint.js';
 * fingerprint('exact|eip155:8453|1000'); // the same 16 hex digits every time
 * ```
 */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
