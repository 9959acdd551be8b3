/**
 * Reading a 402: every adapter that recognises it contributes offers, bound to the origin
 * that answered (invariant 4).
 *
 * @module
 */
import { isStipendError, type StipendError } from '../errors/base.js';
import { ChallengeParseError } from '../errors/challenge.js';
import { redactUrl } from '../internal/redact.js';
import { summarizeOffer } from '../ledger/events.js';
import type { PaymentOffer } from '../offer.js';
import type { ChallengeInput } from '../protocols/adapter.js';
import { type ChallengeRead, challengeInput } from './challenge.js';
import { type Core, reported } from './core.js';

/** Headers a cross-origin response shows without Access-Control-Expose-Headers. */
const SAFELISTED = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);

/** True when a CORS response shows only safelisted headers (so any challenge is hidden). */
function hidesHeaders(response: Response): boolean {
  for (const name of response.headers.keys()) if (!SAFELISTED.has(name)) return false;
  return true;
}

/** A cross-origin 402 whose payment headers the server did not expose to this page. */
function hiddenByCors(response: Response): boolean {
  return response.type === 'cors' && response.status === 402 && hidesHeaders(response);
}

function hiddenError(url: URL): ChallengeParseError {
  return new ChallengeParseError({
    protocol: 'unknown',
    code: 'CHALLENGE_HIDDEN',
    message: `The 402 from ${url.origin} hides its payment headers from this page (CORS). The server must send Access-Control-Expose-Headers listing PAYMENT-REQUIRED, WWW-Authenticate and PAYMENT-RESPONSE / Payment-Receipt; nothing was paid.`,
  });
}

/** The offers of a 402 and what was read to get them. */
export interface ReadOffers {
  readonly input: ChallengeInput;
  readonly offers: readonly PaymentOffer[];
}

/**
 * Reads the offers of a 402 (or x402's 412). Returns `undefined` when no adapter recognises
 * the response (it is then returned to the caller untouched). Throws a `ChallengeParseError`
 * when a challenge was there but gave no payable offer.
 */
export async function readOffers(
  core: Core,
  response: Response,
  requestUrl: string,
  method: string,
  read: ChallengeRead = {},
): Promise<ReadOffers | undefined> {
  const { input, headerErrors } = challengeInput(
    response,
    requestUrl,
    method,
    core.now(),
    core.maxChallengeBytes,
    read,
  );
  const relevant = core.adapters.filter((adapter) => adapter.detect(input));
  if (relevant.length === 0) {
    if (hiddenByCors(response)) throw reported(core, redactUrl(input.url), hiddenError(input.url));
    return undefined;
  }

  const offers: PaymentOffer[] = [];
  const errors: StipendError[] = [];
  let dropped = 0;
  for (const adapter of relevant) {
    try {
      for (const offer of await adapter.parse(input)) {
        if (offer.origin === input.url.origin) offers.push(offer);
        else dropped++;
      }
    } catch (error) {
      errors.push(
        isStipendError(error)
          ? error
          : new ChallengeParseError({
              protocol: adapter.protocol,
              message: `The ${adapter.protocol} challenge could not be read.`,
              cause: error,
            }),
      );
    }
  }
  const url = redactUrl(input.url);
  core.emitter.emit('challenge', {
    url,
    offers: offers.map(summarizeOffer),
    errors: [...headerErrors, ...errors.map((error) => error.shortMessage)],
  });
  if (offers.length === 0 && errors.length === 0 && dropped === 0) {
    // Recognised by shape only (a JSON 402, say) and nothing to offer: not ours to pay —
    // unless CORS hid the headers that carried the terms.
    if (hiddenByCors(response)) throw reported(core, url, hiddenError(input.url));
    return undefined;
  }
  if (offers.length === 0) {
    throw reported(
      core,
      url,
      errors[0] ??
        new ChallengeParseError({
          protocol: relevant[0]!.protocol,
          message: 'The 402 response carried no payable offer for this origin.',
        }),
    );
  }
  return { input, offers };
}
