import { describe, expect, it } from 'vitest';
import { createKeyedLock } from './lock.js';

describe('createKeyedLock', () => {
  it('lets one holder per key in, in order, and frees idle keys', async () => {
    const locks = createKeyedLock();
    const order: string[] = [];
    const run = async (name: string) => {
      const release = await locks.acquire('k');
      order.push(`in ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(`out ${name}`);
      release();
    };
    await Promise.all([run('a'), run('b'), run('c')]);
    expect(order).toEqual(['in a', 'out a', 'in b', 'out b', 'in c', 'out c']);
    expect(locks.busy('k')).toBe(false);
  });

  it('does not serialise different keys, and a double release is harmless', async () => {
    const locks = createKeyedLock();
    const a = await locks.acquire('a');
    const b = await locks.acquire('b');
    a();
    a();
    b();
    expect(locks.busy('a') || locks.busy('b')).toBe(false);
  });
});
