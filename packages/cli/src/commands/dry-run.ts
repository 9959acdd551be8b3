/**
 * `stipend fetch --dry-run`: sends the request once without paying, reads the 402's offers
 * with the same adapters, and asks the policy engine what it would do — no budget is
 * reserved, no wallet signs, nobody is asked.
 *
 * @module
 */

import {
  type ChallengeInput,
  formatAmount,
  formatUsd,
  isStipendError,
  matchHost,
  type OfferEvaluation,
  type PaymentOffer,
  parseWwwAuthenticateLenient,
  type Rule,
  railOf,
  unitKey,
  type Wallet,
} from '@stipend/client';
import { readTextBounded } from '@stipend/client/internal';
import type { JsonAmount } from '../output/json.js';
import { renderTable } from '../output/table.js';
import { refusalHints } from '../wallets/missing.js';
import type { PayingSession } from './session.js';

/** What the dry run found for one offer. */
export interface DryRunOffer {
  readonly index: number;
  readonly id: string;
  readonly protocol: string;
  readonly scheme: string;
  readonly amount: string;
  readonly unit: string;
  readonly atomic: bigint;
  readonly maxFee?: string;
  /** The maximum fee in atomic units of {@link DryRunOffer.maxFeeUnit}. */
  readonly maxFeeAtomic?: bigint;
  readonly maxFeeUnit?: string;
  readonly usdMicros?: bigint;
  readonly payee: string;
  readonly network?: string;
  readonly allowed: boolean;
  readonly code?: string;
  readonly reason?: string;
}

/** The dry run's report. */
export interface DryRunReport {
  readonly url: string;
  readonly method: string;
  readonly status: number;
  /** True when the server asked for a payment Stipend could read. */
  readonly paymentAsked: boolean;
  readonly offers: readonly DryRunOffer[];
  /** Challenges that could not be read. */
  readonly errors: readonly string[];
  readonly decision:
    | {
        readonly pay: true;
        readonly offerIndex: number;
        readonly walletId: string;
        readonly usdMicros: bigint;
        readonly approval: 'needed' | 'not needed';
      }
    | { readonly pay: false; readonly reason: string };
  readonly hints: readonly string[];
}

/**
 * Runs the dry run of one request.
 *
 * @example
 * ```ts
 * import { dryRun } from './dry-run.js';
 * const report = await dryRun(session, 'http://127.0.0.1:4021/weather', { method: 'GET' }, {});
 * report.decision; // { pay: true, offerIndex: 0, walletId: 'evm:0x…', usdMicros: 1000n, approval: 'not needed' }
 * ```
 */
export async function dryRun(
  session: PayingSession,
  url: string,
  init: RequestInit,
  options: { readonly maxUsd?: string; readonly tags?: readonly string[] },
): Promise<DryRunReport> {
  const method = (init.method ?? 'GET').toUpperCase();
  const response = await session.payingFetch(url, { ...init, payment: { pay: false } });
  const base = { url, method, status: response.status };
  if (response.status !== 402 && response.status !== 412) {
    await response.body?.cancel();
    return {
      ...base,
      paymentAsked: false,
      offers: [],
      errors: [],
      decision: {
        pay: false,
        reason: `the server answered ${response.status} without asking for payment`,
      },
      hints: [],
    };
  }
  const input = await challengeInput(response, url, method);
  const offers: PaymentOffer[] = [];
  const errors: string[] = [];
  for (const adapter of session.parts.adapters) {
    if (!adapter.detect(input)) continue;
    try {
      for (const offer of await adapter.parse(input)) {
        if (offer.origin === input.url.origin) offers.push(offer);
        else
          errors.push(
            `${adapter.protocol}: an offer for another origin (${offer.origin}) was ignored`,
          );
      }
    } catch (error) {
      errors.push(`${adapter.protocol}: ${errorText(error)}`);
    }
  }
  if (offers.length === 0) {
    const hints = refusalHints(
      deniedInErrors(errors),
      session.parts.wallets,
      session.settings.file,
      errors,
    );
    return {
      ...base,
      paymentAsked: errors.length > 0,
      offers: [],
      errors,
      decision: {
        pay: false,
        reason:
          errors.length > 0
            ? 'the 402 carried no offer Stipend could read'
            : 'the 402 carried no payment terms Stipend understands',
      },
      hints,
    };
  }

  const wallets = session.parts.wallets;
  const walletFor = async (offer: PaymentOffer): Promise<Wallet | string> => {
    const rail = railOf(offer);
    const candidates = wallets.filter((wallet) => wallet.rails.includes(rail));
    if (candidates.length === 0) return `no wallet configured for ${rail}`;
    const reasons: string[] = [];
    for (const wallet of candidates) {
      const answer = await wallet.canPay(offer);
      if (answer === true) return wallet;
      reasons.push(`${wallet.id}: ${answer}`);
    }
    return reasons.join('; ');
  };
  const override: Rule | undefined =
    options.maxUsd !== undefined ? { maxPerRequest: { usd: options.maxUsd } } : undefined;
  const engine = session.payingFetch.engine;
  const evaluations = await engine.evaluate(offers, {
    url: input.url,
    ...(options.tags ? { tags: options.tags } : {}),
    ...(override ? { override } : {}),
    canPay: async (offer) => {
      const found = await walletFor(offer);
      return typeof found === 'string' ? found : true;
    },
  });
  const report = evaluations.map(describe);
  const chosen = rank(evaluations, engine.policy.prefer)[0];
  const hints = chosen
    ? []
    : refusalHints(
        [
          ...report.flatMap((o) =>
            o.allowed ? [] : [{ ...o, code: o.code ?? '', reason: o.reason ?? '' }],
          ),
          ...deniedInErrors(errors),
        ],
        wallets,
        session.settings.file,
        errors,
      );
  if (!chosen) {
    return {
      ...base,
      paymentAsked: true,
      offers: report,
      errors,
      decision: { pay: false, reason: 'the policy allows no offer that a wallet can pay' },
      hints,
    };
  }
  const wallet = (await walletFor(chosen.offer)) as Wallet;
  return {
    ...base,
    paymentAsked: true,
    offers: report,
    errors,
    decision: {
      pay: true,
      offerIndex: chosen.index,
      walletId: wallet.id,
      usdMicros: chosen.usdMicros!,
      approval: needsApproval(session, input.url, options.tags ?? [], chosen.usdMicros!)
        ? 'needed'
        : 'not needed',
    },
    hints,
  };
}

function errorText(error: unknown): string {
  if (!isStipendError(error)) return String((error as Error)?.message ?? error);
  const more = error.metaMessages.map((line) => line.replace(/^\s*-\s*/, '')).join('; ');
  return more ? `${error.shortMessage} (${more})` : error.shortMessage;
}

/** Cheapest first, then the policy's preference, then the order given (as the engine ranks). */
function rank(
  evaluations: readonly OfferEvaluation[],
  prefer: readonly string[],
): OfferEvaluation[] {
  const preference = (offer: PaymentOffer) => {
    const at = prefer.findIndex(
      (entry) => entry === offer.protocol.toLowerCase() || entry === railOf(offer).toLowerCase(),
    );
    return at === -1 ? prefer.length : at;
  };
  return evaluations
    .filter((e) => e.ok && e.usdMicros !== undefined)
    .sort((a, b) => {
      if (a.usdMicros! !== b.usdMicros!) return a.usdMicros! < b.usdMicros! ? -1 : 1;
      const p = preference(a.offer) - preference(b.offer);
      return p !== 0 ? p : a.index - b.index;
    });
}

/** Whether a payment of `usdMicros` would be sent to the approver under the policy. */
function needsApproval(
  session: PayingSession,
  url: URL,
  tags: readonly string[],
  usdMicros: bigint,
): boolean {
  const compiled = session.payingFetch.engine.policy;
  const rules = [
    compiled.global,
    ...compiled.hosts.filter((rule) => rule.key !== undefined && matchHost(rule.key, url.hostname)),
    ...tags.flatMap((tag) => {
      const rule = compiled.tags.get(tag);
      return rule ? [rule] : [];
    }),
  ];
  if (rules.some((rule) => rule.action === 'ask')) return true;
  return rules.some((rule) => rule.approveAbove !== undefined && usdMicros > rule.approveAbove);
}

function describe(evaluation: OfferEvaluation): DryRunOffer {
  const offer = evaluation.offer;
  const unit = safeUnit(offer.amount);
  return {
    index: evaluation.index,
    id: offer.id,
    protocol: offer.protocol,
    scheme: offer.scheme,
    amount: safeAmount(offer.amount),
    unit,
    atomic: offer.amount.value,
    ...(offer.maxFee
      ? {
          maxFee: safeAmount(offer.maxFee),
          maxFeeAtomic: offer.maxFee.value,
          maxFeeUnit: safeUnit(offer.maxFee),
        }
      : {}),
    ...(evaluation.usdMicros !== undefined ? { usdMicros: evaluation.usdMicros } : {}),
    payee: offer.payee,
    ...(offer.network !== undefined ? { network: offer.network } : {}),
    allowed: evaluation.ok,
    ...(evaluation.ok ? {} : { code: evaluation.code, reason: evaluation.reason }),
  };
}

function safeUnit(amount: PaymentOffer['amount']): string {
  try {
    return unitKey(amount.unit);
  } catch {
    return 'unknown';
  }
}

/** Offers an adapter refused while reading (`x402: … (x402/exact: asset … is not a known asset …)`). */
function deniedInErrors(errors: readonly string[]) {
  return errors.flatMap((error) => {
    const protocol = /^(\w+):/.exec(error)?.[1];
    if (protocol === undefined) return [];
    const scheme = new RegExp(`${protocol}/([\\w.]+)`).exec(error)?.[1] ?? '';
    const code = /not a known asset|unknown (token|asset)/i.test(error)
      ? 'asset_not_allowed'
      : 'no_offers';
    return [{ protocol, scheme, code, reason: error }];
  });
}

/**
 * The dry run for `--json`: each offer's amount and maximum fee as `{ value, unit, display }`.
 *
 * @example
 * ```ts
 * import { dryRunJson } from './dry-run.js';
 * dryRunJson(report).offers[0].amount; // { value: '1000', unit: 'eip155:…/0x…', display: '0.001 USDC' }
 * ```
 */
export function dryRunJson(report: DryRunReport): Record<string, unknown> {
  return {
    ...report,
    offers: report.offers.map((offer) => {
      const { atomic, unit, maxFee, maxFeeAtomic, maxFeeUnit, ...rest } = offer;
      const amount: JsonAmount = { value: atomic.toString(), unit, display: offer.amount };
      const fee: JsonAmount | undefined =
        maxFee !== undefined && maxFeeAtomic !== undefined
          ? { value: maxFeeAtomic.toString(), unit: maxFeeUnit ?? 'unknown', display: maxFee }
          : undefined;
      return { ...rest, amount, ...(fee ? { maxFee: fee } : {}) };
    }),
  };
}

function safeAmount(amount: PaymentOffer['amount']): string {
  try {
    return formatAmount(amount);
  } catch {
    return `${amount.value} (unknown unit)`;
  }
}

/** Largest 402 body read (as the core's default `maxChallengeBytes`). */
const MAX_CHALLENGE_BYTES = 64 * 1024;

/**
 * The view of a 402 the adapters take, built as the core builds it. The body is read here,
 * bounded, so nothing is left half-read (no clone whose cancellation would wait on the other).
 */
async function challengeInput(
  response: Response,
  url: string,
  method: string,
): Promise<ChallengeInput> {
  const header = response.headers.get('www-authenticate');
  const challenges = header ? parseWwwAuthenticateLenient(header).challenges : [];
  // The one bounded reader: capped in bytes and in time (a seller may drip its 402 forever).
  const text = await readTextBounded(response, MAX_CHALLENGE_BYTES);
  return {
    status: response.status,
    headers: response.headers,
    url: new URL(response.url || url),
    method,
    challenges,
    now: Date.now(),
    bodyText: () => Promise.resolve(text),
  };
}

/**
 * The dry run as text for people.
 *
 * @example
 * ```ts
 * import { renderDryRun } from './dry-run.js';
 * process.stderr.write(renderDryRun(report));
 * ```
 */
export function renderDryRun(report: DryRunReport): string {
  const lines: string[] = [];
  const head = `Dry run: ${report.method} ${report.url} answered ${report.status}`;
  if (!report.paymentAsked) {
    lines.push(`${head} without asking for payment. Nothing to pay.`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `${head} with ${report.offers.length} offer${report.offers.length === 1 ? '' : 's'}. Nothing was paid.`,
  );
  if (report.offers.length > 0) {
    const chosen = report.decision.pay ? report.decision.offerIndex : -1;
    lines.push(
      '',
      renderTable(
        ['#', 'offer', 'amount', 'max fee', 'USD', 'payee', 'verdict'],
        report.offers.map((o) => [
          String(o.index + 1),
          `${o.protocol} ${o.scheme}`,
          o.amount,
          o.maxFee ?? '—',
          o.usdMicros !== undefined ? formatUsd(o.usdMicros) : '?',
          o.payee.length > 24 ? `${o.payee.slice(0, 10)}…${o.payee.slice(-6)}` : o.payee,
          o.index === chosen ? '✓ would pay' : o.allowed ? '✓ allowed' : `✗ ${o.code}`,
        ]),
      ),
    );
    for (const o of report.offers) {
      if (!o.allowed) lines.push(`  offer ${o.index + 1}: ${o.reason}`);
    }
  }
  for (const error of report.errors) lines.push(`  unreadable: ${error}`);
  lines.push('');
  if (report.decision.pay) {
    const o = report.offers.find(
      (x) => x.index === (report.decision as { offerIndex: number }).offerIndex,
    )!;
    lines.push(
      `Decision: would pay offer ${o.index + 1} (${o.protocol} ${o.scheme}, ${formatUsd(report.decision.usdMicros)}) with wallet ${report.decision.walletId}; approval ${report.decision.approval}.`,
    );
  } else {
    lines.push(`Decision: would pay nothing — ${report.decision.reason}.`);
  }
  for (const hint of report.hints) lines.push(`  ${hint}`);
  return `${lines.join('\n')}\n`;
}
