import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLockFile } from './lock.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-lock-'));
let n = 0;
const fresh = () => join(folder, `l-${n++}.lock`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('lock file', () => {
  it('excludes: concurrent holders never overlap, and the file is gone afterwards', async () => {
    const path = fresh();
    const a = createLockFile({ path });
    const b = createLockFile({ path });
    let inside = 0;
    let most = 0;
    const work = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inside--;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).hold(work)));
    expect(most).toBe(1);
    expect(existsSync(path)).toBe(false);
    expect(a.stats.waits + b.stats.waits).toBeGreaterThan(0);
  });

  it('breaks a lock left by a dead process of this host', async () => {
    const path = fresh();
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), token: 't', at: 0 }));
    const lock = createLockFile({ path, timeoutMs: 2_000 });
    expect(await lock.hold(async () => readFileSync(path, 'utf8'))).toContain(`${process.pid}`);
    expect(lock.stats.staleBroken).toBe(1);
  });

  it('waits for a live holder and times out with a message saying what to do', async () => {
    const path = fresh();
    writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), token: 't', at: 0 }));
    const lock = createLockFile({ path, timeoutMs: 100 });
    await expect(lock.hold(async () => 1)).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('delete the file'),
    });
    expect(lock.stats.staleBroken).toBe(0);
    expect(existsSync(path)).toBe(true);
  });

  it('breaks an empty lock only once it is old, and any lock older than staleMs', async () => {
    const empty = fresh();
    writeFileSync(empty, '');
    await expect(
      createLockFile({ path: empty, timeoutMs: 50 }).hold(async () => 1),
    ).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const old = new Date(Date.now() - 5_000);
    utimesSync(empty, old, old);
    expect(await createLockFile({ path: empty, timeoutMs: 1_000 }).hold(async () => 2)).toBe(2);

    const foreign = fresh();
    writeFileSync(foreign, JSON.stringify({ pid: 1, host: 'elsewhere', token: 't', at: 0 }));
    utimesSync(foreign, old, old);
    const lock = createLockFile({ path: foreign, staleMs: 1_000, timeoutMs: 1_000 });
    expect(await lock.hold(async () => 3)).toBe(3);
    expect(lock.stats.staleBroken).toBe(1);
  });

  it('releases the lock when the work throws', async () => {
    const path = fresh();
    const lock = createLockFile({ path });
    await expect(lock.hold(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(path)).toBe(false);
  });
});
