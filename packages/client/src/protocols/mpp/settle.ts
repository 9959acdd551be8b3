/**
 * Reading the server's answer to a paid MPP request: the `Payment-Receipt` (a claim, parsed
 * leniently) on success, or the RFC 9457 problem it refused with, classified by whether money
 * can have moved.
 *
 * @module
 */
import { readTextBounded } from '../../internal/body-text.js';
import type { PaidOutcome, Receipt } from '../adapter.js';
import { decodeBase64UrlJson } from './base64url.js';
import type { MppProofSecret } from './credential.js';

const PROBLEM_BASE = 'https://paymentauth.org/problems/';
const MAX_PROBLEM_BYTES = 16 * 1024;

type Moved = 'no' | 'yes' | 'unknown';

/** Problem types: the outcome reason, whether money may have moved, and what it means. */
const PROBLEMS: Readonly<Record<string, readonly [string, Moved, string]>> = {
  'payment-expired': [
    'expired',
    'no',
    'the challenge expired before the server checked the credential; nothing was charged, ' +
      'retry the request for a fresh challenge',
  ],
  'invalid-challenge': [
    'invalid_challenge',
    'no',
    'the server does not recognise the challenge (unknown, expired or used); nothing was ' +
      'charged, retry the request for a fresh challenge',
  ],
  'malformed-credential': [
    'malformed_credential',
    'no',
    'the server could not read the credential; nothing was charged',
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
  const detail =
    typeof said === 'string' ? said.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200) : undefined;
  return { ...(name ? { name } : {}), ...(detail ? { detail } : {}) };
}

/**
 * Reads the response to a paid retry. 2xx: accepted, with the receipt when one came. A
 * problem body is classified (see {@link PROBLEMS}); 403 means the server refused after the
 * payment was checked (held as unknown until the rail says, so it is not paid twice); other
 * answers leave the outcome unknown. When the wallet can release an unused authorization, it
 * is asked to, and its answer decides whether money moved. `Retry-After` is reported in the
 * message (the core does not retry by itself).
 *
 * @example
 * ```ts
 * import { settlePaid } from './settle.js';
 * const outcome = await settlePaid(response, proof.secret as MppProofSecret, Date.now());
 * ```
 */
export async function settlePaid(
  response: Response,
  secret: MppProofSecret,
  now: number,
): Promise<PaidOutcome> {
  const receipt = parseReceipt(response.headers.get('payment-receipt'));
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

  if (secret.release) {
    let released: 'released' | 'used' | 'unknown';
    try {
      released = await secret.release();
    } catch {
      released = 'unknown';
    }
    if (released === 'released') {
      moved = 'no';
      meaning += '; the unused authorization was revoked';
    } else if (released === 'used') {
      moved = 'yes';
      meaning += '; the wallet reports the authorization was used, so money moved';
    } else if (moved === 'no') {
      moved = 'unknown';
      meaning += '; the authorization could not be revoked, so it is reconciled later';
    }
  }

  const retry = retryAfterSeconds(response, now);
  const parts = [
    `${response.status}${problem?.name ? ` ${problem.name}` : ''}: ${meaning}`,
    ...(problem?.detail ? [`server said: "${problem.detail}"`] : []),
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
