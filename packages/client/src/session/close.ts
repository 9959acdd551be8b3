/**
 * Closing sessions and settling their money: the close request, the refund confirmed on the
 * client's own node (never the server's receipt), the budget holds committed at what was
 * spent from them (the rest freed), the ledger brought in line; idle closing; reconciling
 * sessions whose outcome is unknown.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type { Core } from '../fetch/core.js';
import { withDeadline } from '../internal/deadline.js';
import { applyRate, type Rate } from '../money/price.js';
import type { ChallengeInput } from '../protocols/adapter.js';
import { parseWwwAuthenticateLenient } from '../protocols/www-authenticate.js';
import type { Wallet } from '../wallet/wallet.js';
import { indexSession, type SessionFamily } from './family.js';
import { minBig, updateSession } from './records.js';
import { publicSession, type SessionHold, type SessionInfo, type SessionRecord } from './types.js';

/** A rate as stored on a hold, back in the price module's shape. */
export function rateOf(stored: SessionHold['rate']): Rate {
  return {
    usdMicrosPerUnitNumerator: stored.numerator,
    denominator: stored.denominator,
    asOf: 0,
    source: 'session',
  };
}

/** The challenge input of a response (for reading fresh challenges from a 402). */
export function inputOf(response: Response, url: URL, method: string, now: number): ChallengeInput {
  const header = response.headers.get('www-authenticate');
  const challenges = header ? parseWwwAuthenticateLenient(header).challenges : [];
  return {
    status: response.status,
    headers: response.headers,
    url,
    method,
    challenges,
    bodyText: async () => undefined,
    now,
  };
}

/** The wallet that opened a session, among the core's wallets. */
export function walletOf(core: Core, session: SessionRecord): Wallet | undefined {
  return core.wallets.find((wallet) => wallet.id === session.walletId);
}

/**
 * Closes a session: sends the close credential (unless the server closed it already), confirms
 * the refund on the client's own node, commits each budget hold at what was spent from it and
 * marks the session `closed`. A close whose answer is lost leaves the session `unknown`; a
 * refund not yet arrived leaves it `closing` (the budget stays held): both are settled by
 * `reconcile()` (or another `close(id)`).
 *
 * @example
 * ```ts
 * import { closeSession } from './close.js';
 * const info = await closeSession(family, core, 'ses_…', 'client');
 * ```
 */
export async function closeSession(
  family: SessionFamily,
  core: Core,
  id: string,
  by: 'client' | 'server' | 'person',
): Promise<SessionInfo> {
  const first = await family.store.get(id);
  if (!first) {
    throw new StipendError(
      'PURCHASE_NOT_FOUND',
      `No session ${id}; list them with payingFetch.sessions.list().`,
    );
  }
  const release = await family.scopes.acquire(first.scope);
  try {
    return await closeLocked(family, core, id, by);
  } finally {
    release();
  }
}

/** {@link closeSession} with the scope lock held. */
export async function closeLocked(
  family: SessionFamily,
  core: Core,
  id: string,
  by: 'client' | 'server' | 'person',
): Promise<SessionInfo> {
  const method = family.methods.get((await family.store.get(id))?.method ?? '');
  let session = await updateSession(
    family.store,
    id,
    (s) => (s.state === 'closed' || s.state === 'closing' ? undefined : { ...s, state: 'closing' }),
    core.now(),
  );
  if (!session) throw new StipendError('PURCHASE_NOT_FOUND', `No session ${id}.`);
  stopIdle(family, id);
  indexSession(family, session.origin, id, false);
  if (session.state === 'closed') return publicSession(session);
  const wallet = walletOf(core, session);
  if (!method || !wallet) {
    return publicSession(
      await failed(
        family,
        core,
        id,
        'unknown',
        'CONFIG_INVALID',
        `The wallet ${session.walletId} or the method ${session.method} of this session is not configured here; close it where it was opened.`,
      ),
    );
  }
  // Ask the server to close, unless it already said it did (or nothing was ever paid).
  const paidAny = session.holds.some((hold) => hold.state === 'paid' || hold.state === 'unknown');
  let closedBy = by;
  // A method without a credential for this session (a Lightning deposit whose preimage never
  // came back) has nothing to close with: it answers undefined.
  const request = by !== 'server' && paidAny ? await method.closeRequest(session) : undefined;
  if (request) {
    let response: Response;
    try {
      response = await withDeadline(
        ({ signal }) =>
          core.send(request.url, {
            method: request.method,
            headers: request.headers,
            redirect: 'manual',
            signal,
          }),
        core.timeoutMs,
        `The server at ${session.origin} (session close)`,
      );
    } catch (error) {
      return publicSession(
        await failed(
          family,
          core,
          id,
          'unknown',
          'OUTCOME_UNKNOWN',
          `The close request got no answer (${(error as Error).message}); reconcile with payingFetch.sessions.reconcile().`,
        ),
      );
    }
    if (response.status === 402) {
      const refusal = await method.refusal(
        response,
        inputOf(response, new URL(request.url), request.method, core.now()),
      );
      response.body?.cancel().catch(() => {});
      if (refusal.kind !== 'closed') {
        return publicSession(
          await failed(
            family,
            core,
            id,
            'unknown',
            'OUTCOME_UNKNOWN',
            `The server refused the close: ${refusal.message}; reconcile with payingFetch.sessions.reconcile().`,
          ),
        );
      }
      closedBy = 'server';
    } else if (response.status < 200 || response.status >= 300) {
      response.body?.cancel().catch(() => {});
      return publicSession(
        await failed(
          family,
          core,
          id,
          'unknown',
          'OUTCOME_UNKNOWN',
          `The server answered ${response.status} to the close; reconcile with payingFetch.sessions.reconcile().`,
        ),
      );
    } else {
      // Its receipt is a claim: read (and discarded when it names another session), not used.
      method.receipt(response, session);
      response.body?.cancel().catch(() => {});
    }
  }
  session = (await family.store.get(id))!;
  const refunded = await awaitRefund(family, core, session, wallet);
  if (refunded === undefined) {
    return publicSession(
      await failed(
        family,
        core,
        id,
        'closing',
        'REFUND_PENDING',
        'The session is closed at the server, but the refund has not reached your node yet; the deposit stays counted until reconcile() sees it arrive (or the return invoice expires).',
      ),
    );
  }
  return publicSession(await settle(family, core, id, refunded, closedBy));
}

/** Waits (bounded) for the refund to show on the client's own node; `undefined` while pending. */
async function awaitRefund(
  family: SessionFamily,
  core: Core,
  session: SessionRecord,
  wallet: Wallet,
): Promise<bigint | undefined> {
  const method = family.methods.get(session.method)!;
  const paid = session.holds.some((hold) => hold.state === 'paid');
  if (!paid) return 0n;
  // Nothing left by the client's own count: no refund is owed, none is waited for. (A server
  // that billed less than the client counted refunds more; that arrives too and is seen on a
  // later reconcile only if it came before this check.)
  if (session.spentAtomic >= session.depositAtomic) {
    const check = await method.refund(session, wallet).catch(() => undefined);
    return check?.state === 'confirmed' ? check.amount.value : 0n;
  }
  const until = core.now() + family.refundWaitMs;
  let pause = 20;
  for (;;) {
    let check: Awaited<ReturnType<typeof method.refund>>;
    try {
      check = await method.refund(session, wallet);
    } catch {
      check = { state: 'pending' };
    }
    if (check.state === 'confirmed') return check.amount.value;
    if (check.state === 'none') return 0n;
    if (core.now() >= until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, 500);
  }
}

/**
 * Commits each hold at what was spent from it: the deposits not refunded, oldest hold first,
 * plus its fee, never above what it reserved. The ledger's deposit records follow: the part
 * no use accounts for is committed on them.
 */
async function settle(
  family: SessionFamily,
  core: Core,
  id: string,
  refundedAtomic: bigint,
  closedBy: 'client' | 'server' | 'person',
): Promise<SessionRecord> {
  const session = (await family.store.get(id))!;
  const paidHolds = session.holds.filter((hold) => hold.state === 'paid');
  const deposited = paidHolds.reduce((sum, hold) => sum + hold.atomic, 0n);
  const refunded = minBig(refundedAtomic, deposited);
  let unrefunded = deposited - refunded;
  const price = session.unitPriceAtomic;
  let usesLeft = session.uses;
  const holds: SessionHold[] = [];
  for (const hold of session.holds) {
    if (hold.state !== 'paid') {
      holds.push(hold);
      continue;
    }
    const take = minBig(hold.atomic, unrefunded);
    unrefunded -= take;
    const rate = rateOf(hold.rate);
    let usd = applyRate(take, rate);
    if (hold.feeAtomic !== undefined && hold.feeAtomic > 0n) {
      usd += applyRate(hold.feeAtomic, rateOf(hold.feeRate ?? hold.rate));
    }
    usd = minBig(usd, hold.reservedUsdMicros);
    if (hold.committedUsdMicros === undefined) await core.budget.commit(hold.reservationId, usd);
    // The uses this hold paid for are already in the ledger, one record each.
    const covered = minBig(BigInt(usesLeft), price > 0n ? hold.atomic / price : 0n);
    usesLeft -= Number(covered);
    const usesUsd = covered * applyRate(price, rate);
    const rest = usd > usesUsd ? usd - usesUsd : 0n;
    await Promise.resolve(
      core.ledger.update(hold.reservationId, {
        status: rest > 0n ? 'committed' : 'released',
        committedUsdMicros: rest,
        outcome: 'accepted',
        updatedAt: core.now(),
      }),
    ).catch(() => {});
    holds.push({ ...hold, committedUsdMicros: usd });
  }
  return (await updateSession(
    family.store,
    id,
    (s) => ({
      ...s,
      holds,
      state: 'closed',
      refundedAtomic: refunded,
      closedAt: core.now(),
      closedBy,
    }),
    core.now(),
  ))!;
}

/** Records a failure and a state (`unknown` or `closing`). */
async function failed(
  family: SessionFamily,
  core: Core,
  id: string,
  state: 'unknown' | 'closing',
  code: string,
  message: string,
): Promise<SessionRecord> {
  return (await updateSession(
    family.store,
    id,
    (s) => ({ ...s, state, failure: { code, message } }),
    core.now(),
  ))!;
}

/**
 * Settles what is unsettled: sessions `unknown` or `closing` are closed again (the close is
 * idempotent: a server that closed already says so, and the refund is looked up on the
 * client's node); sessions left `opening` by this family with an unanswered wallet are asked
 * of the rail (a failed deposit is released).
 *
 * @example
 * ```ts
 * import { reconcileSessions } from './close.js';
 * const settled = await reconcileSessions(family, core);
 * ```
 */
export async function reconcileSessions(
  family: SessionFamily,
  core: Core,
): Promise<readonly SessionInfo[]> {
  const out: SessionInfo[] = [];
  for (const session of await family.store.list({ states: ['unknown', 'closing', 'opening'] })) {
    if (session.state === 'opening') {
      out.push(publicSession(await reconcileOpening(family, core, session)));
      continue;
    }
    out.push(await closeSession(family, core, session.id, 'client'));
  }
  return out;
}

/** An `opening` session: its deposit holds are asked of the rail. */
async function reconcileOpening(
  family: SessionFamily,
  core: Core,
  session: SessionRecord,
): Promise<SessionRecord> {
  const wallet = walletOf(core, session);
  if (!wallet?.lookup || family.cores.has(session.id)) return session;
  let anyPaid = false;
  const holds: SessionHold[] = [];
  for (const hold of session.holds) {
    if (hold.state !== 'paying' || hold.reference === undefined) {
      holds.push(hold);
      continue;
    }
    let status: Awaited<ReturnType<NonNullable<Wallet['lookup']>>> = 'pending';
    try {
      status = await wallet.lookup(hold.reference, {
        id: `session:${session.id}`,
        protocol: 'mpp',
        scheme: `${session.method}.session`,
        amount: { value: hold.atomic, unit: { kind: 'msat' } },
        payee: session.payee,
        origin: session.origin,
        resource: session.resource,
        reusable: false,
        raw: undefined,
      });
    } catch {
      status = 'pending';
    }
    if (status === 'failed') {
      await core.budget.release(hold.reservationId).catch(() => {});
      holds.push({ ...hold, state: 'void' });
    } else {
      anyPaid ||= status === 'paid';
      holds.push({ ...hold, state: status === 'paid' ? 'paid' : 'unknown' });
    }
  }
  const allVoid = holds.every((hold) => hold.state === 'void');
  return (await updateSession(
    family.store,
    session.id,
    (s) => ({
      ...s,
      holds,
      state: allVoid ? 'closed' : 'unknown',
      ...(allVoid ? { closedAt: core.now(), closedBy: 'client' as const } : {}),
      ...(anyPaid
        ? {
            failure: {
              code: 'OUTCOME_UNKNOWN',
              message:
                'The deposit was paid, but the opening was never confirmed; a person must resolve it with the server.',
            },
          }
        : {}),
    }),
    core.now(),
  ))!;
}

/**
 * (Re)arms the idle timer of a session: it closes the session once `idleCloseAt` passes
 * without a use. Timers are `unref`'d in Node, so they never keep a process alive.
 */
export function armIdle(family: SessionFamily, core: Core, id: string, idleMs: number): void {
  if (idleMs <= 0 || family.stopped || family.timers.has(id)) return;
  const timer = setTimeout(() => {
    family.timers.delete(id);
    void (async () => {
      const session = await family.store.get(id);
      if (session?.state !== 'open') return;
      const left = (session.idleCloseAt ?? 0) - core.now();
      if (left > 0) {
        armIdle(family, core, id, left);
        return;
      }
      await closeSession(family, core, id, 'client').catch(() => {});
    })();
  }, idleMs);
  (timer as { unref?: () => void }).unref?.();
  family.timers.set(id, timer);
}

/** Stops a session's idle timer. */
export function stopIdle(family: SessionFamily, id: string): void {
  const timer = family.timers.get(id);
  if (timer !== undefined) clearTimeout(timer);
  family.timers.delete(id);
}
