/** A stand-in for `navigator.locks` (exclusive mode only) shared by "tabs" in one process. */
import type { LockManagerLike } from './idb.js';

/**
 * Creates a lock manager: requests for one name run one at a time, in request order.
 *
 * @example
 * ```ts
 * import { createTabLocks } from './locks.test-helpers.js';
 * const locks = createTabLocks();
 * await locks.request('x', { mode: 'exclusive' }, async () => 1);
 * ```
 */
export function createTabLocks(): LockManagerLike & { held: Set<string>; requests: number } {
  const tails = new Map<string, Promise<unknown>>();
  const manager = {
    held: new Set<string>(),
    requests: 0,
    request<T>(
      name: string,
      _options: { mode: 'exclusive' },
      callback: (lock: unknown) => Promise<T>,
    ) {
      manager.requests++;
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(async () => {
        if (manager.held.has(name)) throw new Error(`lock ${name} held twice`);
        manager.held.add(name);
        try {
          return await callback({ name, mode: 'exclusive' });
        } finally {
          manager.held.delete(name);
        }
      });
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
  return manager;
}
