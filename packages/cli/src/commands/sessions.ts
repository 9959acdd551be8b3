/**
 * `stipend sessions`: the payment sessions kept open between runs (MPP `lightning`
 * sessions: a deposit paid once, many calls on it, the unspent part refunded on close), and
 * `stipend sessions close` to end them with the refund accounted.
 *
 * @module
 */
import type { SessionInfo } from '@stipend/client';
import { parse } from '../args.js';
import { homeFiles } from '../home.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { toJson } from '../output/json.js';
import { listSessions } from '../sessions/list.js';
import { closeLine, renderSessions, sessionView } from '../sessions/render.js';

export const SESSIONS_HELP = `Usage: stipend sessions [--json]
       stipend sessions close <session> | --all [options]

Lists the payment sessions stipend fetch opened (a deposit paid once, then calls that pay
nothing each; the unspent deposit comes back on close): session, origin, method, state,
deposit, spent, refunded, when opened and last used. They live in sessions.jsonl in the
stipend directory (~/.config/stipend, or $STIPEND_HOME).

close asks the seller to close the session and waits for the refund to reach your own node;
the ledger then books what was spent. A refund that has not arrived yet is said so, and the
deposit stays counted until it does (run the same close again later).

Options:
      --all                    close every session that is not closed yet
      --json                   print the sessions as JSON (amounts as { value, unit, display })
      --wallets <file>         wallet settings, for close (default ~/.config/stipend/wallets.json)
      --policy <file>          the spend policy, for close (default ~/.config/stipend/policy.json)
      --ledger <file>          the ledger, for close (default ~/.config/stipend/ledger.jsonl)
  -h, --help                   this help
`;

interface SessionsFlags {
  all?: boolean;
  json?: boolean;
  wallets?: string;
  policy?: string;
  ledger?: string;
  help?: boolean;
}

/**
 * Runs `stipend sessions …`. Returns the exit code: 0 when everything asked for is done, 1
 * when a close is still pending (a refund not arrived, an unanswered close).
 *
 * @example
 * ```ts
 * import { sessionsCommand } from './sessions.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await sessionsCommand(['close', '--all'], processIo());
 * ```
 */
export async function sessionsCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values: flags, positionals } = parse<SessionsFlags>('sessions', args, {
    all: { type: 'boolean' },
    json: { type: 'boolean' },
    wallets: { type: 'string' },
    policy: { type: 'string' },
    ledger: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(SESSIONS_HELP);
    return EXIT.ok;
  }
  const [action, ...rest] = positionals;
  const file = homeFiles(io.env).sessions;
  if (action === undefined || action === 'list') {
    if (flags.all) {
      throw new CliError(
        '--all goes with close: write stipend sessions close --all (stipend sessions lists every session)',
        EXIT.usage,
      );
    }
    const sessions = await listSessions(file);
    io.stdout.write(
      flags.json
        ? `${toJson({ file, sessions: sessions.map(sessionView) })}\n`
        : `${renderSessions(sessions, file)}\n`,
    );
    return EXIT.ok;
  }
  if (action !== 'close') {
    throw new CliError(
      `stipend sessions: unknown action "${action}": write stipend sessions (to list) or stipend sessions close <session>|--all`,
      EXIT.usage,
    );
  }
  const [id, extra] = rest;
  if (extra !== undefined) {
    throw new CliError(
      `stipend sessions close takes one session id (got "${id}" and "${extra}"); to close several write --all`,
      EXIT.usage,
    );
  }
  if ((id === undefined) === !flags.all) {
    throw new CliError(
      id === undefined
        ? 'stipend sessions close needs a session id (stipend sessions lists them) or --all'
        : `stipend sessions close takes a session id or --all, not both (got "${id}" and --all)`,
      EXIT.usage,
    );
  }
  const stored = new Map((await listSessions(file)).map((record) => [record.id, record]));
  if (id !== undefined && !stored.has(id)) {
    const known = [...stored.keys()];
    throw new CliError(
      `stipend sessions close: there is no session ${id} in ${file}` +
        (known.length > 0 ? ` (there: ${known.join(', ')})` : ' (it holds none)') +
        '; stipend sessions lists them',
    );
  }
  const targets =
    id !== undefined
      ? [id]
      : [...stored.values()].filter((s) => s.state !== 'closed').map((s) => s.id);
  if (targets.length === 0) {
    io.stdout.write(
      flags.json
        ? `${toJson({ file, sessions: [] })}\n`
        : `Nothing to close: every session in ${file} is closed.\n`,
    );
    return EXIT.ok;
  }

  const { openSession } = await import('./session.js');
  const session = openSession(io, flags);
  const results: SessionInfo[] = [];
  try {
    const api = session.payingFetch.sessions;
    // Sessions left opening (the deposit's outcome unknown) are asked of the rail first.
    if (targets.some((target) => stored.get(target)?.state === 'opening')) {
      session.progress.step('asking the wallet about deposits whose outcome is unknown');
      await api.reconcile();
    }
    for (const target of targets) {
      const current = await api.get(target);
      if (current?.state === 'closed' || current?.state === 'opening') {
        results.push(current);
        continue;
      }
      session.progress.step(`closing ${target} and waiting for the refund`);
      results.push(await api.close(target));
    }
    session.progress.stop();
  } finally {
    await session.close();
  }
  if (flags.json) {
    io.stdout.write(`${toJson({ file, sessions: results.map(sessionView) })}\n`);
  } else {
    for (const result of results) io.stdout.write(`${closeLine(result)}\n`);
  }
  return results.every((result) => result.state === 'closed') ? EXIT.ok : EXIT.error;
}
