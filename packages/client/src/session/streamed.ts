/**
 * Streamed answers on a session (`text/event-stream`, draft-lightning-session-00 "Streaming and
 * Per-Chunk Billing"). The caller gets every byte unchanged (`stream.ts`); as the events pass,
 * the client:
 *
 * - counts one unit per metered chunk it received (the method says which events are chunks):
 *   the use counted before the call was sent pays for the first, each further one adds the unit
 *   price to `spentAtomic`, never past the deposit (units streamed past it are recorded as a
 *   disagreement, not counted). A ledger record per read carries the units it counted.
 * - on `payment-need-topup`, before it reads on (only if the caller asks for more), tops the
 *   session up the way a 402 does (an unauthenticated request for a fresh invoice, then
 *   policy, budget and `maxDeposit`, the credential to the session's origin only), and only
 *   when its own count says the balance is used up: a server's request alone pays nothing.
 *   A refused top-up ends the stream with the error.
 * - on `session-timeout`, stops using the session and closes it (the close credential, then
 *   the refund confirmed on its own node), before the caller's stream ends.
 * - reads `payment-receipt` as a claim: a `spent` above what the client counted for the stream
 *   is recorded as the session's `disagreement`, never booked.
 *
 * @module
 */
import type { Core } from '../fetch/core.js';
import { closeSession } from './close.js';
import { idleMsOf, indexSession, type SessionFamily } from './family.js';
import { recordSessionUse } from './ledger.js';
import { updateSession } from './records.js';
import type { SseEvent } from './sse.js';
import { isEventStream, meterStream } from './stream.js';
import type { SessionRecord } from './types.js';

/** What a streamed answer needs of the call it answers. */
export interface StreamedCall {
  readonly method: string;
  readonly tags: readonly string[];
  /**
   * Tops the session up on the server's request (the manager's 402 top-up path); resolves
   * when done or not needed, rejects with why it could not.
   */
  topUp(signal: AbortSignal): Promise<void>;
}

/**
 * The answer as the caller gets it: a streamed answer of a method that reads stream events is
 * metered; anything else is returned as it is.
 *
 * @example
 * ```ts
 * import { streamedAnswer } from './streamed.js';
 * return { kind: 'response', response: streamedAnswer(family, core, session, response, call) };
 * ```
 */
export function streamedAnswer(
  family: SessionFamily,
  core: Core,
  session: SessionRecord,
  response: Response,
  call: StreamedCall,
): Response {
  const method = family.methods.get(session.method);
  if (!method?.streamEvent || !isEventStream(response)) return response;
  const read = method.streamEvent.bind(method);
  const id = session.id;
  const price = session.unitPriceAtomic;
  /** Units of this stream the client counted (the use counted before sending is the first). */
  let counted = 1;
  /** Units received that the pre-counted use has not covered yet. */
  let credit = 1;
  let topUpAsked = false;
  let closing: Promise<unknown> | undefined;

  async function countUnits(wanted: number): Promise<void> {
    if (wanted <= 0) return;
    let added = 0;
    const release = await family.counters.acquire(id);
    let after: SessionRecord | undefined;
    try {
      const now = core.now();
      after = await updateSession(
        family.store,
        id,
        (s) => {
          added = 0;
          if (s.state !== 'open' || price <= 0n) return undefined;
          const room = (s.depositAtomic - s.spentAtomic) / price;
          added = Number(room < BigInt(wanted) ? (room > 0n ? room : 0n) : BigInt(wanted));
          if (added === 0) return undefined;
          return {
            ...s,
            spentAtomic: s.spentAtomic + BigInt(added) * price,
            uses: s.uses + added,
            lastUsedAt: now,
            ...(family.idleCloseMs > 0 ? { idleCloseAt: now + idleMsOf(family, s) } : {}),
          };
        },
        now,
      );
    } finally {
      release();
    }
    counted += added;
    if (after && added > 0) {
      await recordSessionUse(core, after, call.method, call.tags, added).catch(() => {});
    }
    if (added < wanted) {
      // Chunks streamed past the deposit the client counted: the server's word, not money.
      await disagree('stream', BigInt(counted + wanted - added) * price);
    }
  }

  async function disagree(source: 'receipt' | 'stream', claimedAtomic: bigint): Promise<void> {
    const countedAtomic = BigInt(counted) * price;
    if (claimedAtomic <= countedAtomic) return;
    await updateSession(
      family.store,
      id,
      (s) => ({ ...s, disagreement: { source, claimedAtomic, countedAtomic, at: core.now() } }),
      core.now(),
    ).catch(() => {});
  }

  async function onEvents(events: readonly SseEvent[]): Promise<void> {
    let units = 0;
    for (const event of events) {
      const signal = read(event, session);
      if (!signal) continue;
      if (signal.kind === 'unit') {
        if (credit > 0) credit--;
        else units++;
        continue;
      }
      await countUnits(units);
      units = 0;
      if (signal.kind === 'topup') topUpAsked = true;
      else if (signal.kind === 'timeout') closing ??= timedOut();
      else if (signal.spentAtomic !== undefined) await disagree('receipt', signal.spentAtomic);
      else if (signal.units !== undefined) await disagree('receipt', BigInt(signal.units) * price);
    }
    await countUnits(units);
  }

  /** The server gave up on the held stream: the session is used no more, and closed. */
  function timedOut(): Promise<unknown> {
    indexSession(family, session.origin, id, false);
    return closeSession(family, family.cores.get(id) ?? core, id, 'client').catch(() => {});
  }

  return meterStream(response, {
    read: onEvents,
    async beforeRead(signal) {
      if (!topUpAsked || closing) return;
      topUpAsked = false;
      await call.topUp(signal);
    },
    async end(how) {
      if (how === 'done' && closing) await closing;
    },
  });
}
