/// <reference types="node" />
/**
 * The recovery Node gets (`#secp-recover` under the `node` condition): `tiny-secp256k1` when it
 * is installed and passes its known-answer check, else `@noble/curves`. It is loaded
 * synchronously with `createRequire` on the first recovery (no top-level await, so `require()`
 * of this package keeps working), and never in browsers (they resolve `./browser.ts`).
 *
 * @module
 */
import { createRequire } from 'node:module';
import { nobleRecover, type SecpRecover } from './noble.js';
import { tinyRecoverFrom } from './tiny.js';

/**
 * `tiny-secp256k1` from `load` when it can be used, else `@noble/curves`.
 *
 * @example
 * ```ts
 * import { chooseRecover } from './node.js';
 * chooseRecover(() => { throw new Error('absent'); }).name; // '@noble/curves'
 * ```
 */
export function chooseRecover(load: () => unknown): SecpRecover {
  return tinyRecoverFrom(load) ?? nobleRecover;
}

// A specifier bundlers do not follow: an app bundled for Node without the optional peer still
// builds, and falls back at run time.
const TINY = ['tiny', 'secp256k1'].join('-');

let chosen: SecpRecover | undefined;
const current = (): SecpRecover =>
  (chosen ??= chooseRecover(() => createRequire(import.meta.url)(TINY)));

/**
 * Node's recovery: `tiny-secp256k1` (optional peer) when installed, else `@noble/curves`.
 *
 * @example
 * ```ts
 * import { secpRecover } from '#secp-recover';
 * const key = secpRecover.recover(hash, compact, recoveryId);
 * ```
 */
export const secpRecover: SecpRecover = {
  get name() {
    return current().name;
  },
  recover: (hash, compact, recoveryId) => current().recover(hash, compact, recoveryId),
};
