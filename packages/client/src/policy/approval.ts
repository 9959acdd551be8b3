/**
 * Asking the approver, with a timeout: the approver gets an `AbortSignal` that aborts when the
 * timeout passes or the caller gives up, and a timeout counts as a denial.
 *
 * @module
 */
import type { ApprovalRequest, Approver } from './types.js';

/** What became of one approval request. */
export type ApprovalOutcome =
  | { readonly kind: 'approved' }
  | { readonly kind: 'denied'; readonly answer: unknown }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'aborted'; readonly reason: unknown };

/**
 * Calls the approver and races it against `timeoutMs` and the caller's `signal`. Only a
 * resolved `true` approves; any other answer is a denial. Never rejects.
 *
 * @example
 * ```ts
 * import { askApprover } from '@stipend/client';
 * const outcome = await askApprover(async () => true, request, 120_000);
 * if (outcome.kind !== 'approved') throw new Error('not approved');
 * ```
 */
export function askApprover(
  approver: Approver,
  request: ApprovalRequest,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ApprovalOutcome> {
  const controller = new AbortController();
  return new Promise<ApprovalOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: ApprovalOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Tell a still-running approver (a pending prompt, say) that its answer is no longer wanted.
      if (outcome.kind !== 'approved' && outcome.kind !== 'denied' && !controller.signal.aborted) {
        controller.abort(
          outcome.kind === 'aborted' ? outcome.reason : new Error('approval timed out'),
        );
      }
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: 'aborted', reason: signal?.reason });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    new Promise<boolean>((answer) => answer(approver(request, { signal: controller.signal }))).then(
      (answer) => finish(answer === true ? { kind: 'approved' } : { kind: 'denied', answer }),
      (error: unknown) => finish({ kind: 'threw', error }),
    );
  });
}
