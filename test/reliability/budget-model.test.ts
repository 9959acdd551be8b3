/**
 * Model-based tests of the policy engine over every budget store: the in-memory store of
 * `@stipend/client`, the file store and the Redis store of `@stipend/stores` (a real
 * `redis-server` on 127.0.0.1, started here). See `budget-model.test-helpers.ts` for the
 * commands and the invariants checked after each one.
 *
 * CI mode: 150 scenarios on memory, 30 each on file and Redis (up to 40 commands each).
 * `STIPEND_LONG=1`: 2 000 / 300 / 300 scenarios of up to 80 commands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BudgetStore, createMemoryBudgetStore } from '@stipend/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBudgetStore } from '../../packages/stores/src/file/index.js';
import { createRedisBudgetStore } from '../../packages/stores/src/redis/index.js';
import {
  type RedisServer,
  startRedisServer,
} from '../../packages/stores/src/redis/server.test-helpers.js';
import {
  commandsArb,
  policyArb,
  runScenario,
  type StoreUnderTest,
  startArb,
} from './budget-model.test-helpers.js';

const LONG = process.env.STIPEND_LONG === '1';
const RUNS = { memory: LONG ? 2_000 : 150, persistent: LONG ? 300 : 30 };
const MAX_COMMANDS = LONG ? 80 : 40;
const TIMEOUT = LONG ? 3_600_000 : 60_000;

/** Runs the model for a store and checks the generators reached reservations and crashes. */
async function model(
  name: string,
  open: () => Promise<StoreUnderTest>,
  runs: number,
  persistent: boolean,
): Promise<void> {
  const seen = { reservations: 0, crashes: 0, committed: 0, released: 0 };
  await fc.assert(
    fc.asyncProperty(policyArb, startArb, commandsArb(MAX_COMMANDS), async (spec, start, cmds) => {
      const outcome = await runScenario(open, spec, start, cmds);
      seen.reservations += outcome.reservations;
      seen.crashes += outcome.crashes;
      seen.committed += outcome.committed;
      seen.released += outcome.released;
    }),
    { numRuns: runs, ...(LONG ? {} : { seed: 20_260_115 }) },
  );
  expect(seen.reservations).toBeGreaterThan(runs * 2);
  expect(seen.committed).toBeGreaterThan(runs / 2);
  expect(seen.released).toBeGreaterThan(runs / 2);
  if (persistent) expect(seen.crashes).toBeGreaterThan(runs / 2);
  if (LONG) {
    process.stderr.write(
      `[model] ${name}: ${runs} scenarios, ${seen.reservations} reservations ` +
        `(${seen.committed} committed, ${seen.released} released), ${seen.crashes} crashes\n`,
    );
  }
}

describe('policy engine + memory budget store against the model', () => {
  it(
    'never exceeds a scope; committed, released and held sums reconcile',
    async () => {
      await model(
        'memory',
        async () => {
          const store = createMemoryBudgetStore();
          return { store, close: async () => {} };
        },
        RUNS.memory,
        false,
      );
    },
    TIMEOUT,
  );
});

describe('policy engine + file budget store against the model (crash = reopen the file)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'stipend-model-'));
  let n = 0;
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it(
    'file store: never exceeds a scope across crashes; sums reconcile',
    async () => {
      await model(
        'file',
        async () => {
          const path = join(folder, `budget-${n++}.jsonl`);
          const opened: { close(): Promise<void> }[] = [];
          const open = (): BudgetStore => {
            const store = createFileBudgetStore({ path });
            opened.push(store);
            return store;
          };
          return {
            store: open(),
            reopen: open,
            close: async () => {
              for (const store of opened) await store.close();
            },
          };
        },
        RUNS.persistent,
        true,
      );
    },
    TIMEOUT,
  );
});

describe('policy engine + Redis budget store against the model (crash = new clients)', () => {
  let server: RedisServer;
  let n = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it(
    'Redis store: never exceeds a scope across crashes; sums reconcile',
    async () => {
      await model(
        'redis',
        async () => {
          const prefix = `model${n++}:`;
          const opened: { close(): Promise<void> }[] = [];
          const open = (): BudgetStore => {
            // The model drives time: each reservation counts at the `now` it passes.
            const store = createRedisBudgetStore({ url: server.url, prefix, clock: 'caller' });
            opened.push(store);
            return store;
          };
          return {
            store: open(),
            reopen: open,
            close: async () => {
              for (const store of opened) await store.close();
            },
          };
        },
        RUNS.persistent,
        true,
      );
    },
    TIMEOUT,
  );
});
