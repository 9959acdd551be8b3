/**
 * The payment sessions kept in the stipend directory, read for a report (`stipend sessions`,
 * `stipend ledger`): the durable session store of `@stipend/stores/file` opened, listed and
 * closed. Reading never creates the file.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { isStipendError, type SessionRecord } from '@stipend/client';
import { fileSessionStore } from '@stipend/stores/file';
import { CliError } from '../io.js';

/**
 * Every session in the session journal at `file`, oldest first; none when the file does not
 * exist yet (no `stipend fetch` opened a session).
 *
 * @throws {CliError} naming the file and what to do when the journal cannot be read.
 * @example
 * ```ts
 * import { listSessions } from './list.js';
 * import { homeFiles } from '../home.js';
 * const sessions = await listSessions(homeFiles(process.env).sessions);
 * console.log(sessions.filter((s) => s.state === 'open').map((s) => s.id));
 * ```
 */
export async function listSessions(file: string): Promise<readonly SessionRecord[]> {
  if (!existsSync(file)) return [];
  const store = fileSessionStore(file);
  try {
    return [...(await store.list())].sort((a, b) => a.createdAt - b.createdAt);
  } catch (error) {
    const why = isStipendError(error)
      ? [error.shortMessage, ...error.metaMessages].join(' ')
      : (error as Error).message;
    throw new CliError(
      `Cannot read the sessions in ${file}: ${why} If it cannot be restored, move it away: ` +
        'its open sessions then close at the seller after their idle timeout.',
    );
  } finally {
    await store.close();
  }
}
