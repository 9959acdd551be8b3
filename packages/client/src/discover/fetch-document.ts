/**
 * Reading one discovery document from a server that may be hostile: every request and body
 * read has a deadline, bodies are capped in bytes actually received, redirects are followed by
 * hand (at most three hops, each on the origin asked about), no credentials are sent, and JSON
 * is refused when nested deeper than a bound before it is parsed.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import { readTextBounded } from '../internal/body-text.js';
import { withDeadline } from '../internal/deadline.js';
import { redactUrl } from '../internal/redact.js';

/** How a document is fetched. */
export interface FetchDocumentOptions {
  readonly fetch: typeof fetch;
  /** Deadline of the request (until headers) and, separately, of the body read (ms). */
  readonly timeoutMs: number;
  /** Largest body read, in bytes received. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** Extra request headers (`accept`). */
  readonly accept?: string;
}

/** A document that was there, or the status that says it is not. */
export type FetchedDocument =
  | { readonly kind: 'absent'; readonly status: number }
  | {
      readonly kind: 'text';
      readonly status: number;
      readonly text: string;
      readonly headers: Headers;
      readonly url: string;
    };

const MAX_REDIRECTS = 3;
/** JSON nested deeper than this is refused before `JSON.parse` sees it. */
export const MAX_JSON_DEPTH = 64;

/**
 * Fetches `url` (a GET, no credentials) and reads its body as text, bounded. A status of 404,
 * 405, 410 or 501 reads as `absent`; other non-2xx statuses too, except 402 which is returned
 * with its body (the caller may read payment terms from it).
 *
 * @throws {StipendError} `TIMEOUT` past a deadline; `DISCOVERY_TOO_LARGE` past `maxBytes`;
 *   `DISCOVERY_REDIRECTED` for a redirect off the origin or past three hops;
 *   `DISCOVERY_UNAVAILABLE` when the request fails.
 * @example
 * ```ts
 * import { fetchDocument } from './fetch-document.js';
 * const doc = await fetchDocument(new URL('https://api.example.com/openapi.json'), { fetch, timeoutMs: 10_000, maxBytes: 262_144 });
 * if (doc.kind === 'text') console.warn(doc.text.length);
 * ```
 */
export async function fetchDocument(
  url: URL,
  options: FetchDocumentOptions,
): Promise<FetchedDocument> {
  const origin = url.origin;
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await send(current, options);
    if (response.status >= 300 && response.status < 400 && response.status !== 304) {
      response.body?.cancel().catch(() => {});
      const location = response.headers.get('location');
      const next = location ? safeUrl(location, current) : undefined;
      if (!next || next.origin !== origin || hop >= MAX_REDIRECTS) {
        throw new StipendError(
          'DISCOVERY_REDIRECTED',
          `${redactUrl(current)} redirects ${next ? `to ${next.origin}` : 'nowhere usable'}; discovery reads only documents served by ${origin} itself (at most ${MAX_REDIRECTS} redirects)`,
          { details: { url: redactUrl(current) } },
        );
      }
      current = next;
      continue;
    }
    if (response.type === 'opaqueredirect') {
      throw new StipendError(
        'DISCOVERY_REDIRECTED',
        `${redactUrl(current)} redirects, and this runtime hides where to; discovery reads only documents served without a redirect here`,
        { details: { url: redactUrl(current) } },
      );
    }
    if (!response.ok && response.status !== 402) {
      response.body?.cancel().catch(() => {});
      return { kind: 'absent', status: response.status };
    }
    const text =
      response.body === null
        ? ''
        : await readTextBounded(response, options.maxBytes, {
            deadlineMs: options.timeoutMs,
            ...(options.signal ? { signal: options.signal } : {}),
            what: `The discovery document ${redactUrl(current)}`,
          });
    if (text === undefined) {
      throw new StipendError(
        'DISCOVERY_TOO_LARGE',
        `${redactUrl(current)} is larger than ${options.maxBytes} bytes; it was not read (raise maxBytes if you trust this server)`,
        { details: { url: redactUrl(current), maxBytes: options.maxBytes } },
      );
    }
    return {
      kind: 'text',
      status: response.status,
      text,
      headers: response.headers,
      url: current.href,
    };
  }
}

async function send(url: URL, options: FetchDocumentOptions): Promise<Response> {
  try {
    return await withDeadline(
      ({ signal }) =>
        options.fetch(url.href, {
          method: 'GET',
          redirect: 'manual',
          credentials: 'omit',
          headers: { accept: options.accept ?? 'application/json' },
          signal,
        }),
      options.timeoutMs,
      `The server at ${url.origin}`,
      options.signal,
    );
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'TIMEOUT' || options.signal?.aborted) {
      throw error;
    }
    throw new StipendError(
      'DISCOVERY_UNAVAILABLE',
      `${redactUrl(url)} could not be fetched: ${(error as Error | null)?.message ?? String(error)}`,
      { details: { url: redactUrl(url) }, cause: error },
    );
  }
}

function safeUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

/**
 * Parses JSON after checking, without recursion, that it nests at most `maxDepth` deep (so a
 * hostile `[[[[…` cannot exhaust the stack of the parser or of any reader walking it).
 *
 * @throws {StipendError} `DISCOVERY_INVALID` for JSON that is invalid or nested too deep.
 * @example
 * ```ts
 * import { parseJsonBounded } from './fetch-document.js';
 * parseJsonBounded('{"paths":{}}', 'openapi.json'); // { paths: {} }
 * ```
 */
export function parseJsonBounded(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) {
        throw new StipendError(
          'DISCOVERY_INVALID',
          `${what} nests deeper than ${maxDepth} levels; it was not read`,
          { details: { what, maxDepth } },
        );
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new StipendError('DISCOVERY_INVALID', `${what} is not valid JSON`, {
      details: { what },
      cause: error,
    });
  }
}
