/**
 * Ids: unique across processes and time, not secret. One Web Crypto call per process seeds a
 * random 80-bit prefix; each id is that prefix plus a counter, so the hot path makes no crypto
 * call (ids need uniqueness, not unpredictability: none of them authorizes anything).
 *
 * @module
 */

let seed: string | undefined;
let counter = 0;

function processSeed(): string {
  const bytes = new Uint8Array(10);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * A unique id: `prefix` + 20 hex digits of per-process randomness + a base-36 counter.
 *
 * @example
 * ```ts
 * import { uniqueId } from './ids.js';
 * uniqueId('s_'); // 's_3f9c0a1b2c3d4e5f6a7b0', then 's_3f9c0a1b2c3d4e5f6a7b1', …
 * ```
 */
export function uniqueId(prefix = ''): string {
  seed ??= processSeed();
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}${seed}${counter.toString(36)}`;
}

/** Random bytes fetched from Web Crypto a block at a time and handed out 16 per id. */
const POOL_BYTES = 1024;
let pool: Uint8Array | undefined;
let poolAt = POOL_BYTES;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * A random 128-bit id as 32 lowercase hex characters (Web Crypto; browsers and Node), for the
 * few ids that must not be guessable. The bytes come from `crypto.getRandomValues`, asked for
 * 1 KiB at a time (one call per 64 ids: the call, not the bytes, is what costs); each byte is
 * handed out once.
 *
 * @example
 * ```ts
 * import { randomId } from './ids.js';
 * randomId('a_'); // 'a_' + 32 hex digits
 * ```
 */
export function randomId(prefix = ''): string {
  if (pool === undefined || poolAt + 16 > POOL_BYTES) {
    pool = new Uint8Array(POOL_BYTES);
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  let hex = prefix;
  const end = poolAt + 16;
  for (let index = poolAt; index < end; index++) hex += HEX[pool[index]!];
  // Used bytes are wiped so that no later read of the pool can see an id handed out.
  pool.fill(0, poolAt, end);
  poolAt = end;
  return hex;
}
