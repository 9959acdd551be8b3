/**
 * The demo's session errand: open an MPP `lightning` session on the local session seller
 * (the testkit's aperture stand-in, on the marketplace's Lightning simulator), make many calls
 * on it, close it, and check the client's count against the seller's books and the rail.
 *
 * @module
 */
import { formatUsd, type PayingFetch, type SessionInfo } from '@stipend/client';
import type { LightningSessionServer } from '@stipend/testkit/mpp';
import { sessionAmount } from '../sessions/render.js';
import type { DemoSessionPlan } from './steps.js';

/** How the session errand ended. */
export interface DemoSessionResult {
  readonly ok: boolean;
  /** The closed session as the client counted it. */
  readonly session?: SessionInfo;
  /** Lightning payments the agent made for the whole errand (deposit + top-ups). */
  readonly payments: number;
  /** What the session committed in the budget (spent + routing fees), USD micro-units. */
  readonly committedUsdMicros: bigint;
  /** One line for the summary. */
  readonly line: string;
  /** Why it did not end as scripted. */
  readonly reason?: string;
}

/**
 * Runs the errand. `paymentsMade()` counts the agent's succeeded Lightning payments.
 *
 * @example
 * ```ts
 * import { runSessionErrand } from './session.js';
 * const result = await runSessionErrand(payingFetch, seller, DEMO_SESSION, count, out);
 * ```
 */
export async function runSessionErrand(
  payingFetch: PayingFetch,
  seller: LightningSessionServer,
  plan: DemoSessionPlan,
  paymentsMade: () => number,
  out: (line?: string) => void,
): Promise<DemoSessionResult> {
  const before = paymentsMade();
  const url = new URL(plan.path, seller.url).href;
  out(`      ${plan.calls} × GET ${url}, ${plan.concurrency} at a time`);
  let failed = 0;
  for (let sent = 0; sent < plan.calls; sent += plan.concurrency) {
    const batch = Math.min(plan.concurrency, plan.calls - sent);
    const statuses = await Promise.all(
      Array.from({ length: batch }, async (_, i) => {
        const response = await payingFetch(`${url}?n=${sent + i}`);
        await response.arrayBuffer();
        return response.status;
      }),
    );
    failed += statuses.filter((status) => status !== 200).length;
  }
  const [open] = await payingFetch.sessions.list({ states: ['open'] });
  if (!open) return fail('no session was open after the calls', before, paymentsMade);
  const deposits = open.holds.length;
  out(
    `      session ${open.id} open: ${open.uses} calls counted, ${deposits} deposit payment(s) (${deposits - 1} top-up(s)); closing it`,
  );
  const closed = await payingFetch.sessions.close(open.id);
  const books = seller.sessions.get(String(closed.methodData.sessionId ?? ''));
  const payments = paymentsMade() - before;
  const committed = closed.holds.reduce((sum, hold) => sum + (hold.committedUsdMicros ?? 0n), 0n);
  const amount = (value: bigint) => sessionAmount(value, closed.unit).display;
  const line =
    `Session: ${plan.calls} calls for ${payments} Lightning payment(s); deposit ${amount(closed.depositAtomic)}, ` +
    `spent ${amount(closed.spentAtomic)}, refunded ${amount(closed.refundedAtomic)} (${formatUsd(committed)} with routing fees)`;
  const problems: string[] = [];
  if (failed > 0) problems.push(`${failed} call(s) did not answer 200`);
  if (closed.state !== 'closed') problems.push(`the session ended ${closed.state}`);
  if (closed.uses !== plan.calls)
    problems.push(`${closed.uses} uses counted for ${plan.calls} calls`);
  if (!books) {
    problems.push("the seller's books have no such session");
  } else {
    if (books.depositSats * 1000n !== closed.depositAtomic) problems.push('the deposits disagree');
    if (books.spentSats * 1000n !== closed.spentAtomic) problems.push('the spend disagrees');
    if (books.refundedSats * 1000n !== closed.refundedAtomic) problems.push('the refund disagrees');
  }
  if (closed.depositAtomic - closed.refundedAtomic !== closed.spentAtomic) {
    problems.push('deposit − refund is not what was spent');
  }
  if (payments !== deposits) problems.push(`${payments} payments for ${deposits} deposit(s)`);
  return {
    ok: problems.length === 0,
    session: closed,
    payments,
    committedUsdMicros: committed,
    line:
      problems.length === 0
        ? `${line}; the seller's books and the rail agree.`
        : `${line}; MISMATCH: ${problems.join('; ')}.`,
    ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
  };
}

function fail(reason: string, before: number, paymentsMade: () => number): DemoSessionResult {
  return {
    ok: false,
    payments: paymentsMade() - before,
    committedUsdMicros: 0n,
    line: `Session: ✗ ${reason}.`,
    reason,
  };
}
