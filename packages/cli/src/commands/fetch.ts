/**
 * `stipend fetch <url>`: a small curl for paid APIs.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  formatAmount,
  formatUsd,
  getCredentialUse,
  getPayment,
  isStipendError,
  type PolicyDeniedError,
  parseUsd,
  type StipendError,
  unitKey,
} from '@stipend/client';
import { parse, timeoutMsOf } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { toJsonOutput } from '../output/json.js';
import { type RefusedOffer, refusalHints } from '../wallets/missing.js';
import { dryRun, dryRunJson, renderDryRun } from './dry-run.js';
import type { PayingSession } from './session.js';

/** `--timeout` when not given, in seconds. */
export const DEFAULT_TIMEOUT_S = 60;

export const FETCH_HELP = `Usage: stipend fetch <url> [options]

Sends an HTTP request; when the server answers 402 Payment Required (x402, L402 or MPP),
pays it within the policy with a configured wallet and retries once.

Options:
  -X, --method <method>   HTTP method (default GET, or POST with --data)
  -H, --header <h: v>     a request header (repeatable)
  -d, --data <text>       request body; @file reads a file (repeatable, joined with &)
      --max <usd>         per-request cap for this call, e.g. 0.05 (can only tighten the policy)
      --timeout <seconds> the longest wait for the server, each time it is asked (default ${DEFAULT_TIMEOUT_S})
      --policy <file>     JSON spend policy (default ~/.config/stipend/policy.json, else
                          $0.10 per request and $1 per UTC day)
      --wallets <file>    wallet settings (default ~/.config/stipend/wallets.json); STIPEND_*
                          environment variables override it (see stipend help wallets)
      --ledger <file>     the spend ledger (default ~/.config/stipend/ledger.jsonl)
      --tag <name>        tag the call for tag rules and budgets (repeatable)
      --dry-run           show the offers and what the policy would decide; pay nothing
  -y, --yes               approve payments the policy sends for approval
  -i, --include           print the response status line and headers
      --json              print one JSON object (status, headers, body, payment, record);
                          every amount is { value, unit, display } (unit "usd:micro" for USD)
  -h, --help              this help

A payment above the policy's approval threshold is asked on the terminal ([y/N]); without a
terminal it is refused unless --yes is given (STIPEND_INTERACTIVE=1 asks on a piped stdin).
Exit codes: 0 a response was received, 1 error, 2 usage, 3 payment refused, 4 payment failed.
`;

interface FetchFlags {
  method?: string;
  header?: string[];
  data?: string[];
  max?: string;
  timeout?: string;
  policy?: string;
  wallets?: string;
  ledger?: string;
  tag?: string[];
  'dry-run'?: boolean;
  yes?: boolean;
  include?: boolean;
  json?: boolean;
  help?: boolean;
}

/**
 * Runs `stipend fetch`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { fetchCommand } from './fetch.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await fetchCommand(['https://api.example.com/paid', '--max', '0.05'], processIo());
 * ```
 */
export async function fetchCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values: flags, positionals } = parse<FetchFlags>('fetch', args, {
    method: { type: 'string', short: 'X' },
    header: { type: 'string', short: 'H', multiple: true },
    data: { type: 'string', short: 'd', multiple: true },
    max: { type: 'string' },
    timeout: { type: 'string' },
    policy: { type: 'string' },
    wallets: { type: 'string' },
    ledger: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    include: { type: 'boolean', short: 'i' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(FETCH_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new CliError(
      'stipend fetch: give exactly one URL (see stipend fetch --help)',
      EXIT.usage,
    );
  }
  const url = checkUrl(positionals[0]!);
  if (flags.max !== undefined) {
    try {
      parseUsd(flags.max);
    } catch {
      throw new CliError(`--max must be a USD amount such as 0.05, not "${flags.max}"`, EXIT.usage);
    }
  }
  const timeoutMs = timeoutMsOf(flags.timeout, DEFAULT_TIMEOUT_S);
  const init = requestInit(flags);
  // Wallet libraries (viem, the Lightning and Stripe wallets) load only past --help.
  const { openSession } = await import('./session.js');
  const session = openSession(io, { ...flags, timeoutMs });
  session.progress.step(`waiting for ${new URL(url).origin}`);
  try {
    if (flags['dry-run']) {
      const report = await dryRun(session, url, init, {
        ...(flags.max !== undefined ? { maxUsd: flags.max } : {}),
        ...(flags.tag ? { tags: flags.tag } : {}),
      });
      session.progress.stop();
      if (flags.json) {
        io.stdout.write(
          `${toJsonOutput({ dryRun: true, policy: session.policy.source, ...dryRunJson(report) })}\n`,
        );
      } else {
        io.stdout.write(renderDryRun(report));
      }
      return report.paymentAsked && !report.decision.pay ? EXIT.refused : EXIT.ok;
    }
    return await paidFetch(session, url, init, { ...flags, timeoutMs }, io);
  } catch (error) {
    throw timeoutProblem(error, timeoutMs) ?? error;
  } finally {
    await session.close();
  }
}

/** A deadline that passed, as one message naming --timeout; `undefined` for anything else. */
function timeoutProblem(error: unknown, timeoutMs: number): CliError | undefined {
  const codes: string[] = [];
  let message = '';
  for (
    let current = error as
        | { code?: unknown; cause?: unknown; name?: unknown; message?: unknown }
        | undefined,
      depth = 0;
    current && depth < 5;
    current = current.cause as typeof current, depth++
  ) {
    if (typeof current.code === 'string') codes.push(current.code);
    if (typeof current.name === 'string') codes.push(current.name);
    if (!message && typeof current.message === 'string') message = current.message;
  }
  const timedOut = codes.some((code) => /TIMEOUT/i.test(code) && !/APPROVAL/i.test(code));
  if (!timedOut || isStipendError(error)) return undefined;
  return new CliError(
    `stipend fetch: the server did not answer within ${timeoutMs / 1000} s (${message || 'timeout'}); ` +
      'try again later, or allow longer with --timeout <seconds>',
  );
}

async function paidFetch(
  session: PayingSession,
  url: string,
  init: RequestInit,
  flags: FetchFlags & { readonly timeoutMs: number },
  io: CliIo,
): Promise<number> {
  let response: Response;
  try {
    response = await session.payingFetch(url, {
      ...init,
      payment: {
        ...(flags.max !== undefined ? { maxUsd: flags.max } : {}),
        ...(flags.tag ? { tags: flags.tag } : {}),
        timeoutMs: flags.timeoutMs,
      },
    });
  } catch (error) {
    session.progress.stop();
    if (!isStipendError(error)) throw timeoutProblem(error, flags.timeoutMs) ?? error;
    return reportFailure(error, session, flags, io);
  }
  const payment = getPayment(response);
  const credential = getCredentialUse(response);
  session.progress.step(`reading the response from ${new URL(response.url || url).origin}`);
  const bytes = await readBody(response, flags.timeoutMs);
  session.progress.stop();
  if (flags.json) {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    const type = response.headers.get('content-type') ?? '';
    let json: unknown;
    if (/\bjson\b/i.test(type)) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    io.stdout.write(
      `${toJsonOutput({
        url: response.url || url,
        method: (init.method ?? 'GET').toUpperCase(),
        status: response.status,
        statusText: response.statusText,
        headers,
        body: text,
        ...(json !== undefined ? { json } : {}),
        payment: payment
          ? {
              status: payment.status,
              record: payment.record,
              ...(payment.receipt ? { receipt: payment.receipt } : {}),
              ...(payment.error ? { error: errorJson(payment.error) } : {}),
            }
          : null,
        credentialReused: credential ?? null,
        policy: session.policy.source,
        ledger: session.ledger.path,
      })}\n`,
    );
    return EXIT.ok;
  }
  if (flags.include) {
    io.stdout.write(`HTTP ${response.status} ${response.statusText}\n`);
    response.headers.forEach((value, name) => {
      io.stdout.write(`${name}: ${value}\n`);
    });
    io.stdout.write('\n');
  }
  io.stdout.write(bytes);
  if (payment) {
    const r = payment.record;
    const cost = formatUsd(r.committedUsdMicros ?? r.reservedUsdMicros);
    const payee = r.payee === 'unverified' ? 'a payee the invoice does not name' : r.payee;
    const what = `${formatAmount(r.amount)} via ${r.protocol}:${r.scheme} to ${payee}`;
    if (payment.status === 'paid') {
      io.stderr.write(`stipend: paid ${cost} (${what}); ledger record ${r.id}\n`);
    } else {
      const moved = r.status === 'committed' ? 'yes' : r.status === 'released' ? 'no' : 'unknown';
      io.stderr.write(
        `stipend: the server refused the paid retry (${payment.error?.shortMessage ?? r.failure?.message ?? payment.status}); money moved: ${moved}; ledger record ${r.id}\n`,
      );
    }
  } else if (credential) {
    io.stderr.write(
      `stipend: reused a credential paid earlier (${credential.protocol}, payment ${credential.reference}); nothing new was paid\n`,
    );
  }
  return EXIT.ok;
}

function reportFailure(
  error: StipendError,
  session: PayingSession,
  flags: FetchFlags,
  io: CliIo,
): number {
  const hints = refusalHints(
    refusedOffers(error, session),
    session.parts.wallets,
    session.settings.file,
    [error.message, ...error.metaMessages],
  );
  const refused = error.code === 'POLICY_DENIED' || error.code.startsWith('APPROVAL_');
  // By shape, not instanceof: the error may come from another copy of @stipend/client.
  const payment = paymentFailure(error);
  const code = payment ? EXIT.paymentFailed : refused ? EXIT.refused : EXIT.error;
  if (flags.json) {
    io.stdout.write(
      `${toJsonOutput({
        error: errorJson(error),
        hints,
        offers: session.offersSeen,
        policy: session.policy.source,
        ledger: session.ledger.path,
      })}\n`,
    );
    return code;
  }
  const verdict = hints.length > 0 ? 'not paid' : refused ? 'refused' : 'failed';
  const lines = [`stipend: ${verdict}: ${cliWords(error.shortMessage)}`];
  // One offer: its reason is the message already. Several: say why each was refused.
  const denials = policyDenials(error);
  if (hints.length === 0 && denials.length > 1) {
    for (const denial of denials)
      lines.push(
        `  - ${denial.protocol}/${denial.scheme} ${denial.amount}: ${cliWords(denial.reason)}`,
      );
  }
  for (const hint of hints) lines.push(`  ${hint}`);
  if (payment) {
    lines.push(
      `  money moved: ${payment.paid === 'unknown' ? 'unknown (held: stipend ledger lists it, stipend reconcile settles it)' : payment.paid ? 'yes' : 'no'}`,
    );
  }
  io.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

/** The offers a refusal names, with the units of those that were read. */
function refusedOffers(error: StipendError, session: PayingSession): RefusedOffer[] {
  return policyDenials(error).map((denial) => {
    const seen = session.offersSeen.find((offer) => offer.id === denial.offerId);
    let unit: string | undefined;
    try {
      unit = seen ? unitKey(seen.amount.unit) : undefined;
    } catch {
      unit = undefined;
    }
    return {
      protocol: denial.protocol,
      scheme: denial.scheme,
      ...(seen?.network !== undefined ? { network: seen.network } : {}),
      code: denial.code,
      reason: denial.reason,
      ...(unit !== undefined ? { unit } : {}),
    };
  });
}

/**
 * The library's words for this call's cap are the command's `--max`: "the per-call override's
 * maxPerRequest.usd" is what `--max` sets.
 *
 * @example
 * ```ts
 * cliWords("for this call's override; raise the per-call override's maxPerRequest.usd to at least $0.05");
 * // 'for --max; raise --max to at least $0.05'
 * cliWords('did not answer within 30000 ms; raise timeoutMs or payment.timeoutMs.');
 * // 'did not answer within 30000 ms; allow longer with --timeout <seconds>.'
 * ```
 */
export function cliWords(text: string): string {
  return text
    .replace(/the per-call override's maxPerRequest\.usd/g, '--max')
    .replace(/this call's override/g, '--max')
    .replace(/raise timeoutMs or payment\.timeoutMs/g, 'allow longer with --timeout <seconds>');
}

/** A Stipend error for `--json`: its code, message and details, amounts in the one shape. */
function errorJson(error: StipendError): Record<string, unknown> {
  return {
    name: error.name,
    code: error.code,
    message: error.shortMessage,
    details: error.details,
  };
}

/** The response body, within the deadline (a body that drips forever ends the command). */
async function readBody(response: Response, timeoutMs: number): Promise<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void response.body?.cancel().catch(() => {});
      reject(
        new CliError(
          `stipend fetch: the response body did not finish within ${timeoutMs / 1000} s; allow longer with --timeout <seconds>`,
        ),
      );
    }, timeoutMs);
  });
  try {
    return new Uint8Array(await Promise.race([response.arrayBuffer(), deadline]));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The URL argument as an http(s) URL, or a usage error that shows how to write it.
 *
 * @throws {CliError} exit code 2 for anything but an absolute http(s) URL.
 * @example
 * ```ts
 * import { checkUrl } from './fetch.js';
 * checkUrl('http://127.0.0.1:4021/weather'); // 'http://127.0.0.1:4021/weather'
 * checkUrl('127.0.0.1:4021/weather', 'quote'); // throws: add the scheme, e.g. stipend quote http://…
 * ```
 */
export function checkUrl(text: string, command = 'fetch'): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // `127.0.0.1:4021/weather`, `localhost:4021/x`, `api.example.com/data`: the scheme is missing.
    const hostLike = /^[a-z0-9.-]+(:\d+)?(\/|$)/i.test(text) && !text.includes('://');
    if (hostLike) {
      const local = /^(localhost|127\.|\[?::1)/i.test(text);
      throw new CliError(
        `stipend ${command}: "${text}" is not a URL: add the scheme, e.g. stipend ${command} ${local ? 'http' : 'https'}://${text}`,
        EXIT.usage,
      );
    }
    throw new CliError(
      url === undefined
        ? `stipend ${command}: "${text}" is not a URL: write it whole, e.g. https://api.example.com/data`
        : `stipend ${command}: only http(s) URLs are fetched, not ${url.protocol} (e.g. https://api.example.com/data)`,
      EXIT.usage,
    );
  }
  return url.href;
}

/**
 * The request `-X`, `-H` and `-d` describe (the body read from files for `@file`).
 *
 * @throws {CliError} exit code 2 for a malformed header, an unreadable file or a body on GET.
 * @example
 * ```ts
 * import { requestInit } from './fetch.js';
 * requestInit({ method: 'POST', header: ['Accept: application/json'], data: ['{"q":1}'] });
 * ```
 */
export function requestInit(flags: Pick<FetchFlags, 'method' | 'header' | 'data'>): RequestInit {
  const headers = new Headers();
  for (const header of flags.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) {
      throw new CliError(`-H "${header}" is not a header: write it as "Name: value"`, EXIT.usage);
    }
    try {
      headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
    } catch (error) {
      throw new CliError(`-H "${header}": ${(error as Error).message}`, EXIT.usage);
    }
  }
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (flags.data && flags.data.length > 0) {
    const parts = flags.data.map((part) => {
      if (!part.startsWith('@')) return Buffer.from(part, 'utf8');
      const path = part.slice(1);
      try {
        return readFileSync(path === '-' ? 0 : path);
      } catch (error) {
        throw new CliError(
          `-d ${part}: cannot read ${path}: ${(error as Error).message}`,
          EXIT.usage,
        );
      }
    });
    const joined = parts.flatMap((part, i) => (i === 0 ? [part] : [Buffer.from('&'), part]));
    body = new Uint8Array(Buffer.concat(joined));
    if (!headers.has('content-type'))
      headers.set('content-type', 'application/x-www-form-urlencoded');
  }
  const method = (flags.method ?? (body !== undefined ? 'POST' : 'GET')).toUpperCase();
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    throw new CliError(`-d sends a body, which ${method} cannot carry: add -X POST`, EXIT.usage);
  }
  return { method, headers, ...(body !== undefined ? { body } : {}) };
}

/** A payment failure's `paid`, read by shape (`PaymentFailedError` of any copy); else undefined. */
function paymentFailure(error: StipendError): { paid: boolean | 'unknown' } | undefined {
  const paid = (error as { paid?: unknown }).paid;
  if (error.name !== 'PaymentFailedError') return undefined;
  return paid === true || paid === false || paid === 'unknown' ? { paid } : undefined;
}

/** A policy denial's per-offer reasons, read by code (any copy of the package). */
function policyDenials(error: StipendError): PolicyDeniedError['offers'] {
  if (error.code !== 'POLICY_DENIED') return [];
  const offers = (error as { offers?: unknown }).offers;
  return Array.isArray(offers) ? (offers as PolicyDeniedError['offers']) : [];
}
