/**
 * A fleet sharing one Redis budget: 8 real child processes × 100 concurrent payments against
 * a budget for 250, three times (fresh key prefix each run). Exactly 250 are committed each
 * time — none beyond — and Redis' sums agree with what the children report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBudgetStore } from '../../packages/stores/src/redis/index.js';
import {
  type RedisServer,
  startRedisServer,
} from '../../packages/stores/src/redis/server.test-helpers.js';
import { bundleChild, type ChildBundle } from './bundle.test-helpers.js';

const PROCESSES = 8;
const PAYMENTS = 100;
const BUDGET = 250;
const PRICE = 10_000n;
const running = new Set<ChildProcess>();
let server: RedisServer;
let bundle: ChildBundle;

beforeAll(async () => {
  [server, bundle] = await Promise.all([
    startRedisServer(),
    bundleChild(new URL('./redis-fleet.child.ts', import.meta.url)),
  ]);
});
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  bundle?.remove();
  await server?.stop();
});

interface Worker {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly result: Promise<{ committed: string[]; refused: number }>;
}

function startWorker(prefix: string, name: string): Worker {
  const child = spawn(
    process.execPath,
    [bundle.file, server.url, prefix, name, String(PAYMENTS), String(BUDGET), PRICE.toString()],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  running.add(child);
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const result = new Promise<{ committed: string[]; refused: number }>((resolve, reject) => {
    child.once('close', (code) => {
      running.delete(child);
      if (code !== 0) reject(new Error(`worker ${name} exited ${code}: ${err}`));
      else resolve(JSON.parse(out.split('\n')[1]!));
    });
  });
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

describe('Redis budget store shared by a fleet of processes', () => {
  it.each([1, 2, 3])(
    'run %i: 8 processes × 100 concurrent payments, budget 250 → exactly 250 committed',
    async (run) => {
      const prefix = `fleet${run}:`;
      const workers = Array.from({ length: PROCESSES }, (_, i) => startWorker(prefix, `w${i}`));
      await Promise.all(workers.map((w) => w.ready));
      const started = Date.now();
      for (const worker of workers) worker.child.stdin!.end('go\n');
      const results = await Promise.all(workers.map((w) => w.result));
      const elapsed = Date.now() - started;

      const committed = results.flatMap((r) => r.committed);
      expect(committed).toHaveLength(BUDGET);
      expect(new Set(committed).size).toBe(BUDGET);
      expect(results.reduce((sum, r) => sum + r.refused, 0)).toBe(PROCESSES * PAYMENTS - BUDGET);

      const store = createRedisBudgetStore({ url: server.url, prefix });
      const now = Date.now();
      expect(await store.usage({ scope: 'global', window: { kind: 'total' } }, now)).toEqual({
        committedUsdMicros: PRICE * BigInt(BUDGET),
        heldUsdMicros: 0n,
        count: BUDGET,
      });
      expect(
        (await store.usage({ scope: 'global', window: { kind: 'calendar', unit: 'day' } }, now))
          .count,
      ).toBe(BUDGET);
      let perWorker = 0;
      for (let i = 0; i < PROCESSES; i++) {
        const usage = await store.usage(
          { scope: `worker:w${i}`, window: { kind: 'calendar', unit: 'month' } },
          now,
        );
        expect(usage.count).toBe(results[i]!.committed.length);
        perWorker += usage.count;
      }
      expect(perWorker).toBe(BUDGET);
      for (const id of committed.slice(0, 25)) {
        expect(await store.get(id)).toMatchObject({
          state: 'committed',
          committedUsdMicros: PRICE,
        });
      }
      await store.close();
      console.log(
        `redis-fleet run ${run}: ${PROCESSES * PAYMENTS} reservations + ${BUDGET} commits in ${elapsed} ms ` +
          `(${Math.round(((PROCESSES * PAYMENTS + BUDGET) * 1000) / elapsed)} ops/s); ` +
          `spread ${results.map((r) => r.committed.length).join('/')}`,
      );
    },
  );
});
