/** The Redis store against a real redis-server on 127.0.0.1. */
import { afterAll, beforeAll } from 'vitest';
import { describeBudgetStoreConformance } from '../conformance.test-helpers.js';
import { describePurchaseJournalConformance } from '../purchase-journal.conformance.test-helpers.js';
import { createRedisBudgetStore, type RedisBudgetStore } from './budget.js';
import { createRedisPurchaseJournal, type RedisPurchaseJournal } from './purchases.js';
import { type RedisServer, startRedisServer } from './server.test-helpers.js';

let server: RedisServer;
let n = 0;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

describeBudgetStoreConformance(
  'redis',
  // The suite drives time itself: each reservation counts at the `now` it passes.
  () => createRedisBudgetStore({ url: server.url, prefix: `conf${n++}:`, clock: 'caller' }),
  {
    propertyRuns: 15,
    reopen: (store) =>
      createRedisBudgetStore({
        url: server.url,
        prefix: (store as RedisBudgetStore).prefix,
        clock: 'caller',
      }),
  },
);
describePurchaseJournalConformance(
  'redis',
  () => createRedisPurchaseJournal({ url: server.url, prefix: `journal${n++}:` }),
  {
    reopen: (journal) =>
      createRedisPurchaseJournal({
        url: server.url,
        prefix: (journal as RedisPurchaseJournal).prefix,
      }),
  },
);
