import type { ChallengeInput } from '../protocols/adapter.js';
import { parseWwwAuthenticateLenient } from '../protocols/www-authenticate.js';

/**
 * Reads a body as text, giving up (returning `undefined`) past `cap` bytes, so a hostile
 * server cannot make the client hold a huge 402 body.
 */
export async function readTextBounded(
  response: Response,
  cap: number,
): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > cap) return undefined;
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

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
