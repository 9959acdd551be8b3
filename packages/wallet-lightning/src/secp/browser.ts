/**
 * The recovery browsers and other non-Node runtimes get (`#secp-recover`, `default`
 * condition): pure JavaScript `@noble/curves`, no WebAssembly loader, no Node built-in.
 *
 * @module
 */
import { nobleRecover, type SecpRecover } from './noble.js';

/**
 * Recovery outside Node: `@noble/curves`.
 *
 * @example
 * ```ts
 * import { secpRecover } from '#secp-recover';
 * const key = secpRecover.recover(hash, compact, recoveryId);
 * ```
 */
export const secpRecover: SecpRecover = nobleRecover;
