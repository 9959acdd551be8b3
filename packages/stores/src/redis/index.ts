/**
 * `@stipend/stores/redis`: a budget store and a spend ledger in Redis, for fleets of agents
 * on many machines sharing one budget. Node only.
 *
 * @module
 */
export { exportLedgerCsv, exportLedgerJsonl, LEDGER_CSV_COLUMNS } from '../ledger/export.js';
export {
  createRedisBudgetStore,
  type RedisBudgetStore,
  type RedisBudgetStoreOptions,
} from './budget.js';
export type { RedisCommandClient, RedisConnectionOptions } from './connection.js';
export { createRedisLedger, type RedisLedger, type RedisLedgerOptions } from './ledger.js';
