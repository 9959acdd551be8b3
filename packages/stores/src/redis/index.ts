/**
 * `@stipend/stores/redis`: a budget store, a spend ledger, the purchase journal and MPP
 * sessions in Redis, for fleets of agents on many machines sharing one budget. Node only.
 *
 * @module
 */
export { exportLedgerCsv, exportLedgerJsonl, LEDGER_CSV_COLUMNS } from '../ledger/export.js';
export {
  createRedisBudgetStore,
  type RedisBudgetStore,
  type RedisBudgetStoreOptions,
} from './budget.js';
export {
  checkDurability,
  type RedisCommandClient,
  type RedisConnectionOptions,
  type RedisDurability,
} from './connection.js';
export { createRedisLedger, type RedisLedger, type RedisLedgerOptions } from './ledger.js';
export {
  createRedisPurchaseJournal,
  type RedisPurchaseJournal,
  type RedisPurchaseJournalOptions,
} from './purchases.js';
export {
  type RedisSessionStore,
  type RedisSessionStoreOptions,
  redisSessionStore,
} from './sessions.js';
