/**
 * Reading a server's answers on a Lightning session: the `Payment-Receipt` (a claim; its
 * `reference` must be the session id, and an empty one is discarded), the RFC 9457 problem
 * of a refused session call (`https://paymentauth.org/problems/lightning/<type>`), and the
 * answer to a top-up (the spec's `{"status":"ok"}`, or the resource as aperture serves it).
 *
 * @module
 */
import { readTextBounded } from '../../../internal/body-text.js';
import { msat } from '../../../money/unit.js';
import type {
  SessionOffer,
  SessionReceipt,
  SessionRecord,
  SessionRefusal,
  StreamSignal,
  TopUpAnswer,
} from '../../../session/types.js';
import { parseReceipt } from '../settle.js';

const PROBLEM_BASES = [
  'https://paymentauth.org/problems/lightning/',
  'https://paymentauth.org/problems/',
];
const MAX_PROBLEM_BYTES = 8 * 1024;
const MAX_TOPUP_BYTES = 1024;

/** The session's secrets, for redaction of anything a server echoes. */
function secretsOf(session: SessionRecord): string[] {
  return Object.values(session.secret ?? {}).filter((value) => value.length >= 16);
}

/**
 * Reads the `Payment-Receipt` of a session call. Discarded (`undefined`) when absent,
 * unreadable, with an empty `reference`, or naming another session. The refund it states is a
 * claim: the client confirms refunds on its own node.
 *
 * @example
 * ```ts
 * import { readSessionReceipt } from './answer.js';
 * const receipt = readSessionReceipt(response, session, 'b'.repeat(64));
 * ```
 */
export function readSessionReceipt(
  response: Response,
  session: SessionRecord,
  sessionId: string | undefined,
): SessionReceipt | undefined {
  const receipt = parseReceipt(response.headers.get('payment-receipt'));
  if (!receipt?.reference || sessionId === undefined || receipt.reference !== sessionId) {
    return undefined;
  }
  const raw = receipt.raw as { refundSats?: unknown; refundStatus?: unknown };
  const secrets = secretsOf(session);
  const clean = JSON.parse(
    secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), JSON.stringify(raw)),
  ) as unknown;
  const refund =
    typeof raw.refundSats === 'number' &&
    Number.isSafeInteger(raw.refundSats) &&
    raw.refundSats >= 0
      ? msat(BigInt(raw.refundSats) * 1000n)
      : undefined;
  return Object.freeze({
    reference: receipt.reference,
    ...(refund ? { refundClaim: refund } : {}),
    ...(typeof raw.refundStatus === 'string'
      ? { refundStatus: raw.refundStatus.slice(0, 32) }
      : {}),
    raw: clean,
  });
}

/** The problem type name of a refusal body (`session-closed`), when it has one. */
export async function problemName(
  response: Response,
): Promise<{ name?: string; detail?: string } | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!/json/i.test(type) || response.bodyUsed) return undefined;
  const text = await readTextBounded(response.clone(), MAX_PROBLEM_BYTES, {
    deadlineMs: 5_000,
  }).catch(() => undefined);
  if (text === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const problem = body as { type?: unknown; detail?: unknown };
  const uri = typeof problem.type === 'string' ? problem.type : '';
  const base = PROBLEM_BASES.find((prefix) => uri.startsWith(prefix));
  const name = base ? uri.slice(base.length) : undefined;
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail.replace(/[^\x20-\x7e]/g, ' ').slice(0, 200)
      : undefined;
  return { ...(name ? { name } : {}), ...(detail ? { detail } : {}) };
}

/**
 * Classifies a refused session call by its problem type. `insufficient-balance`: top up;
 * `session-closed` / `session-not-found`: the session is over; `challenge-expired` /
 * `unknown-challenge`: echo the fresh challenge; anything else (including a 402 without a
 * problem, which could mean either): `other`, and nothing is paid on it.
 *
 * @example
 * ```ts
 * import { classifyRefusal } from './answer.js';
 * const refusal = await classifyRefusal(response, freshOffer);
 * if (refusal.kind === 'topup') console.warn('top up');
 * ```
 */
export async function classifyRefusal(
  response: Response,
  fresh: SessionOffer | undefined,
): Promise<SessionRefusal> {
  const problem = await problemName(response);
  const said = problem?.detail ? ` (server said: "${problem.detail}")` : '';
  const withOffer = fresh ? { offer: fresh } : {};
  switch (problem?.name) {
    case 'insufficient-balance':
      return { kind: 'topup', ...withOffer, message: `the session balance is used up${said}` };
    case 'session-closed':
    case 'session-not-found':
      return {
        kind: 'closed',
        message: `the server says the session is ${problem.name === 'session-closed' ? 'closed' : 'unknown to it'}${said}`,
      };
    case 'challenge-expired':
    case 'unknown-challenge':
      return { kind: 'challenge', ...withOffer, message: `the echoed challenge is stale${said}` };
    default:
      return {
        kind: 'other',
        message: `the server answered ${response.status}${problem?.name ? ` ${problem.name}` : ''} to a session call${said}`,
      };
  }
}

/**
 * Reads the answer to a top-up: 2xx with a small JSON `{"status":"ok"}` body is the spec's
 * acknowledgement (send the call again with a bearer credential); another 2xx body is the
 * resource (aperture serves it on topUp); anything else is a refusal.
 *
 * @example
 * ```ts
 * import { readTopUpAnswer } from './answer.js';
 * const answer = await readTopUpAnswer(response, undefined);
 * ```
 */
export async function readTopUpAnswer(
  response: Response,
  fresh: SessionOffer | undefined,
): Promise<TopUpAnswer> {
  if (response.status < 200 || response.status >= 300) {
    return { kind: 'refused', refusal: await classifyRefusal(response, fresh) };
  }
  const type = response.headers.get('content-type') ?? '';
  if (/json/i.test(type)) {
    const text = await readTextBounded(response.clone(), MAX_TOPUP_BYTES, {
      deadlineMs: 5_000,
    }).catch(() => undefined);
    if (text !== undefined) {
      try {
        const body = JSON.parse(text) as { status?: unknown };
        if (body && typeof body === 'object' && body.status === 'ok') {
          response.body?.cancel().catch(() => {});
          return { kind: 'credited' };
        }
      } catch {
        // not the acknowledgement: the resource
      }
    }
  }
  return { kind: 'served' };
}

/** The JSON object of an event's data, or `undefined`. */
function eventObject(data: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(data) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A non-negative safe integer of an event's data, or `undefined`. */
function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Reads one server-sent event of a streamed Lightning session answer
 * (draft-lightning-session-00, "Streaming and Per-Chunk Billing"): a `message` event whose
 * data is not the `[DONE]` sentinel is one metered chunk; `payment-need-topup` and
 * `session-timeout` must name this session (`sessionId`); `payment-receipt` must name it as its
 * `reference`, and its `spent` (sat) and `units` are claims. Anything else, or an event naming
 * another session, is `undefined` (not acted on).
 *
 * @example
 * ```ts
 * import { readStreamEvent } from './answer.js';
 * readStreamEvent({ name: 'message', data: '{"chunk":1}' }, 'b'.repeat(64)); // { kind: 'unit' }
 * ```
 */
export function readStreamEvent(
  event: { readonly name: string; readonly data: string },
  sessionId: string | undefined,
): StreamSignal | undefined {
  if (event.name === 'message') {
    return event.data.trim() === '[DONE]' ? undefined : { kind: 'unit' };
  }
  if (sessionId === undefined) return undefined;
  const body = eventObject(event.data);
  if (!body) return undefined;
  if (event.name === 'payment-need-topup' || event.name === 'session-timeout') {
    if (body.sessionId !== sessionId) return undefined;
    return { kind: event.name === 'payment-need-topup' ? 'topup' : 'timeout' };
  }
  if (event.name === 'payment-receipt') {
    if (body.reference !== sessionId) return undefined;
    const spent = count(body.spent);
    const units = count(body.units);
    return {
      kind: 'receipt',
      ...(spent !== undefined ? { spentAtomic: BigInt(spent) * 1000n } : {}),
      ...(units !== undefined ? { units } : {}),
    };
  }
  return undefined;
}
