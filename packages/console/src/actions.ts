/**
 * What a person can do in the console, through the public API of a paying fetch that has no
 * wallet: approve or deny a pending approval (`payingFetch.approvals`, the same
 * `decideApproval` rules an agent's own process applies: only a pending, unexpired approval can
 * be decided, a denial releases its budget), and resolve a held purchase by hand
 * (`payingFetch.reconcile({ resolve })`: journal, budget and ledger move together).
 *
 * @module
 */
import { isStipendError, type PayingFetch } from '@stipend/client';
import { shortText } from './view/text.js';

/** The outcome of an action, as the API answers it. */
export type ActionResult =
  | { readonly ok: true; readonly status: 200; readonly body: Record<string, unknown> }
  | {
      readonly ok: false;
      readonly status: 400 | 404 | 409 | 500;
      readonly body: { readonly error: { readonly code: string; readonly message: string } };
    };

/** A person's answer for a held purchase. */
export type Resolution = 'paid' | 'void' | 'delivered';

const IDS = /^[A-Za-z0-9_.:-]{1,200}$/;

/**
 * Approves or denies approval `id`.
 *
 * @example
 * ```ts
 * import { decide } from './actions.js';
 * const result = await decide(payingFetch, 'a_123', 'approve');
 * ```
 */
export async function decide(
  payingFetch: PayingFetch,
  id: string,
  verdict: 'approve' | 'deny',
): Promise<ActionResult> {
  if (!IDS.test(id)) return refused(400, 'BAD_ID', 'That is not an approval id.');
  try {
    const approval =
      verdict === 'approve'
        ? await payingFetch.approvals.approve(id)
        : await payingFetch.approvals.deny(id);
    return { ok: true, status: 200, body: { id: approval.id, state: approval.state } };
  } catch (error) {
    return failed(error);
  }
}

/**
 * Records a person's decision on held purchase `id`.
 *
 * @example
 * ```ts
 * import { resolve } from './actions.js';
 * const result = await resolve(payingFetch, 'p_123', { as: 'void' });
 * ```
 */
export async function resolve(
  payingFetch: PayingFetch,
  id: string,
  body: unknown,
): Promise<ActionResult> {
  if (!IDS.test(id)) return refused(400, 'BAD_ID', 'That is not a purchase id.');
  const as = (body as { as?: unknown } | null)?.as;
  if (as !== 'paid' && as !== 'void' && as !== 'delivered') {
    return refused(400, 'BAD_RESOLUTION', 'Send { "as": "paid" | "void" | "delivered" }.');
  }
  try {
    const result = await payingFetch.reconcile({ resolve: { id, as } });
    return { ok: true, status: 200, body: { id, as, ...result } };
  } catch (error) {
    return failed(error);
  }
}

const STATUS: Record<string, 404 | 409> = {
  APPROVAL_NOT_FOUND: 404,
  PURCHASE_NOT_FOUND: 404,
  APPROVAL_CONFLICT: 409,
  APPROVAL_EXPIRED: 409,
  PURCHASE_CONFLICT: 409,
};

function failed(error: unknown): ActionResult {
  if (isStipendError(error)) {
    return refused(
      STATUS[error.code] ?? 500,
      error.code,
      shortText(error.shortMessage ?? error.message, 400) ?? error.code,
    );
  }
  return refused(500, 'INTERNAL', 'The console could not do that; see its terminal.');
}

function refused(status: 400 | 404 | 409 | 500, code: string, message: string): ActionResult {
  return { ok: false, status, body: { error: { code, message } } };
}
