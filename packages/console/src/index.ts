/**
 * `@stipend/console`: the spend console. A local web page where a person sees what agents
 * spend (a chart per hour and day, budgets per window and scope, the ledger with filters and a
 * CSV export), approves or denies what they wait for, and resolves held purchases, reading and
 * deciding through the same stores the agents use. `stipend console` runs it.
 *
 * @module
 */
export {
  type ConsoleOptions,
  type ConsoleStoreSet,
  type RunningConsole,
  startConsole,
} from './start.js';
export { type ConsoleStorePaths, type OpenedConsoleStores, openConsoleStores } from './stores.js';
