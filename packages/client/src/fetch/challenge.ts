import { readTextBounded } from '../internal/body-text.js';
import type { ChallengeInput } from '../protocols/adapter.js';
import { parseWwwAuthenticateLenient } from '../protocols/www-authenticate.js';

/**
 * Builds the shared, read-once view of a 402 response that every adapter reads. The body
 * is read from a clone, lazily, at most once; the caller still gets the original.
 */
export function challengeInput(
  response: Response,
  requestUrl: string,
  method: string,
  now: number,
  bodyCap: number,
): { input: ChallengeInput; headerErrors: readonly string[] } {
  const header = response.headers.get('www-authenticate');
  let challenges: ChallengeInput['challenges'] = [];
  let headerErrors: readonly string[] = [];
  if (header) {
    const parsed = parseWwwAuthenticateLenient(header);
    challenges = parsed.challenges;
    headerErrors = parsed.errors.map((error) => error.message);
  }
  let body: Promise<string | undefined> | undefined;
  const clone = response.bodyUsed ? undefined : response.clone();
  const input: ChallengeInput = {
    status: response.status,
    headers: response.headers,
    url: new URL(response.url || requestUrl),
    method,
    challenges,
    now,
    bodyText() {
      if (!clone) return Promise.resolve(undefined);
      body ??= readTextBounded(clone, bodyCap).catch(() => undefined);
      return body;
    },
  };
  return { input, headerErrors };
}
