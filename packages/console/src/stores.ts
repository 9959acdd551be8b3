/**
 * Opens the agents' stores from what a person types: a folder of file stores (`--dir`), single
 * files (`--budget`, `--ledger`, `--approvals`, `--journal`), or a Redis URL (`--redis`).
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ApprovalStore, BudgetStore, Ledger, PurchaseJournal } from '@stipend/client';
import type { ConsoleStoreSet } from './start.js';

/** Where the stores are, as the `stipend console` flags say it. */
export interface ConsoleStorePaths {
  /** `--dir`: the folder of `createFileStores({ dir })` (budget, ledger, approvals, purchases .jsonl). */
  readonly dir?: string;
  /** `--budget`: a file budget journal (overrides the folder's). */
  readonly budget?: string;
  /** `--ledger`: a file ledger journal. */
  readonly ledger?: string;
  /** `--approvals`: a file approval store. */
  readonly approvals?: string;
  /** `--journal`: a file purchase journal. */
  readonly journal?: string;
  /** `--redis`: budget, ledger and purchase journal in Redis (approvals still come from a file). */
  readonly redis?: string;
  /** `--redis-prefix`: the agents' key prefix before `budget:`, `ledger:`, `purchases:`. Default `stipend:`. */
  readonly redisPrefix?: string;
  /** `--redis-durability`: see `@stipend/stores/redis`. Default `require`. */
  readonly redisDurability?: 'require' | 'warn' | 'ignore';
}

/** Opened stores, what they are, and `close()`. */
export interface OpenedConsoleStores extends ConsoleStoreSet {
  /** One line per store saying where it is (paths; a Redis URL shows only its host). */
  readonly sources: readonly string[];
  /** Things worth telling the person (a file that does not exist yet, a panel without store). */
  readonly notes: readonly string[];
  /** Closes every store opened here. */
  close(): Promise<void>;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * Opens the stores the agents use, for {@link startConsole}. Files that do not exist yet are
 * created empty when an agent or the console first writes them (a note says so); a folder that
 * does not exist is an error, as it is almost always a typo.
 *
 * @throws {TypeError} naming the flag to fix when nothing says where the stores are, or a
 *   folder does not exist.
 * @example
 * ```ts
 * import { openConsoleStores, startConsole } from '@stipend/console';
 *
 * const stores = await openConsoleStores({ dir: '/var/lib/agent' });
 * // or: await openConsoleStores({ redis: 'redis://127.0.0.1:6379', approvals: './approvals.jsonl' });
 * const running = await startConsole({ stores });
 * ```
 */
export async function openConsoleStores(paths: ConsoleStorePaths): Promise<OpenedConsoleStores> {
  const notes: string[] = [];
  const sources: string[] = [];
  if (paths.dir !== undefined && !isFolder(paths.dir)) {
    throw new TypeError(
      `--dir ${paths.dir} is not a folder: pass the folder the agents' createFileStores({ dir }) uses.`,
    );
  }
  const fileOf = (flag: string, given: string | undefined, name: string): string | undefined => {
    const path = given ?? (paths.dir !== undefined ? join(paths.dir, name) : undefined);
    if (path === undefined) return undefined;
    if (given !== undefined && !isFolder(dirname(path))) {
      throw new TypeError(
        `${flag} ${given}: its folder ${dirname(path)} does not exist; check the path.`,
      );
    }
    if (!existsSync(path))
      notes.push(`${path} does not exist yet (${flag}): it shows empty until an agent writes it.`);
    return path;
  };
  const budgetFile = fileOf('--budget', paths.budget, 'budget.jsonl');
  const ledgerFile = fileOf('--ledger', paths.ledger, 'ledger.jsonl');
  const approvalsFile = fileOf('--approvals', paths.approvals, 'approvals.jsonl');
  const journalFile = fileOf('--journal', paths.journal, 'purchases.jsonl');

  if (paths.redis === undefined && (budgetFile === undefined || ledgerFile === undefined)) {
    throw new TypeError(
      'Say where the agents keep their stores: --dir <folder> (createFileStores), or --budget <file> and --ledger <file>, or --redis <url>.',
    );
  }

  const opened: Closable[] = [];
  const file = await import('@stipend/stores/file');
  let budget: BudgetStore;
  let ledger: Ledger;
  let journal: PurchaseJournal | undefined;
  let approvals: ApprovalStore | undefined;
  if (paths.redis !== undefined) {
    const redis = await import('@stipend/stores/redis');
    const prefix = paths.redisPrefix ?? 'stipend:';
    const connection = {
      url: paths.redis,
      durability: paths.redisDurability ?? 'require',
    } as const;
    const where = `redis ${hostOf(paths.redis)}`;
    const b = redis.createRedisBudgetStore({ ...connection, prefix: `${prefix}budget:` });
    const l = redis.createRedisLedger({ ...connection, prefix: `${prefix}ledger:` });
    const j = redis.createRedisPurchaseJournal({ ...connection, prefix: `${prefix}purchases:` });
    opened.push(b, l, j);
    budget =
      paths.budget !== undefined ? track(file.createFileBudgetStore({ path: budgetFile! })) : b;
    ledger = paths.ledger !== undefined ? track(file.createFileLedger({ path: ledgerFile! })) : l;
    journal =
      paths.journal !== undefined
        ? track(file.createFilePurchaseJournal({ path: journalFile! }))
        : j;
    sources.push(
      `budget: ${paths.budget ?? `${where} ${prefix}budget:`}`,
      `ledger: ${paths.ledger ?? `${where} ${prefix}ledger:`}`,
      `purchases: ${paths.journal ?? `${where} ${prefix}purchases:`}`,
    );
  } else {
    budget = track(file.createFileBudgetStore({ path: budgetFile! }));
    ledger = track(file.createFileLedger({ path: ledgerFile! }));
    if (journalFile !== undefined)
      journal = track(file.createFilePurchaseJournal({ path: journalFile }));
    sources.push(`budget: ${budgetFile}`, `ledger: ${ledgerFile}`);
    sources.push(`purchases: ${journalFile ?? 'none (pass --journal)'}`);
  }
  if (approvalsFile !== undefined)
    approvals = track(file.createFileApprovalStore({ path: approvalsFile }));
  sources.push(`approvals: ${approvalsFile ?? 'none (pass --approvals)'}`);
  if (!approvals)
    notes.push('No approval store: pending approvals do not show (pass --approvals <file>).');
  if (!journal)
    notes.push('No purchase journal: held purchases do not show (pass --journal <file>).');

  function track<T extends Closable>(store: T): T {
    opened.push(store);
    return store;
  }
  return {
    budget,
    ledger,
    ...(approvals ? { approvals } : {}),
    ...(journal ? { journal } : {}),
    sources,
    notes,
    async close() {
      await Promise.allSettled(opened.map((store) => store.close()));
    },
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A Redis URL's host and port only: its user and password never show. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(unreadable URL)';
  }
}
