/**
 * Where the `stipend` command keeps its files: wallets, the default policy, the ledger, the
 * open payment sessions.
 *
 * @module
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The stipend directory: `$STIPEND_HOME`, else `$XDG_CONFIG_HOME/stipend`, else
 * `~/.config/stipend`.
 *
 * @example
 * ```ts
 * import { stipendHome } from './home.js';
 * stipendHome({ STIPEND_HOME: '/tmp/s' }); // '/tmp/s'
 * ```
 */
export function stipendHome(env: Readonly<Record<string, string | undefined>>): string {
  if (env.STIPEND_HOME) return env.STIPEND_HOME;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'stipend');
}

/**
 * The files in the stipend directory (`STIPEND_LEDGER` moves the ledger elsewhere).
 *
 * @example
 * ```ts
 * import { homeFiles } from './home.js';
 * homeFiles({ STIPEND_HOME: '/tmp/s' }).ledger; // '/tmp/s/ledger.jsonl'
 * ```
 */
export function homeFiles(env: Readonly<Record<string, string | undefined>>): {
  readonly dir: string;
  readonly wallets: string;
  readonly policy: string;
  readonly ledger: string;
  readonly credentials: string;
  /**
   * The payment sessions (MPP `lightning` sessions) kept open between runs: the journal of
   * `@stipend/stores/file`'s `fileSessionStore` (JSON lines, mode 0600: it holds the bearer).
   */
  readonly sessions: string;
} {
  const dir = stipendHome(env);
  return {
    dir,
    wallets: join(dir, 'wallets.json'),
    policy: join(dir, 'policy.json'),
    ledger: env.STIPEND_LEDGER || join(dir, 'ledger.jsonl'),
    credentials: join(dir, 'l402-credentials.json'),
    sessions: join(dir, 'sessions.jsonl'),
  };
}
