/**
 * Payment sessions for people and scripts: the `stipend sessions` table, its `--json` shape,
 * and the line that says how a close ended. Secret-free: everything goes through
 * `publicSession` (the bearer preimage never reaches an output).
 *
 * @module
 */
import {
  formatAmount,
  msat,
  publicSession,
  type SessionInfo,
  type SessionRecord,
} from '@stipend/client';
import type { JsonAmount } from '../output/json.js';
import { renderTable } from '../output/table.js';

/** One session as `stipend sessions --json` writes it. */
export interface SessionView {
  readonly id: string;
  readonly origin: string;
  readonly method: string;
  readonly state: SessionInfo['state'];
  readonly deposit: JsonAmount;
  readonly spent: JsonAmount;
  readonly refunded: JsonAmount;
  readonly uses: number;
  readonly openedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly closedAt: string | null;
  /** Why it is not settled (a refund pending, an unknown outcome), secret-free. */
  readonly problem: { readonly code: string; readonly message: string } | null;
}

/**
 * A session amount (atomic units of its unit key) for people and scripts.
 *
 * @example
 * ```ts
 * import { sessionAmount } from './render.js';
 * sessionAmount(40_000n, 'lightning:msat').display; // '40 sat'
 * ```
 */
export function sessionAmount(value: bigint, unit: string): JsonAmount {
  const display = unit === 'lightning:msat' ? formatAmount(msat(value)) : `${value} ${unit}`;
  return { value: value.toString(), unit, display };
}

/**
 * The secret-free view of a stored session.
 *
 * @example
 * ```ts
 * import { sessionView } from './render.js';
 * const views = (await store.list()).map(sessionView);
 * ```
 */
export function sessionView(session: SessionRecord | SessionInfo): SessionView {
  const s = publicSession(session as SessionRecord);
  const at = (ms: number | undefined) => (ms === undefined ? null : isoSeconds(ms));
  return {
    id: s.id,
    origin: s.origin,
    method: s.method,
    state: s.state,
    deposit: sessionAmount(s.depositAtomic, s.unit),
    spent: sessionAmount(s.spentAtomic, s.unit),
    refunded: sessionAmount(s.refundedAtomic, s.unit),
    uses: s.uses,
    openedAt: at(s.openedAt),
    lastUsedAt: at(s.lastUsedAt),
    closedAt: at(s.closedAt),
    problem: s.state === 'closed' || !s.failure ? null : { ...s.failure },
  };
}

/** What each state means, in a few words. */
const STATE_WORDS: Readonly<Record<SessionInfo['state'], string>> = {
  opening: 'opening (deposit outcome unknown)',
  open: 'open',
  closing: 'closing (refund pending)',
  closed: 'closed',
  unknown: 'outcome unknown',
};

/**
 * The sessions as a table, with what to do about the live ones; a sentence when there are none.
 *
 * @example
 * ```ts
 * import { renderSessions } from './render.js';
 * console.log(renderSessions(await store.list(), 'sessions.jsonl'));
 * ```
 */
export function renderSessions(sessions: readonly SessionRecord[], file: string): string {
  if (sessions.length === 0) {
    return `No payment sessions in ${file}: stipend fetch opens one when a seller offers an MPP session (lightning).`;
  }
  const views = sessions.map(sessionView);
  const table = renderTable(
    ['session', 'origin', 'method', 'state', 'deposit', 'spent', 'refunded', 'opened', 'last used'],
    views.map((v) => [
      v.id,
      v.origin,
      v.method,
      STATE_WORDS[v.state],
      v.deposit.display,
      `${v.spent.display} (${v.uses} use${v.uses === 1 ? '' : 's'})`,
      v.refunded.display,
      v.openedAt ?? '—',
      v.lastUsedAt ?? '—',
    ]),
    { right: [4, 5, 6] },
  );
  const live = views.filter((v) => v.state !== 'closed');
  const hint =
    live.length === 0
      ? 'Every session is closed.'
      : `${live.length} not closed: their deposits stay counted in your budget until they are. ` +
        'Close one with: stipend sessions close <session>   or all with: stipend sessions close --all';
  return `${table}\n\n${hint}`;
}

/**
 * How a close ended, for people: what was refunded, or what is still pending and what to run.
 *
 * @example
 * ```ts
 * import { closeLine } from './render.js';
 * console.log(closeLine(await payingFetch.sessions.close(id)));
 * ```
 */
export function closeLine(session: SessionInfo): string {
  const v = sessionView(session);
  const money = `deposit ${v.deposit.display}, spent ${v.spent.display} (${v.uses} use${v.uses === 1 ? '' : 's'})`;
  const again = `run stipend sessions close ${v.id} again`;
  switch (session.state) {
    case 'closed':
      return `✓ ${v.id} closed: ${money}, refunded ${v.refunded.display} (confirmed on your node).`;
    case 'closing':
      return (
        `… ${v.id} is closed at ${v.origin}, but the refund has not reached your node yet: ${money}; ` +
        `the unspent deposit stays counted in your budget until it arrives. To check for it, ${again} later.`
      );
    case 'opening':
      return `? ${v.id} is still opening: the deposit payment's outcome is not known yet; ${again} later.`;
    default: {
      const why = session.failure ? ` (${cliWords(session.failure)})` : '';
      if (session.failure?.code === 'CONFIG_INVALID') {
        return `✗ ${v.id} cannot be closed from here${why}: configure the wallet ${session.walletId} (see stipend help wallets), then ${again}.`;
      }
      return `? ${v.id}: the close did not finish${why}; ${money}, the deposit stays counted. ${again[0]!.toUpperCase()}${again.slice(1)} to retry.`;
    }
  }
}

/** A core failure message without the library's own advice (it names the JavaScript API). */
function cliWords(failure: { readonly code: string; readonly message: string }): string {
  return `${failure.code}: ${failure.message.replace(/;?\s*reconcile with payingFetch\.sessions\.reconcile\(\)\.?/, '').replace(/\.$/, '')}`;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
