/**
 * The session manager: where the request path meets sessions. Two hooks of `createPayingFetch`:
 * before the first send, a request to an origin with an open session is sent with that
 * session's use credential (`attachSession`); a 402 that offers a session of a configured
 * method opens one (`openFromChallenge`), decided by the policy like any offer (per-request
 * caps on the unit price, windows and `maxDeposit` on the deposit, which is reserved before the
 * wallet pays). Uses are counted by the client before they are sent, never past the deposit;
 * the server's request to top up is paid as a new reservation when the policy allows.
 *
 * Safety: one live session per scope (origin, realm, method, signer; the store's
 * compare-and-set), a lock per scope around open/top-up/close, a session's credential is sent
 * only to the origin it was opened with (never across a redirect), and an open or top-up whose
 * outcome is unknown blocks the scope until it is reconciled.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import { PaymentFailedError } from '../errors/payment.js';
import { PolicyDeniedError } from '../errors/policy.js';
import { walletFailureFacts } from '../errors/wallet-facts.js';
import type { PreparedRequest } from '../fetch/body.js';
import type { Core } from '../fetch/core.js';
import { withDeadline } from '../internal/deadline.js';
import { randomId } from '../internal/ids.js';
import { amount, unitKey } from '../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../offer.js';
import type { Rule } from '../policy/types.js';
import type { Wallet } from '../wallet/wallet.js';
import {
  armIdle,
  closeLocked,
  closeSession,
  inputOf,
  reconcileSessions,
  stopIdle,
  walletOf,
} from './close.js';
import { idleMsOf, indexSession, type SessionFamily, sessionFamily } from './family.js';
import { recordDeposit, recordSessionUse, rememberUnit } from './ledger.js';
import { updateSession } from './records.js';
import { streamedAnswer } from './streamed.js';
import {
  type DepositPlan,
  LIVE_SESSION_STATES,
  publicSession,
  type SessionMethod,
  type SessionOffer,
  type SessionRecord,
  type SessionsApi,
  type SessionsConfig,
  scopeKey,
} from './types.js';

/** One call as the session hooks see it. */
export interface SessionCall {
  readonly url: URL;
  readonly method: string;
  readonly tags: readonly string[];
  readonly override: Rule | undefined;
  readonly timeoutMs: number;
  /** Whether the request can be sent more than once (its body was kept). */
  readonly replayable: boolean;
  /** Sends the call's own request with extra headers, never following redirects. */
  send(extra: Readonly<Record<string, string>>): Promise<Response>;
}

/**
 * What a hook decided: `response` is the call's answer; `challenge` is a 402 for the core's
 * own payment flow; `undefined`: go on as if sessions did not exist.
 */
export type SessionOutcome =
  | { readonly kind: 'response'; readonly response: Response }
  | { readonly kind: 'challenge'; readonly response: Response }
  | undefined;

/**
 * The session view of a core call, built by `createPayingFetch` (`send` is its deadline-bound
 * send to the seller).
 *
 * @example
 * ```ts
 * import { sessionCallOf } from './manager.js';
 * const view = sessionCallOf(call.prepared, call, (input, init) => send(call, input, init));
 * ```
 */
export function sessionCallOf(
  prepared: PreparedRequest,
  call: {
    readonly tags: readonly string[];
    readonly override: Rule | undefined;
    readonly timeoutMs: number;
  },
  send: (input: RequestInfo | URL, init: RequestInit) => Promise<Response>,
): SessionCall {
  const url = new URL(
    prepared.url,
    (globalThis as { location?: { href?: string } }).location?.href,
  );
  let sent = false;
  return {
    url,
    method: prepared.method,
    tags: call.tags,
    override: call.override,
    timeoutMs: call.timeoutMs,
    replayable: prepared.replayable,
    send(extra) {
      // A body that cannot be replayed is sent once, with the first send's init.
      const base =
        !prepared.replayable && !sent ? (prepared.firstInit ?? prepared.init) : prepared.init;
      sent = true;
      const headers = new Headers(base.headers ?? prepared.init.headers);
      for (const [name, value] of Object.entries(extra)) headers.set(name, value);
      return send(prepared.url, { ...base, headers, redirect: 'manual' });
    },
  };
}

/** The hooks and the public API of sessions for one paying fetch. */
export interface SessionHooks {
  /** The call as sessions see it (see {@link sessionCallOf}). */
  callOf: typeof sessionCallOf;
  attach(call: SessionCall): Promise<SessionOutcome>;
  challenge(call: SessionCall, response: Response): Promise<SessionOutcome>;
  readonly api: SessionsApi;
}

/**
 * The session hooks of a paying fetch (its children share the family's store, locks and
 * timers; each uses its own core: its policy, tags and budget scopes).
 *
 * @example
 * ```ts
 * import { sessionHooks } from './manager.js';
 * const sessions = config.sessions ? sessionHooks(core, config.sessions) : undefined;
 * ```
 */
export function sessionHooks(core: Core, config: SessionsConfig): SessionHooks {
  const family = sessionFamily(core.shared, config);
  return {
    callOf: sessionCallOf,
    attach: (call) => attachSession(family, core, call),
    challenge: (call, response) => openFromChallenge(family, core, call, response),
    api: {
      list: async (filter) => (await family.store.list(filter)).map(publicSession),
      get: async (id) => {
        const record = await family.store.get(id);
        return record && publicSession(record);
      },
      close: (id) => closeSession(family, family.cores.get(id) ?? core, id, 'person'),
      closeAll: async () => {
        family.stopped = true;
        for (const id of [...family.timers.keys()]) stopIdle(family, id);
        const out = [];
        for (const session of await family.store.list({ states: ['open', 'unknown', 'closing'] })) {
          if (session.owner !== core.shared.owner && session.state !== 'open') continue;
          out.push(
            await closeSession(family, family.cores.get(session.id) ?? core, session.id, 'client'),
          );
        }
        return out;
      },
      reconcile: () => reconcileSessions(family, core),
    },
  };
}

/** Before the first send: use an open session of this origin, when there is one. */
async function attachSession(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
): Promise<SessionOutcome> {
  const ids = family.active.get(call.url.origin);
  if (!ids || ids.size === 0) return undefined;
  // The most recently opened session of the origin (one per realm and signer).
  const id = [...ids].at(-1)!;
  return useSession(family, core, call, id, USE_RETRIES);
}

/** A use refused as stale (a challenge expired, a voucher overtaken by a concurrent one) is sent again at most this often. */
const USE_RETRIES = 3;

/** Sends the call on session `id`; handles its refusals (stale challenge, top-up, closed). */
async function useSession(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  id: string,
  /** How many more times a refused use may be sent again (a stale challenge, an overtaken voucher). */
  retries: number,
): Promise<SessionOutcome> {
  const mayRetry = retries > 0;
  let session = await countUse(family, core, id);
  if (session === 'closed') return undefined;
  if (session === 'topup') {
    if (!call.replayable) return undefined;
    // Ask for a fresh top-up challenge with an unauthenticated request (the spec's flow).
    const plain = await call.send({});
    if (plain.status !== 402) return { kind: 'response', response: plain };
    const done = await topUpFrom(family, core, call, id, plain);
    if (done.kind !== 'credited') return done.outcome;
    session = await countUse(family, core, id);
    if (typeof session === 'string') return undefined;
  }
  const method = family.methods.get(session.method)!;
  if (session.origin !== call.url.origin) {
    // Never: sessions are attached by origin. The credential goes nowhere else.
    await uncountUse(family, core, id);
    return undefined;
  }
  // Sent and no answer: the use stays counted (the server may have served and billed it).
  let credential: Readonly<Record<string, string>>;
  try {
    credential = await method.use(session);
  } catch (error) {
    // Nothing was sent: the use is given back (a voucher never signed is never owed).
    await uncountUse(family, core, id);
    throw error;
  }
  const response = await call.send(credential);
  if (response.status >= 300 && response.status < 400) {
    // A redirect: the credential never follows it; the core sends the request plainly.
    response.body?.cancel().catch(() => {});
    await recordSessionUse(core, session, call.method, call.tags);
    return undefined;
  }
  if (response.type === 'opaqueredirect') return undefined;
  if (response.status !== 402) {
    await recordSessionUse(core, session, call.method, call.tags);
    method.receipt(response, session);
    return { kind: 'response', response: answerOf(family, core, call, session, response) };
  }
  // Refused: not served, so not counted.
  await uncountUse(family, core, id);
  const input = inputOf(response, call.url, call.method, core.now());
  const refusal = await method.refusal(response, input);
  if (refusal.kind === 'challenge' && refusal.offer && mayRetry && call.replayable) {
    const fresh = refusal.offer;
    response.body?.cancel().catch(() => {});
    await updateSession(
      family.store,
      id,
      (s) =>
        fresh.realm === s.realm
          ? { ...s, methodData: { ...s.methodData, challenge: challengeOf(fresh) } }
          : undefined,
      core.now(),
    );
    return useSession(family, core, call, id, retries - 1);
  }
  if (refusal.kind === 'topup' && mayRetry && call.replayable) {
    const done = await topUpFrom(family, core, call, id, response);
    if (done.kind !== 'credited') return done.outcome;
    return useSession(family, core, call, id, 0);
  }
  if (refusal.kind === 'closed') {
    await closeSession(family, family.cores.get(id) ?? core, id, 'server').catch(() => {});
    // The same 402 carries a fresh challenge: open a new session on it, or let the core pay.
    return (
      (await openFromChallenge(family, core, call, response)) ?? {
        kind: 'challenge',
        response,
      }
    );
  }
  return { kind: 'response', response };
}

/** The challenge parameters of a session offer (echoed in credentials). */
function challengeOf(offer: SessionOffer): Readonly<Record<string, string>> {
  return (offer as unknown as { challenge: Readonly<Record<string, string>> }).challenge;
}

/**
 * Counts one use before it is sent: `spentAtomic += price` only while it stays within the
 * deposit. `topup` when it would pass the deposit; `closed` when the session is not open.
 */
async function countUse(
  family: SessionFamily,
  core: Core,
  id: string,
): Promise<SessionRecord | 'topup' | 'closed'> {
  const release = await family.counters.acquire(id);
  try {
    let verdict: 'topup' | 'closed' | undefined;
    const now = core.now();
    const next = await updateSession(
      family.store,
      id,
      (s) => {
        verdict = undefined;
        if (s.state !== 'open') {
          verdict = 'closed';
          return undefined;
        }
        if (s.spentAtomic + s.unitPriceAtomic > s.depositAtomic) {
          verdict = 'topup';
          return undefined;
        }
        return {
          ...s,
          spentAtomic: s.spentAtomic + s.unitPriceAtomic,
          uses: s.uses + 1,
          lastUsedAt: now,
          ...(family.idleCloseMs > 0 ? { idleCloseAt: now + idleMsOf(family, s) } : {}),
        };
      },
      now,
    );
    if (!next) return 'closed';
    return verdict ?? next;
  } finally {
    release();
  }
}

/** Gives back a use the server refused (it was not served). */
async function uncountUse(family: SessionFamily, core: Core, id: string): Promise<void> {
  const release = await family.counters.acquire(id);
  try {
    await updateSession(
      family.store,
      id,
      (s) =>
        s.uses > 0 && s.spentAtomic >= s.unitPriceAtomic
          ? { ...s, spentAtomic: s.spentAtomic - s.unitPriceAtomic, uses: s.uses - 1 }
          : undefined,
      core.now(),
    );
  } finally {
    release();
  }
}

/**
 * A 402 on a plain send: when it offers a session of a configured method that a wallet can
 * run, open one (or use the scope's open one) for this call.
 */
async function openFromChallenge(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  response: Response,
): Promise<SessionOutcome> {
  if (response.status !== 402 || family.methods.size === 0) return undefined;
  const answered = new URL(response.url || call.url.href);
  // Sessions open only with the origin that was called (a 402 after a redirect is the core's).
  if (answered.origin !== call.url.origin) return undefined;
  const input = inputOf(response, call.url, call.method, core.now());
  if (!input.challenges.some((challenge) => challenge.schemeLower === 'payment')) return undefined;
  for (const method of family.methods.values()) {
    const { offers } = method.offers(input);
    const offer = offers.find(
      (candidate) => typeof method.deposit(candidate, undefined) !== 'string',
    );
    if (!offer) continue;
    const wallet = core.wallets.find((candidate) => method.supports(candidate) === true);
    if (!wallet) continue;
    response.body?.cancel().catch(() => {});
    const scope = scopeKey(call.url.origin, offer.realm, method.method, wallet.id);
    const release = await family.scopes.acquire(scope);
    let outcome: SessionOutcome | { readonly use: string };
    try {
      outcome = await openLocked(family, core, call, method, wallet, offer, scope);
    } finally {
      release();
    }
    if (outcome && 'use' in outcome)
      return useSession(family, core, call, outcome.use, USE_RETRIES);
    return outcome;
  }
  return undefined;
}

/** Opens a session (scope lock held), or names the scope's open session to use. */
async function openLocked(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  method: SessionMethod,
  wallet: Wallet,
  offer: SessionOffer,
  scope: string,
): Promise<SessionOutcome | { readonly use: string }> {
  const existing = (await family.store.byScope(call.url.origin, offer.realm, method.method)).find(
    (s) => s.scope === scope && LIVE_SESSION_STATES.includes(s.state),
  );
  if (existing?.state === 'open') {
    indexSession(family, existing.origin, existing.id, true);
    family.cores.set(existing.id, family.cores.get(existing.id) ?? core);
    return { use: existing.id };
  }
  if (existing) throw scopeBusy(existing);

  const url = `${call.url.origin}${call.url.pathname}`;
  const unit = offer.offer.amount.unit;
  const ctx = {
    url: call.url,
    tags: call.tags,
    ...(call.override ? { override: call.override } : {}),
  };
  // maxDeposit in the offer's unit (a USD cap converted, rounded down): it sizes the opening.
  const cap = await core.engine.depositCap(ctx, unit);
  const plan = method.deposit(offer, cap !== undefined ? amount(cap, unit) : undefined);
  if (typeof plan === 'string') throw depositDenied(offer.offer, plan, url);

  // The payee is what the wallet verified (the invoice's signer), never the server's claim.
  const verified = wallet.payeeOf ? await wallet.payeeOf(plan.pay) : plan.pay.payee;
  const priced = withPayee(offer.offer, verified);
  const pay = withPayee(plan.pay, verified);
  const sessionId = randomId('ses_');
  const reservationId = randomId('r_');
  const decision = await core.engine.decide([priced], {
    ...ctx,
    method: call.method,
    canPay: () => wallet.canPay(pay),
    reservationId,
    deposit: { amount: plan.amount, ...(plan.maxFee ? { maxFee: plan.maxFee } : {}) },
    meta: { kind: 'session', sessionId },
  });
  const now = core.now();
  const record: SessionRecord = {
    id: sessionId,
    scope,
    origin: call.url.origin,
    realm: offer.realm,
    method: method.method,
    rail: method.rail,
    walletId: wallet.id,
    unit: unitKey(unit),
    payee: verified,
    resource: url,
    unitPriceAtomic: offer.offer.amount.value,
    depositAtomic: 0n,
    spentAtomic: 0n,
    refundedAtomic: 0n,
    uses: 0,
    state: 'opening',
    holds: [holdOf('open', reservationId, plan, decision)],
    version: 0,
    owner: core.shared.owner,
    createdAt: now,
    updatedAt: now,
    methodData: offer.serverIdleMs !== undefined ? { serverIdleMs: offer.serverIdleMs } : {},
  };
  const created = await family.store.put(record, 0);
  if (!created.ok) {
    await core.budget.release(reservationId).catch(() => {});
    const other = created.current;
    if (other?.state === 'open') return { use: other.id };
    throw other
      ? scopeBusy(other)
      : new StipendError('JOURNAL_CONFLICT', 'The session could not be stored.');
  }
  family.cores.set(sessionId, core);
  rememberUnit(sessionId, unit);
  await recordDeposit(
    core,
    created.record,
    reservationId,
    { method: call.method, offer: priced, rate: decision.rate, tags: call.tags },
    plan.amount,
    decision.usdMicros,
    plan.reference,
  );

  // Pay the deposit (and build the open credential).
  let opened: Awaited<ReturnType<SessionMethod['open']>>;
  try {
    opened = await withDeadline(
      ({ signal }) =>
        method.open({
          offer,
          plan: { ...plan, pay },
          session: created.record,
          wallet,
          pay: {
            request: { method: call.method, url },
            idempotencyKey: sessionId,
            maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
            reservationId,
            signal,
            now: core.now(),
          },
        }),
      core.payTimeoutMs,
      `The wallet ${wallet.id} (session deposit)`,
    );
  } catch (error) {
    throw await depositFailed(family, core, sessionId, reservationId, error, 'open');
  }
  const fee = opened.proof.fee?.value;
  let session = (await updateSession(
    family.store,
    sessionId,
    (s) => ({
      ...s,
      holds: s.holds.map((hold) =>
        hold.reservationId === reservationId
          ? { ...hold, state: 'paid' as const, ...(fee !== undefined ? { feeAtomic: fee } : {}) }
          : hold,
      ),
      depositAtomic: plan.amount.value,
      // The opening request is the first use (the spec bills it like any other).
      spentAtomic: s.unitPriceAtomic,
      uses: 1,
      methodData: { ...s.methodData, ...opened.methodData },
      ...(opened.secret ? { secret: opened.secret } : {}),
    }),
    core.now(),
  ))!;
  await Promise.resolve(
    core.ledger.update(reservationId, {
      status: 'held',
      reference: opened.proof.reference,
      updatedAt: core.now(),
    }),
  ).catch(() => {});

  let response: Response;
  try {
    response = await call.send(opened.headers);
  } catch (error) {
    throw await openUnknown(
      family,
      core,
      sessionId,
      `the opening request got no answer (${(error as Error).message})`,
    );
  }
  if (response.status === 402) {
    const refusal = await method.refusal(
      response,
      inputOf(response, call.url, call.method, core.now()),
    );
    response.body?.cancel().catch(() => {});
    throw await openUnknown(
      family,
      core,
      sessionId,
      `the server refused the opening: ${refusal.message}`,
    );
  }
  const openedAt = core.now();
  session = (await updateSession(
    family.store,
    sessionId,
    (s) => ({
      ...s,
      state: 'open',
      openedAt,
      lastUsedAt: openedAt,
      ...(family.idleCloseMs > 0 ? { idleCloseAt: openedAt + idleMsOf(family, s) } : {}),
    }),
    openedAt,
  ))!;
  indexSession(family, session.origin, sessionId, true);
  armIdle(family, core, sessionId, idleMsOf(family, session));
  await recordSessionUse(core, session, call.method, call.tags);
  method.receipt(response, session);
  return { kind: 'response', response: answerOf(family, core, call, session, response) };
}

/** A session call's answer for the caller: a streamed one is metered (`streamed.ts`). */
function answerOf(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  session: SessionRecord,
  response: Response,
): Response {
  return streamedAnswer(family, core, session, response, {
    method: call.method,
    tags: call.tags,
    topUp: (signal) => streamTopUp(family, core, call, session.id, signal),
  });
}

/**
 * The server paused a stream for a top-up (`payment-need-topup`): the spec's flow, as for a
 * 402 (an unauthenticated request for a fresh invoice, then the top-up credential), when the
 * client's own count says the balance is used up. Nothing is paid once `signal` aborted (the
 * caller cancelled the stream), for a call that cannot be sent again, or on the server's word
 * alone. Rejects with why a needed top-up was not made.
 */
async function streamTopUp(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  id: string,
  signal: AbortSignal,
): Promise<void> {
  const session = await family.store.get(id);
  if (signal.aborted || session?.state !== 'open') return;
  if (session.spentAtomic + session.unitPriceAtomic <= session.depositAtomic) return;
  if (!call.replayable) return;
  const plain = await call.send({});
  if (plain.status !== 402 || signal.aborted) {
    plain.body?.cancel().catch(() => {});
    return;
  }
  const done = await topUpFrom(family, core, call, id, plain, signal);
  // A top-up answered with the resource (aperture) is not this stream: let it go.
  if (done.kind === 'done' && done.outcome) done.outcome.response.body?.cancel().catch(() => {});
}

/** A budget hold for an opening or a top-up, as decided. */
function holdOf(
  kind: 'open' | 'topUp',
  reservationId: string,
  plan: DepositPlan,
  decision: {
    usdMicros: bigint;
    rate: { usdMicrosPerUnitNumerator: bigint; denominator: bigint };
    feeRate?: { usdMicrosPerUnitNumerator: bigint; denominator: bigint };
  },
) {
  return {
    reservationId,
    kind,
    atomic: plan.amount.value,
    reservedUsdMicros: decision.usdMicros,
    rate: {
      numerator: decision.rate.usdMicrosPerUnitNumerator,
      denominator: decision.rate.denominator,
    },
    ...(decision.feeRate
      ? {
          feeRate: {
            numerator: decision.feeRate.usdMicrosPerUnitNumerator,
            denominator: decision.feeRate.denominator,
          },
        }
      : {}),
    ...(plan.reference !== undefined ? { reference: plan.reference } : {}),
    state: 'paying' as const,
  };
}

/** An offer with the payee the wallet verified. */
function withPayee(offer: PaymentOffer, payee: string): PaymentOffer {
  return offer.payee === payee ? offer : freezeOffer({ ...offer, payee });
}

/** The wallet failed on a deposit or top-up: released when provably unpaid, else held. */
async function depositFailed(
  family: SessionFamily,
  core: Core,
  sessionId: string,
  reservationId: string,
  error: unknown,
  kind: 'open' | 'topUp',
): Promise<unknown> {
  const facts = walletFailureFacts(error);
  const paid = facts.paid;
  if (paid === false) await core.budget.release(reservationId).catch(() => {});
  await Promise.resolve(
    core.ledger.update(reservationId, {
      status: paid === false ? 'released' : 'held',
      outcome: 'wallet_failed',
      updatedAt: core.now(),
    }),
  ).catch(() => {});
  const session = await updateSession(
    family.store,
    sessionId,
    (s) => {
      const holds = s.holds.map((hold) =>
        hold.reservationId === reservationId
          ? { ...hold, state: paid === false ? ('void' as const) : ('unknown' as const) }
          : hold,
      );
      if (kind === 'topUp') return { ...s, holds };
      return paid === false
        ? {
            ...s,
            holds,
            state: 'closed' as const,
            closedAt: core.now(),
            closedBy: 'client' as const,
          }
        : {
            ...s,
            holds,
            state: 'unknown' as const,
            failure: {
              code: 'OUTCOME_UNKNOWN',
              message: 'The wallet did not say whether the deposit was paid.',
            },
          };
    },
    core.now(),
  );
  if (session?.state === 'closed') indexSession(family, session.origin, sessionId, false);
  return error;
}

/** The deposit was paid but the opening is not confirmed: the session becomes `unknown`. */
async function openUnknown(
  family: SessionFamily,
  core: Core,
  sessionId: string,
  why: string,
): Promise<PaymentFailedError> {
  const session = await updateSession(
    family.store,
    sessionId,
    (s) => ({ ...s, state: 'unknown', failure: { code: 'OUTCOME_UNKNOWN', message: why } }),
    core.now(),
  );
  return new PaymentFailedError({
    code: 'OUTCOME_UNKNOWN',
    reason: 'session_open_unknown',
    paid: true,
    message: `The session deposit for ${session?.origin ?? 'the server'} was paid, but ${why}. The deposit stays counted and no other session of this scope opens until payingFetch.sessions.reconcile() (or sessions.close("${sessionId}")) settles it.`,
    details: { sessionId },
  });
}

/** A scope held by a session that is not open (unknown, opening, closing). */
function scopeBusy(session: SessionRecord): StipendError {
  return new StipendError(
    session.state === 'unknown' ? 'OUTCOME_UNKNOWN' : 'PURCHASE_IN_PROGRESS',
    `A session with ${session.origin} (realm ${session.realm}) is ${session.state}; no second one opens until it settles. Run payingFetch.sessions.reconcile() or sessions.close("${session.id}").`,
    { details: { sessionId: session.id, state: session.state } },
  );
}

/** A deposit the host rule's `maxDeposit` does not allow (or no deposit to pay). */
function depositDenied(offer: PaymentOffer, reason: string, url: string): PolicyDeniedError {
  return new PolicyDeniedError({
    reason: 'deposit_cap',
    message: `Stipend opened no session for ${url}: ${reason}`,
    offers: [
      {
        offerId: offer.id,
        protocol: offer.protocol,
        scheme: offer.scheme,
        amount: `${offer.amount.value} ${unitKey(offer.amount.unit)}`,
        code: 'deposit_cap',
        reason,
      },
    ],
    url,
  });
}

/** How a top-up ended: credited (send the call again), or the call's outcome. */
type TopUpDone =
  | { readonly kind: 'credited' }
  | { readonly kind: 'done'; readonly outcome: SessionOutcome };

/**
 * Tops session `id` up with the deposit invoice of `response` (a 402 with a fresh challenge),
 * once per need: under the scope lock, a session another call has topped up meanwhile is not
 * topped up again. `maxDeposit` caps what the session holds unspent after the top-up.
 */
async function topUpFrom(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  id: string,
  response: Response,
  signal?: AbortSignal,
): Promise<TopUpDone> {
  const current = await family.store.get(id);
  if (!current) return { kind: 'done', outcome: undefined };
  const release = await family.scopes.acquire(current.scope);
  try {
    const session = await family.store.get(id);
    if (session?.state !== 'open') return { kind: 'done', outcome: undefined };
    if (session.spentAtomic + session.unitPriceAtomic <= session.depositAtomic) {
      response.body?.cancel().catch(() => {});
      return { kind: 'credited' };
    }
    if (!family.topUp) {
      response.body?.cancel().catch(() => {});
      await closeLocked(family, family.cores.get(id) ?? core, id, 'client').catch(() => {});
      throw new StipendError(
        'POLICY_DENIED',
        `The session with ${session.origin} is used up, and top-ups are off (sessions.topUp: false); it was closed.`,
        { details: { sessionId: id } },
      );
    }
    if (signal?.aborted) {
      response.body?.cancel().catch(() => {});
      return { kind: 'done', outcome: undefined };
    }
    return await topUpLocked(family, core, call, session, response, signal);
  } finally {
    release();
  }
}

async function topUpLocked(
  family: SessionFamily,
  core: Core,
  call: SessionCall,
  session: SessionRecord,
  response: Response,
  signal?: AbortSignal,
): Promise<TopUpDone> {
  const id = session.id;
  const method = family.methods.get(session.method)!;
  const wallet = walletOf(core, session);
  const input = inputOf(response, call.url, call.method, core.now());
  response.body?.cancel().catch(() => {});
  const offer = method
    .offers(input)
    .offers.find(
      (candidate) =>
        candidate.realm === session.realm &&
        typeof method.deposit(candidate, undefined) !== 'string',
    );
  const url = `${call.url.origin}${call.url.pathname}`;
  if (!offer || !wallet) {
    throw new StipendError(
      'CHALLENGE_INVALID',
      `The server at ${session.origin} asked to top up the session but sent no usable top-up challenge; nothing was paid.`,
      { details: { sessionId: id } },
    );
  }
  const unit = offer.offer.amount.unit;
  const ctx = {
    url: call.url,
    tags: call.tags,
    ...(call.override ? { override: call.override } : {}),
  };
  const cap = await core.engine.depositCap(ctx, unit);
  const balance = session.depositAtomic - session.spentAtomic;
  const left = cap === undefined ? undefined : cap - (balance > 0n ? balance : 0n);
  const plan = method.deposit(
    offer,
    left === undefined ? undefined : amount(left > 0n ? left : 0n, unit),
  );
  if (typeof plan === 'string')
    throw depositDenied(offer.offer, plan.replace('the deposit', 'the top-up'), url);
  const verified = wallet.payeeOf ? await wallet.payeeOf(plan.pay) : plan.pay.payee;
  if (verified !== session.payee) {
    throw new StipendError(
      'OFFER_MISMATCH',
      `The top-up invoice is signed by ${verified}, not by ${session.payee} who holds the session; nothing was paid.`,
      { details: { sessionId: id } },
    );
  }
  const priced = withPayee(offer.offer, verified);
  const pay = withPayee(plan.pay, verified);
  const reservationId = randomId('r_');
  const decision = await core.engine.decide([priced], {
    ...ctx,
    method: call.method,
    canPay: () => wallet.canPay(pay),
    reservationId,
    deposit: { amount: plan.amount, ...(plan.maxFee ? { maxFee: plan.maxFee } : {}) },
    meta: { kind: 'session', sessionId: id, action: 'topUp' },
    ...(signal ? { signal } : {}),
  });
  if (signal?.aborted) {
    // The stream that asked was cancelled while the policy decided: nothing is paid.
    await core.budget.release(reservationId).catch(() => {});
    return { kind: 'done', outcome: undefined };
  }
  const withHold = (await updateSession(
    family.store,
    id,
    (s) => ({ ...s, holds: [...s.holds, holdOf('topUp', reservationId, plan, decision)] }),
    core.now(),
  ))!;
  await recordDeposit(
    core,
    withHold,
    reservationId,
    { method: call.method, offer: priced, rate: decision.rate, tags: call.tags },
    plan.amount,
    decision.usdMicros,
    plan.reference,
  );
  let result: Awaited<ReturnType<SessionMethod['topUp']>>;
  try {
    result = await withDeadline(
      ({ signal }) =>
        method.topUp({
          session: withHold,
          offer,
          plan: { ...plan, pay },
          wallet,
          pay: {
            request: { method: call.method, url },
            idempotencyKey: `${id}:${reservationId}`,
            maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
            reservationId,
            signal,
            now: core.now(),
          },
        }),
      core.payTimeoutMs,
      `The wallet ${wallet.id} (session top-up)`,
    );
  } catch (error) {
    throw await depositFailed(family, core, id, reservationId, error, 'topUp');
  }
  const fee = result.proof.fee?.value;
  await updateSession(
    family.store,
    id,
    (s) => ({
      ...s,
      holds: s.holds.map((hold) =>
        hold.reservationId === reservationId
          ? { ...hold, state: 'paid' as const, ...(fee !== undefined ? { feeAtomic: fee } : {}) }
          : hold,
      ),
      depositAtomic: s.depositAtomic + plan.amount.value,
      methodData: { ...s.methodData, ...result.methodData },
    }),
    core.now(),
  );
  await Promise.resolve(
    core.ledger.update(reservationId, {
      status: 'held',
      reference: result.proof.reference,
      updatedAt: core.now(),
    }),
  ).catch(() => {});
  let answer: Response;
  try {
    answer = await call.send(result.headers);
  } catch (error) {
    await updateSession(
      family.store,
      id,
      (s) => ({
        ...s,
        failure: {
          code: 'OUTCOME_UNKNOWN',
          message: `A top-up was paid but its request got no answer (${(error as Error).message}).`,
        },
      }),
      core.now(),
    );
    throw new PaymentFailedError({
      code: 'OUTCOME_UNKNOWN',
      reason: 'session_topup_unknown',
      paid: true,
      message: `A top-up of the session with ${session.origin} was paid, but the server did not answer; the deposit stays counted. Retry the call, or close the session (payingFetch.sessions.close("${id}")).`,
      details: { sessionId: id },
    });
  }
  const read = await method.topUpAnswer(answer, withHold);
  if (read.kind === 'credited') return { kind: 'credited' };
  if (read.kind === 'served') {
    const counted = await countUse(family, core, id);
    if (typeof counted === 'string') {
      return { kind: 'done', outcome: { kind: 'response', response: answer } };
    }
    await recordSessionUse(core, counted, call.method, call.tags);
    return {
      kind: 'done',
      outcome: { kind: 'response', response: answerOf(family, core, call, counted, answer) },
    };
  }
  throw new PaymentFailedError({
    code: 'PAYMENT_FAILED',
    reason: 'session_topup_refused',
    paid: true,
    message: `A top-up of the session with ${session.origin} was paid, but the server refused it (${read.refusal.message}); the money stays counted until the session is closed and its refund confirmed.`,
    details: { sessionId: id },
  });
}
