/**
 * `stipend quote <url>`: what a request would cost and what the policy would do, before any
 * money moves. The request is sent once, unpaid, through the same paying fetch `stipend fetch`
 * builds (wallets, policy, ledger-backed budgets); `payingFetch.quote` reads the answer. Nothing
 * is signed, no token or invoice is paid, no budget is reserved, nothing is written to the
 * ledger.
 *
 * @module
 */
import {
  type BudgetWindow,
  formatAmount,
  formatUsd,
  parseUsd,
  type Quote,
  type QuotedOffer,
} from '@stipend/client';
import { parse, timeoutMsOf } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { toJsonOutput } from '../output/json.js';
import { renderTable } from '../output/table.js';
import { printable, shortId, windowWords } from '../output/words.js';
import { checkUrl, cliWords, DEFAULT_TIMEOUT_S, requestInit } from './fetch.js';

export const QUOTE_HELP = `Usage: stipend quote <url> [options]

Asks what a request would cost, without paying: sends it once with no payment, reads the
402's offers (x402, L402, MPP), and shows for each its amount, its USD cost with fees, the
payee, when it expires, whether the policy would pay it (and why not), and which wallet would
pay; then the offer a real call would pay. Nothing is signed, paid, reserved or recorded.

Options:
  -X, --method <method>   HTTP method (default GET, or POST with --data)
  -H, --header <h: v>     a request header (repeatable)
  -d, --data <text>       request body; @file reads a file (repeatable, joined with &)
      --max <usd>         per-request cap to quote under, e.g. 0.05 (can only tighten the policy)
      --tag <name>        tag the call for tag rules and budgets (repeatable)
      --timeout <seconds> the longest wait for the server (default ${DEFAULT_TIMEOUT_S})
      --policy <file>     JSON spend policy (default ~/.config/stipend/policy.json)
      --wallets <file>    wallet settings (default ~/.config/stipend/wallets.json; see stipend help wallets)
      --ledger <file>     the spend ledger whose history the budgets count (default ~/.config/stipend/ledger.jsonl)
      --json              print the quote as JSON; every amount is { value, unit, display }
  -h, --help              this help

Exit codes: 0 free, or a real call would pay (perhaps after asking you); 1 error; 2 usage;
3 a real call would pay nothing (the decision says why).
`;

interface QuoteFlags {
  method?: string;
  header?: string[];
  data?: string[];
  max?: string;
  tag?: string[];
  timeout?: string;
  policy?: string;
  wallets?: string;
  ledger?: string;
  json?: boolean;
  help?: boolean;
}

/**
 * Runs `stipend quote`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { quoteCommand } from './quote.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await quoteCommand(['https://api.example.com/paid', '--json'], processIo());
 * ```
 */
export async function quoteCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values: flags, positionals } = parse<QuoteFlags>('quote', args, {
    method: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    data: { type: 'string', short: 'd', multiple: true },
    max: { type: 'string' },
    tag: { type: 'string', multiple: true },
    timeout: { type: 'string' },
    policy: { type: 'string' },
    wallets: { type: 'string' },
    ledger: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(QUOTE_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new CliError(
      'stipend quote: give exactly one URL (see stipend quote --help)',
      EXIT.usage,
    );
  }
  const url = checkUrl(positionals[0]!, 'quote');
  if (flags.max !== undefined) {
    try {
      parseUsd(flags.max);
    } catch {
      throw new CliError(`--max must be a USD amount such as 0.05, not "${flags.max}"`, EXIT.usage);
    }
  }
  const timeoutMs = timeoutMsOf(flags.timeout, DEFAULT_TIMEOUT_S);
  const init = requestInit(flags);
  const { openSession } = await import('./session.js');
  // Never asks anyone: a quote decides nothing, so the approver is never reached.
  const session = openSession(io, { ...flags, timeoutMs });
  session.progress.step(`waiting for ${new URL(url).origin}`);
  try {
    const answer = await session.payingFetch.quote(url, {
      ...init,
      payment: {
        ...(flags.max !== undefined ? { maxUsd: flags.max } : {}),
        ...(flags.tag ? { tags: flags.tag } : {}),
        timeoutMs,
      },
    });
    session.progress.stop();
    if (flags.json) {
      io.stdout.write(
        `${toJsonOutput({ quote: answer, policy: session.policy.source, wallets: session.parts.described })}\n`,
      );
    } else {
      io.stdout.write(renderQuote(answer, { method: (init.method ?? 'GET').toUpperCase() }));
    }
    return wouldPay(answer) ? EXIT.ok : EXIT.refused;
  } finally {
    await session.close();
  }
}

/** Whether a real call would pay (or need not pay at all). */
function wouldPay(answer: Quote): boolean {
  if (answer.kind === 'free') return true;
  if (answer.kind === 'unpayable') return false;
  return answer.decision.outcome !== 'deny';
}

/**
 * A quote as text for people: a table of the offers, each refusal's reason, and the decision.
 * Every text a server chose (payees, reasons) is made printable first.
 *
 * @example
 * ```ts
 * import { renderQuote } from './quote.js';
 * process.stdout.write(renderQuote(await payingFetch.quote(url), { method: 'GET' }));
 * ```
 */
export function renderQuote(
  answer: Quote,
  options: { readonly method: string; readonly now?: number },
): string {
  const now = options.now ?? Date.now();
  const head = `Quote: ${options.method} ${printable(answer.url, 300)} answered ${answer.status}`;
  if (answer.kind === 'free') {
    return `${head} without asking for payment: free. Nothing was paid.\n`;
  }
  if (answer.kind === 'unpayable') {
    const lines = [
      `${head}, but Stipend can pay none of it. Nothing was paid.`,
      `  ${printable(answer.code)}: ${printable(cliWords(answer.reason), 500)}`,
    ];
    for (const refused of answer.refused) {
      lines.push(
        `  - ${printable(refused.protocol)}/${printable(refused.scheme)}: ${printable(cliWords(refused.reason), 500)}`,
      );
    }
    return `${lines.join('\n')}\n`;
  }
  const count = answer.offers.length;
  const lines = [`${head} with ${count} offer${count === 1 ? '' : 's'}. Nothing was paid.`, ''];
  lines.push(
    renderTable(
      ['#', 'offer', 'amount', 'USD with fees', 'payee', 'expires', 'verdict', 'wallet'],
      answer.offers.map((offer, i) => [
        String(i + 1),
        `${printable(offer.protocol, 16)} ${printable(offer.scheme, 32)}`,
        amountText(offer),
        offer.usdMicros !== undefined ? formatUsd(offer.usdMicros) : '?',
        `${shortId(printable(offer.payee, 80))}${offer.payeeVerified ? ' ✓' : ''}`,
        expiry(offer.expiresAt, now),
        verdictText(offer),
        offer.walletId ?? '—',
      ]),
    ),
  );
  for (const [i, offer] of answer.offers.entries()) {
    // Why an offer is skipped; for a payable one, only a balance that was read says something.
    const says = offer.verdict === 'skipped' || offer.funding?.verdict === 'funded';
    if (offer.reason !== undefined && says) {
      lines.push(`  offer ${i + 1}: ${printable(cliWords(offer.reason), 500)}`);
    }
  }
  if (answer.offers.some((offer) => offer.payeeVerified)) {
    lines.push('  ✓ payee verified by the wallet (from the invoice or signed terms)');
  }
  if (answer.budget && answer.budget.length > 0) {
    lines.push('', 'Budget left for it:');
    for (const limit of answer.budget) {
      const parts: string[] = [];
      if (limit.remainingUsdMicros !== undefined && limit.maxUsdMicros !== undefined) {
        parts.push(`${formatUsd(limit.remainingUsdMicros)} of ${formatUsd(limit.maxUsdMicros)}`);
      }
      if (limit.remainingCount !== undefined && limit.maxCount !== undefined) {
        parts.push(`${limit.remainingCount} of ${limit.maxCount} payments`);
      }
      lines.push(`  ${limit.scope} (${windowWords(windowKey(limit.window))}): ${parts.join(', ')}`);
    }
  }
  lines.push('', decisionText(answer));
  return `${lines.join('\n')}\n`;
}

function amountText(offer: QuotedOffer): string {
  const amount = safeAmount(offer.amount);
  return offer.maxFee ? `${amount} + ≤ ${safeAmount(offer.maxFee)} fee` : amount;
}

function verdictText(offer: QuotedOffer): string {
  if (offer.verdict === 'chosen') return '✓ would pay';
  if (offer.verdict === 'payable') return '✓ allowed';
  return `✗ ${printable(offer.code ?? 'skipped', 40)}`;
}

function decisionText(answer: Extract<Quote, { kind: 'priced' }>): string {
  const decision = answer.decision;
  if (decision.outcome === 'deny') {
    return `Decision: would pay nothing (${printable(decision.code, 40)}) — ${printable(cliWords(decision.reason), 500)}.`;
  }
  const index = answer.offers.findIndex((offer) => offer.id === decision.offerId);
  const offer = answer.offers[index];
  const what = offer
    ? `offer ${index + 1} (${printable(offer.protocol, 16)} ${printable(offer.scheme, 32)}, ${formatUsd(decision.usdMicros)})`
    : formatUsd(decision.usdMicros);
  const ask =
    decision.outcome === 'ask'
      ? ` after asking for approval (${decision.approval === 'rule_ask' ? 'the policy asks for every payment here' : 'above approveAbove'})`
      : '';
  return `Decision: would pay ${what} with wallet ${decision.walletId}${ask}.\n  ${printable(cliWords(decision.reason), 500)}`;
}

/** `in 4 min`, `in 30 s`, `expired`, or `—`. */
function expiry(expiresAt: number | undefined, now: number): string {
  if (expiresAt === undefined) return '—';
  const seconds = Math.round((expiresAt - now) / 1000);
  if (seconds <= 0) return 'expired';
  if (seconds < 120) return `in ${seconds} s`;
  if (seconds < 7200) return `in ${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `in ${Math.round(seconds / 3600)} h`;
  return `in ${Math.round(seconds / 86_400)} d`;
}

/** The budget window as `windowWords` reads it (`calendar:day`, `rolling:3600000`, `total`). */
function windowKey(window: BudgetWindow): string {
  if (window.kind === 'calendar') return `calendar:${window.unit}`;
  if (window.kind === 'rolling') return `rolling:${window.ms}`;
  return 'total';
}

function safeAmount(amount: QuotedOffer['amount']): string {
  try {
    return formatAmount(amount);
  } catch {
    return `${amount.value} (unknown unit)`;
  }
}
