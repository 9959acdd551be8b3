/**
 * `stipend reconcile`: settles the purchases held because their outcome is unknown — asks
 * each wallet's lookup, or records a person's answer (`--resolve <record>=paid|void`).
 *
 * @module
 */
import type { SpendRecord } from '@stipend/client';
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { heldRecords } from '../ledger/report.js';
import { isSessionRecord } from '../ledger/sessions-report.js';
import { toJsonOutput } from '../output/json.js';

export const RECONCILE_HELP = `Usage: stipend reconcile [options]

Settles the purchases held because their outcome is unknown (stipend ledger lists them):
asks each configured wallet whether the payment went through — paid ones are booked as
spent, failed ones release their budget — and leaves the others held. The deposit of an
open payment session is not one of them: stipend sessions close settles it.

When you know the answer yourself (you checked the chain, your node or the seller), record
it: --resolve <record>=paid books it as spent; --resolve <record>=void says nothing moved and
releases the budget. Only do that when you are sure: "void" on money that moved undercounts.

Options:
      --resolve <record>=paid|void   a person's answer for one held record (repeatable)
      --wallets <file>               wallet settings (default ~/.config/stipend/wallets.json)
      --policy <file>                the spend policy (default ~/.config/stipend/policy.json)
      --ledger <file>                the ledger (default ~/.config/stipend/ledger.jsonl)
      --json                         print the outcome as JSON
  -h, --help                         this help
`;

interface ReconcileFlags {
  resolve?: string[];
  wallets?: string;
  policy?: string;
  ledger?: string;
  json?: boolean;
  help?: boolean;
}

/** A person's answer for one held purchase (the shape `payingFetch.reconcile` takes). */
export interface Resolution {
  readonly id: string;
  readonly as: 'paid' | 'void';
}

/** `payingFetch.reconcile` with the options the command passes. */
type Reconcile = (options?: { readonly resolve?: Resolution }) => Promise<unknown>;

/**
 * Reads `--resolve <record>=paid|void`.
 *
 * @throws {CliError} exit code 2 when it is not written that way.
 * @example
 * ```ts
 * import { parseResolution } from './reconcile.js';
 * parseResolution('s_123=paid'); // { id: 's_123', as: 'paid' }
 * ```
 */
export function parseResolution(text: string): Resolution {
  const match = /^([^=\s]+)=(paid|void)$/.exec(text.trim());
  if (!match) {
    throw new CliError(
      `--resolve takes <record>=paid or <record>=void (the record id from stipend ledger), not "${text}"`,
      EXIT.usage,
    );
  }
  return { id: match[1]!, as: match[2] as 'paid' | 'void' };
}

/**
 * Runs `stipend reconcile`. Returns the exit code: 0 when nothing is left held that was
 * asked about, 1 otherwise.
 *
 * @example
 * ```ts
 * import { reconcileCommand } from './reconcile.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await reconcileCommand(['--resolve', 's_123=void'], processIo());
 * ```
 */
export async function reconcileCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values: flags, positionals } = parse<ReconcileFlags>('reconcile', args, {
    resolve: { type: 'string', multiple: true },
    wallets: { type: 'string' },
    policy: { type: 'string' },
    ledger: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(RECONCILE_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new CliError(
      `stipend reconcile takes no arguments (got "${positionals[0]}"); to settle one record write --resolve ${positionals[0]}=paid|void`,
      EXIT.usage,
    );
  }
  const resolutions = (flags.resolve ?? []).map(parseResolution);
  const { openSession } = await import('./session.js');
  const session = openSession(io, flags);
  try {
    const held = heldRecords(session.ledger.list());
    for (const resolution of resolutions) {
      const named = session.ledger.get(resolution.id);
      if (named && isSessionRecord(named)) {
        // A session's deposit is at the seller until the session closes: only the close's
        // refund, confirmed on your node, settles it (never a reconcile, never a person's word).
        const id = named.purchaseKey.slice('session:'.length);
        throw new CliError(
          `stipend reconcile: ${resolution.id} belongs to payment session ${id}, which reconcile never settles ` +
            `(its deposit stays counted until the session closes): stipend sessions close ${id} ` +
            'refunds what was not spent and books the rest',
        );
      }
      if (!held.some((record) => record.id === resolution.id)) {
        throw new CliError(
          `stipend reconcile: ${resolution.id} is not a held record in ${session.ledger.path}` +
            (held.length > 0
              ? ` (held: ${held.map((record) => record.id).join(', ')})`
              : ' (nothing is held there)') +
            '; stipend ledger lists them',
        );
      }
    }
    session.progress.step('asking the wallets about the held purchases');
    const reconcile = session.payingFetch.reconcile as Reconcile;
    const results: unknown[] = [];
    if (resolutions.length === 0) results.push(await reconcile());
    for (const resolution of resolutions) results.push(await reconcile({ resolve: resolution }));
    session.progress.stop();

    const after = held.map((record) => session.ledger.get(record.id) ?? record);
    const asked = new Set(resolutions.map((resolution) => resolution.id));
    const unsettled = resolutions.filter(
      (resolution) => session.ledger.get(resolution.id)?.status === 'held',
    );
    if (flags.json) {
      io.stdout.write(
        `${toJsonOutput({
          ledger: session.ledger.path,
          results,
          records: after.map((record) => ({
            id: record.id,
            status: record.status,
            reference: record.reference ?? null,
            reservedUsdMicros: record.reservedUsdMicros,
          })),
        })}\n`,
      );
    } else {
      io.stdout.write(renderOutcome(after, asked, session.ledger.path));
    }
    if (unsettled.length > 0) {
      io.stderr.write(
        `stipend reconcile: ${unsettled.map((r) => r.id).join(', ')} ${unsettled.length === 1 ? 'is' : 'are'} still held: ` +
          'the paying fetch did not apply --resolve (this @stipend/client may not support reconcile({ resolve }) yet)\n',
      );
      return EXIT.error;
    }
    return EXIT.ok;
  } finally {
    await session.close();
  }
}

function renderOutcome(records: readonly SpendRecord[], asked: ReadonlySet<string>, path: string) {
  if (records.length === 0) return `Nothing is held in ${path}: nothing to reconcile.\n`;
  const words: Record<SpendRecord['status'], string> = {
    committed: 'settled: paid (booked as spent)',
    released: 'settled: nothing moved (budget released)',
    held: 'still held (the wallet cannot tell yet)',
    pending: 'pending',
  };
  const lines = records.map(
    (record) =>
      `  ${record.id}  ${words[record.status]}${asked.has(record.id) ? ' — as you said' : ''}`,
  );
  const left = records.filter((record) => record.status === 'held').length;
  return (
    `Reconciled ${records.length} held purchase${records.length === 1 ? '' : 's'} in ${path}:\n` +
    `${lines.join('\n')}\n` +
    (left > 0
      ? `${left} still held: try again later, or settle one with --resolve <record>=paid|void.\n`
      : '')
  );
}
