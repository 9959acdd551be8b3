/**
 * Reading the server's answer to a paid MPP request: the `Payment-Receipt` (a claim, parsed
 * leniently) on success, or the RFC 9457 problem it refused with, classified by whether money
 * can have moved.
 *
 * @module
 */
import { readTextBounded } from '../../internal/body-text.js';
import type { Proof } from '../../wallet/wallet.js';
import type { PaidOutcome, Receipt } from '../adapter.js';
import { decodeBase64UrlJson } from './base64url.js';
import type { MppProofSecret } from './credential.js';

const PROBLEM_BASE = 'https://paymentauth.org/problems/';
const MAX_PROBLEM_BYTES = 16 * 1024;

type Moved = 'no' | 'yes' | 'unknown';

/**
 * Problem types: the outcome reason, whether money moved BY THE SERVER'S WORD (`no` is only its
 * claim, never enough to release an authorization it holds: see {@link settlePaid}), and what
 * it means.
 */
const PROBLEMS: Readonly<Record<string, readonly [string, Moved, string]>> = {
  'payment-expired': [
    'expired',
    'no',
    'the server says the challenge expired before it checked the credential; retry the ' +
      'request for a fresh challenge',
  ],
  'invalid-challenge': [
    'invalid_challenge',
    'no',
    'the server does not recognise the challenge (unknown, expired or used); retry the ' +
      'request for a fresh challenge',
  ],
  'malformed-credential': [
    'malformed_credential',
    'no',
    'the server says it could not read the credential',
  ],
  'invalid-payload': ['invalid_payload', 'no', 'the server refused the payment payload'],
  'method-unsupported': ['method_unsupported', 'no', 'the server does not take this method'],
  'verification-failed': [
    'verification_failed',
    'unknown',
    'the server could not verify the payment; it is reconciled with the wallet before anything ' +
      'is paid again',
  ],
  'payment-insufficient': [
    'payment_insufficient',
    'unknown',
    'the server says the payment is insufficient; it is reconciled with the wallet before ' +
      'anything is paid again',
  ],
  'payment-action-required': [
    'action_required',
    'unknown',
    'the payment needs a person to act (for example to authenticate the card with the bank); ' +
      'a headless client cannot complete it, so a person must, or use a payment method that ' +
      'needs no action',
  ],
  'internal-payment-error': [
    'settlement_failed',
    'unknown',
    'the server failed while taking the payment',
  ],
};

/**
 * Parses a `Payment-Receipt` header (base64url JSON) leniently: every field is kept, and it
 * stays the server's claim. Returns `undefined` when the header is absent or unreadable.
 *
 * @example
 * ```ts
 * import { parseReceipt } from './settle.js';
 * parseReceipt('eyJtZXRob2QiOiJzdHJpcGUiLCJyZWZlcmVuY2UiOiJwaV8xIn0')?.reference; // 'pi_1'
 * ```
 */
export function parseReceipt(header: string | null): Receipt | undefined {
  if (!header) return undefined;
  let raw: unknown;
  try {
    raw = decodeBase64UrlJson(header.trim());
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const reference = (raw as { reference?: unknown }).reference;
  const safe = typeof reference === 'string' && /^[!-~]{1,256}$/.test(reference);
  return { protocol: 'mpp', ...(safe ? { reference } : {}), raw };
}

/** `Retry-After` in seconds from now (delay-seconds or an HTTP date), when present and sane. */
function retryAfterSeconds(response: Response, now: number): number | undefined {
  const value = response.headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

async function readProblem(
  response: Response,
): Promise<{ name?: string; detail?: string } | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/json/i.test(type) || response.bodyUsed) return undefined;
  const text = await readTextBounded(response.clone(), MAX_PROBLEM_BYTES).catch(() => undefined);
  if (text === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const problem = body as { type?: unknown; detail?: unknown; title?: unknown };
  const typeUri = typeof problem.type === 'string' ? problem.type : '';
  const name = typeUri.startsWith(PROBLEM_BASE) ? typeUri.slice(PROBLEM_BASE.length) : undefined;
  const said = typeof problem.detail === 'string' ? problem.detail : problem.title;
  const detail = typeof said === 'string' ? said : undefined;
  return { ...(name ? { name } : {}), ...(detail ? { detail } : {}) };
}

/**
 * Reads the response to a paid retry. 2xx: accepted, with the receipt when one came. A
 * problem body is classified (see {@link PROBLEMS}); 403 means the server refused after the
 * payment was checked (held as unknown until the rail says, so it is not paid twice); other
 * answers leave the outcome unknown. `Retry-After` is reported in the message (the core does
 * not retry by itself).
 *
 * The server's words never release money: a refused `authorization` (an EIP-3009 signature,
 * a Shared Payment Token) stays usable by the server until it expires, so its outcome is
 * `moneyMoved: 'unknown'`: the core holds the budget until `validUntil`, or until the wallet's
 * `void` confirms the authorization dead and unused. A `final` payment (a paid Lightning
 * invoice) moved money: `yes`. Secret material of the proof that a server echoes (in its
 * problem text or receipt) is redacted.
 *
 * @example
 * ```ts
 * import { settlePaid } from './settle.js';
 * const outcome = await settlePaid(response, proof.secret as MppProofSecret, Date.now(), proof.settlement);
 * ```
 */
export async function settlePaid(
  response: Response,
  secret: MppProofSecret,
  now: number,
  settlement: Proof['settlement'] = 'authorization',
): Promise<PaidOutcome> {
  const secrets = secretStrings(secret.payload);
  const receipt = redactReceipt(parseReceipt(response.headers.get('payment-receipt')), secrets);
  if (response.status >= 200 && response.status < 300) {
    return receipt ? { kind: 'accepted', receipt } : { kind: 'accepted' };
  }
  if (response.status >= 300 && response.status < 400 && receipt) {
    return { kind: 'accepted', receipt };
  }

  const problem = await readProblem(response);
  const known = problem?.name !== undefined ? PROBLEMS[problem.name] : undefined;
  let reason: string;
  let moved: Moved;
  let meaning: string;
  if (known) {
    [reason, moved, meaning] = known;
    if (moved === 'no') {
      // The server says it did not take the payment; its word releases nothing.
      moved = settlement === 'final' ? 'yes' : 'unknown';
      meaning += settlement === 'final' ? ' (the invoice itself was paid)' : '';
    }
  } else if (response.status === 403) {
    reason = 'refused';
    moved = 'unknown';
    meaning =
      'the server refused the request after the payment was checked (403); the payment may ' +
      'have been taken, so it is reconciled with the wallet and not paid again';
  } else {
    reason = 'unknown';
    moved = 'unknown';
    meaning = `the server answered ${response.status} to the paid request`;
  }

  // A paid invoice moved money whatever the server says.
  if (settlement === 'final') moved = 'yes';

  const retry = retryAfterSeconds(response, now);
  const detail = problem?.detail !== undefined ? displayable(problem.detail, secrets) : undefined;
  const parts = [
    `${response.status}${problem?.name ? ` ${problem.name}` : ''}: ${meaning}`,
    ...(detail ? [`server said: "${detail}"`] : []),
    ...(retry !== undefined ? [`the server asks to retry after ${retry} s`] : []),
  ];
  return {
    kind: 'rejected',
    reason,
    moneyMoved: moved,
    message: parts.join('; '),
    ...(receipt ? { receipt } : {}),
  };
}

/**
 * The long string values (16 characters or more: token ids, signatures, preimages) of a proof
 * payload: what must never be echoed. Short words such as a payload `type` are not secrets.
 */
function secretStrings(payload: unknown, found: string[] = [], depth = 0): string[] {
  if (typeof payload === 'string') {
    if (payload.length >= 16) found.push(payload);
  } else if (typeof payload === 'object' && payload !== null && depth < 4) {
    for (const value of Object.values(payload)) secretStrings(value, found, depth + 1);
  }
  return found;
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

/** Server text for a message: secrets redacted (before and after), printable, 200 characters. */
function displayable(text: string, secrets: readonly string[]): string {
  const printable = redact(text, secrets).replace(/[^\x20-\x7e]/g, ' ');
  return redact(printable, secrets).slice(0, 200);
}

/**
 * A receipt without the proof's secrets: a reference that echoes one is dropped, and echoed
 * strings in the raw receipt are redacted (the receipt goes into outcomes and events).
 */
function redactReceipt(
  receipt: Receipt | undefined,
  secrets: readonly string[],
): Receipt | undefined {
  if (receipt === undefined || secrets.length === 0) return receipt;
  const leaks = (text: string) => secrets.some((secret) => text.includes(secret));
  const { reference, raw, ...rest } = receipt;
  return {
    ...rest,
    ...(reference !== undefined && !leaks(reference) ? { reference } : {}),
    raw: scrub(raw, secrets),
  };
}

/**
 * A copy of a decoded JSON value with every secret redacted from its strings (and keys);
 * nesting deeper than 32 levels is cut (a receipt is a flat claim).
 */
function scrub(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return redact(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= 32) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    // defineProperty: a `__proto__` key stays a plain key.
    Object.defineProperty(copy, redact(key, secrets), {
      value: scrub(item, secrets, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}
