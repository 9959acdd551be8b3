/**
 * `stipend ledger`: what was spent, per host and rail, and exports of the records.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import type { SessionRecord } from '@stipend/client';
import { parse } from '../args.js';
import { homeFiles } from '../home.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { formatJsonl, readLedgerFile } from '../ledger/jsonl.js';
import {
  formatCsv,
  heldRecords,
  ledgerTotals,
  renderHeld,
  renderTotals,
} from '../ledger/report.js';
import { renderSessionTotals, sessionTotals } from '../ledger/sessions-report.js';
import { toJsonOutput } from '../output/json.js';
import { listSessions } from '../sessions/list.js';
import { sessionAmount } from '../sessions/render.js';

export const LEDGER_HELP = `Usage: stipend ledger [options]

Shows what the ledger records: first the purchases held because their outcome is unknown
(with the reference to look them up; stipend reconcile settles them), then payments and USD
spent per host and rail, then payment sessions (deposit, spent, refunded; the refund comes
from sessions.jsonl beside the ledger's default place).

Options:
      --ledger <file>          the ledger (default ~/.config/stipend/ledger.jsonl, or STIPEND_LEDGER)
      --export <jsonl|csv>     print every record instead (JSON lines or CSV)
      --json                   print the held records and the totals as JSON (amounts as
                               { value, unit, display })
  -h, --help                   this help
`;

/**
 * Runs `stipend ledger`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { ledgerCommand } from './ledger.js';
 * import { processIo } from '../io.js';
 * await ledgerCommand(['--export', 'csv'], processIo());
 * ```
 */
export async function ledgerCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse<{
    ledger?: string;
    export?: string;
    json?: boolean;
    help?: boolean;
  }>('ledger', args, {
    ledger: { type: 'string' },
    export: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(LEDGER_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new CliError(`stipend ledger takes no arguments (got "${positionals[0]}")`, EXIT.usage);
  }
  if (values.export !== undefined && values.export !== 'jsonl' && values.export !== 'csv') {
    throw new CliError(`--export must be jsonl or csv, not "${values.export}"`, EXIT.usage);
  }
  const path = values.ledger ?? homeFiles(io.env).ledger;
  const named = values.ledger !== undefined || io.env.STIPEND_LEDGER !== undefined;
  if (named && !existsSync(path)) {
    const how = values.ledger !== undefined ? '--ledger' : 'STIPEND_LEDGER';
    throw new CliError(
      `stipend ledger: there is no ledger file at ${path} (${how}): check the path; ` +
        `stipend fetch writes ${homeFiles({ ...io.env, STIPEND_LEDGER: undefined }).ledger} unless given --ledger`,
    );
  }
  let records: ReturnType<typeof readLedgerFile>;
  try {
    records = readLedgerFile(path);
  } catch (error) {
    throw new CliError(`Cannot read the ledger: ${(error as Error).message}`);
  }
  const sessions = await readSessionsQuietly(homeFiles(io.env).sessions);
  if (values.export === 'jsonl') {
    io.stdout.write(formatJsonl(records));
  } else if (values.export === 'csv') {
    io.stdout.write(formatCsv(records));
  } else if (values.json) {
    io.stdout.write(
      `${toJsonOutput({
        ledger: path,
        records: records.length,
        held: heldRecords(records),
        totals: ledgerTotals(records),
        sessions: sessionTotals(records, sessions).map((t) => ({
          ...t,
          deposit: sessionAmount(t.depositAtomic, t.unit),
          spent: sessionAmount(t.spentAtomic, t.unit),
          refunded: t.refundedAtomic === undefined ? null : sessionAmount(t.refundedAtomic, t.unit),
        })),
      })}\n`,
    );
  } else {
    io.stdout.write(
      `Ledger ${path} (${records.length} record${records.length === 1 ? '' : 's'})\n\n`,
    );
    const held = renderHeld(records);
    if (held) io.stdout.write(`${held}\n\n`);
    const sessionTable = renderSessionTotals(records, sessions);
    if (sessionTable) io.stdout.write(`${sessionTable}\n\n`);
    io.stdout.write(`${renderTotals(records)}\n`);
  }
  return EXIT.ok;
}

/** The session journal, for the refunds the ledger cannot know; empty when unreadable. */
async function readSessionsQuietly(file: string): Promise<ReadonlyMap<string, SessionRecord>> {
  try {
    return new Map((await listSessions(file)).map((record) => [record.id, record]));
  } catch {
    return new Map();
  }
}
