/**
 * Reading the answer to a paid x402 request. Four shapes matter, and they say different
 * things about money:
 *
 * - a receipt (`PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`) with `success: true`: settled;
 * - a receipt with `success: false`: settlement failed, nothing moved, unless its reason says
 *   the transaction may still land (`settlement_pending`, a timeout): then it is unknown;
 * - a 402 (or 412) with fresh terms and an `error`: verification failed, nothing moved;
 * - anything else after the proof was sent: unknown (the budget is held until the wallet's
 *   `lookup` reads the authorization's state on chain).
 *
 * Reason strings are open-ended (the reference facilitator adds new ones often), so they are
 * classified by pattern, never by an exhaustive list.
 *
 * @module
 */

import { readTextBounded } from '../../internal/body-text.js';
import { amount } from '../../money/unit.js';
import type { PaymentOffer } from '../../offer.js';
import type { PaidOutcome, Receipt } from '../adapter.js';
import { decodeBase64Json } from './base64.js';
import { SettlementResponse } from './schemas.js';

type Stage = 'verification' | 'settlement';
type Moved = 'no' | 'unknown';

/** Reason patterns, most telling first: [pattern, reason, money moved, hint]. */
const PATTERNS: readonly (readonly [RegExp, string, Moved, string])[] = [
  [
    /pending|in[-_ ]?flight|not[-_ ]?(yet[-_ ]?)?confirmed|time[sd]?[-_ ]?out/i,
    'settlement_pending',
    'unknown',
    'the transaction may still land; it is reconciled on chain before anything is paid again',
  ],
  [
    /already[-_ ]?(used|processed|settled|spent)|nonce[-_ ]?(already[-_ ]?)?used|replay|duplicate|used[-_ ]?or[-_ ]?cancel/i,
    'already_used',
    'unknown',
    'this authorization was already used; it is reconciled on chain',
  ],
  [
    /allowance|approv/i,
    'permit2_allowance_required',
    'no',
    'approve Permit2 (0x000000000022D473030F116dDEE9F6B43aC78BA3) for this token, then retry',
  ],
  [
    /expire|valid[-_ ]?before|valid[-_ ]?after|deadline/i,
    'expired',
    'no',
    "the authorization's time window was refused; check the clock and retry",
  ],
  [/insufficient|balance|funds/i, 'insufficient_funds', 'no', 'top up the paying address'],
  [
    /no[-_ ]?matching|requirements?[-_ ]?mismatch/i,
    'terms_changed',
    'no',
    'the terms changed between the 402 and the paid request; retry to read the new terms',
  ],
  [
    /signature|domain|token[-_ ]?(name|version)/i,
    'verification_failed',
    'no',
    "the signature did not verify; the token's EIP-712 name/version may differ from extra.name/version",
  ],
];

/**
 * Classifies a server's reason string for a refused payment.
 *
 * @example
 * ```ts
 * import { classifyReason } from './settle.js';
 * classifyReason('settlement_pending', 'settlement'); // { reason: 'settlement_pending', moneyMoved: 'unknown', … }
 * classifyReason('invalid_exact_evm_insufficient_balance', 'verification'); // { reason: 'insufficient_funds', moneyMoved: 'no', … }
 * ```
 */
export function classifyReason(
  text: string,
  stage: Stage,
): { reason: string; moneyMoved: Moved; message: string } {
  const shown = text.length > 0 ? text.slice(0, 300) : 'no reason given';
  const where = stage === 'verification' ? 'refused at verification' : 'settlement failed';
  for (const [pattern, reason, moneyMoved, hint] of PATTERNS) {
    if (pattern.test(text)) return { reason, moneyMoved, message: `${where}: ${shown} (${hint})` };
  }
  // A settlement that failed for an unexpected reason may have been broadcast: ask the chain.
  if (stage === 'settlement' && /unexpected|internal|unknown/i.test(text)) {
    return { reason: 'settlement_failed', moneyMoved: 'unknown', message: `${where}: ${shown}` };
  }
  return {
    reason: stage === 'verification' ? 'verification_failed' : 'settlement_failed',
    moneyMoved: 'no',
    message: `${where}: ${shown}`,
  };
}

/**
 * Decodes a settlement receipt header: standard base64 JSON (or plain JSON, which some
 * servers of the plain form send). `undefined` when it cannot be read.
 *
 * @example
 * ```ts
 * import { decodeReceipt } from './settle.js';
 * decodeReceipt('eyJzdWNjZXNzIjp0cnVlfQ=='); // { success: true }
 * ```
 */
export function decodeReceipt(value: string): Record<string, unknown> | undefined {
  let decoded: unknown;
  try {
    decoded = value.startsWith('{') ? JSON.parse(value) : decodeBase64Json(value);
  } catch {
    return undefined;
  }
  return SettlementResponse.safeParse(decoded).success
    ? (decoded as Record<string, unknown>)
    : undefined;
}

/**
 * Reads the response to the paid request into an outcome (see the module comment).
 *
 * @example
 * ```ts
 * import { outcomeOf } from './settle.js';
 * const outcome = await outcomeOf(offer, response); // { kind: 'accepted', receipt: { reference: '0x…' } }
 * ```
 */
export async function outcomeOf(offer: PaymentOffer, response: Response): Promise<PaidOutcome> {
  const header =
    response.headers.get('payment-response') ?? response.headers.get('x-payment-response');
  if (header !== null) {
    const decoded = decodeReceipt(header);
    if (!decoded) {
      return response.status < 400
        ? { kind: 'accepted' }
        : unknown(`the server answered ${response.status} with an unreadable receipt`);
    }
    if (decoded.success === true) {
      const receipt = receiptOf(offer, decoded);
      if (response.status < 400) {
        return receipt.settled
          ? { kind: 'accepted', receipt, settled: receipt.settled }
          : { kind: 'accepted', receipt };
      }
      return {
        kind: 'rejected',
        reason: 'refused',
        moneyMoved: 'yes',
        message: `the payment settled but the server answered ${response.status}`,
        receipt,
      };
    }
    const text = String(decoded.errorReason ?? decoded.errorMessage ?? '');
    return {
      kind: 'rejected',
      ...classifyReason(text, 'settlement'),
      receipt: receiptOf(offer, decoded),
    };
  }

  if (response.status === 402 || response.status === 412) {
    const error = await freshTermsError(response);
    if (error !== undefined) {
      const classified = classifyReason(error, 'verification');
      return response.status === 412 && classified.moneyMoved === 'no'
        ? { kind: 'rejected', ...classified, reason: 'permit2_allowance_required' }
        : { kind: 'rejected', ...classified };
    }
    return unknown(`the server answered ${response.status} without terms or a receipt`);
  }
  if (response.status < 400) return { kind: 'accepted' };
  return unknown(`the server answered ${response.status} without a receipt`);
}

function unknown(message: string): PaidOutcome {
  return { kind: 'rejected', reason: 'unknown', moneyMoved: 'unknown', message };
}

function receiptOf(offer: PaymentOffer, decoded: Record<string, unknown>): Receipt {
  const transaction = typeof decoded.transaction === 'string' ? decoded.transaction : '';
  let settled: Receipt['settled'];
  if (offer.scheme === 'upto' && typeof decoded.amount === 'string') {
    const value = BigInt(decoded.amount);
    // Never more than was authorized: a larger claim cannot have moved.
    settled = amount(value < offer.amount.value ? value : offer.amount.value, offer.amount.unit);
  }
  return {
    protocol: 'x402',
    ...(transaction ? { reference: transaction } : {}),
    ...(settled ? { settled } : {}),
    raw: decoded,
  };
}

/**
 * The `error` of fresh terms in a refusal: the v2 `PAYMENT-REQUIRED` header, or a v1 JSON
 * body (read from a clone, bounded). `undefined` when the response carries no terms.
 */
async function freshTermsError(response: Response): Promise<string | undefined> {
  const header = response.headers.get('payment-required');
  if (header !== null) {
    try {
      const decoded = decodeBase64Json(header) as { error?: unknown };
      return typeof decoded?.error === 'string' ? decoded.error : '';
    } catch {
      return '';
    }
  }
  const body = await boundedText(response, 64 * 1024);
  if (!body) return undefined;
  try {
    const json = JSON.parse(body) as { x402Version?: unknown; error?: unknown };
    if (json?.x402Version !== 1) return undefined;
    return typeof json.error === 'string' ? json.error : '';
  } catch {
    return undefined;
  }
}

async function boundedText(response: Response, cap: number): Promise<string | undefined> {
  if (response.bodyUsed || !response.body) return undefined;
  return readTextBounded(response.clone(), cap);
}
