/**
 * How the command asks a person to approve a payment: `--yes` approves, a terminal gets a
 * prompt, and anything else is refused with a message that says how to approve.
 *
 * @module
 */
import { createInterface } from 'node:readline';
import { type ApprovalRequest, type Approver, formatAmount, formatUsd } from '@stipend/client';
import type { CliIo } from '../io.js';
import { shortId, windowWords } from '../output/words.js';

/** Options of {@link cliApprover}. */
export interface CliApproverOptions {
  readonly io: CliIo;
  /** `--yes`: approve every payment the policy sends for approval. */
  readonly yes: boolean;
  /** Names for payees and origins (the demo's directory), shown next to the ids. */
  readonly names?: (id: string) => string | undefined;
}

/**
 * Describes an approval request in one sentence, with what the budgets keep afterwards.
 *
 * @example
 * ```ts
 * import { describeApproval } from './approver.js';
 * describeApproval(request); // 'Pay $0.50 (50 cents via mpp stripe.charge) to profile_x for GET http://…/article? …'
 * ```
 */
export function describeApproval(
  request: ApprovalRequest,
  names?: (id: string) => string | undefined,
): string {
  const who = names?.(request.payee) ?? names?.(request.origin);
  const payee =
    request.payee === 'unverified'
      ? (who ?? 'an unnamed payee')
      : who
        ? `${who} (${shortId(request.payee)})`
        : shortId(request.payee);
  const why =
    request.why === 'rule_ask'
      ? 'the policy asks for every payment here'
      : 'it is above the approval threshold';
  const left = request.remaining
    .map(
      (r) => `${formatUsd(r.usdMicros)} left in the ${r.scope} budget per ${windowWords(r.window)}`,
    )
    .join(', ');
  return (
    `Pay ${formatUsd(request.usdMicros)} (${formatAmount(request.amount)} via ${request.protocol} ${request.scheme}) ` +
    `to ${payee} for ${request.method} ${request.resource}? Asked because ${why}` +
    (left ? `; afterwards ${left}.` : '.')
  );
}

/**
 * The command's approver.
 *
 * - `--yes`: approves, and says so on stderr.
 * - stdin is a terminal, or `STIPEND_INTERACTIVE=1`: asks on stderr, reads `y`/`yes` from stdin.
 * - otherwise: refuses, saying to pass `--yes` or run in a terminal.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { cliApprover } from './approver.js';
 * import { processIo } from '../io.js';
 * const payingFetch = createPayingFetch({ wallets, approver: cliApprover({ io: processIo(), yes: false }) });
 * ```
 */
export function cliApprover(options: CliApproverOptions): Approver {
  const { io } = options;
  return async (request, { signal }) => {
    const question = describeApproval(request, options.names);
    if (options.yes) {
      io.stderr.write(`approved by --yes: ${question}\n`);
      return true;
    }
    const interactive = io.stdin.isTTY === true || io.env.STIPEND_INTERACTIVE === '1';
    if (!interactive) {
      throw new Error(
        `this payment needs a person's approval (${question}) and stdin is not a terminal to ask on: pass --yes to approve it, or run the command in a terminal`,
      );
    }
    return ask(io, `${question}\nApprove? [y/N] `, signal);
  };
}

/** Asks on stderr and reads one line from stdin; EOF or an abort is a no. */
function ask(io: CliIo, prompt: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, terminal: false });
    let done = false;
    const finish = (answer: boolean) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      io.stderr.write(answer ? 'approved\n' : 'not approved\n');
      resolve(answer);
    };
    const onAbort = () => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    rl.once('line', (line) => finish(/^\s*y(es)?\s*$/i.test(line)));
    rl.once('close', () => finish(false));
    io.stderr.write(prompt);
  });
}
