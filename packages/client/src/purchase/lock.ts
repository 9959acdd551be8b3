/**
 * One lock per purchase key, in one process: every path that can pay (the 402 path,
 * pre-authorization, resumed approvals, children) takes it before deciding, so one key is
 * never bought twice at once. Across processes the journal's compare-and-set `open` decides.
 *
 * @module
 */

/** A keyed mutex: `acquire(key)` resolves with the function that lets the next one in. */
export interface KeyedLock {
  acquire(key: string): Promise<() => void>;
  /** True while someone holds or waits for `key`. */
  busy(key: string): boolean;
}

/**
 * Creates a keyed mutex (FIFO per key; no memory kept for idle keys).
 *
 * @example
 * ```ts
 * import { createKeyedLock } from './lock.js';
 * const locks = createKeyedLock();
 * const release = await locks.acquire('order-1');
 * try { ... } finally { release(); }
 * ```
 */
export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();
  return {
    async acquire(key) {
      const previous = tails.get(key);
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous ? previous.then(() => mine) : mine;
      tails.set(key, tail);
      if (previous) await previous;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (tails.get(key) === tail) tails.delete(key);
        release();
      };
    },
    busy(key) {
      return tails.has(key);
    },
  };
}
