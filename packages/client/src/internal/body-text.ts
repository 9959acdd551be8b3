/**
 * Reading a body a hostile server controls: bounded in bytes and in time.
 *
 * @module
 */
import { withDeadline } from './deadline.js';

/** The deadline of a body read when the caller gives none, in ms. */
export const DEFAULT_BODY_DEADLINE_MS = 10_000;

/** Options of {@link readTextBounded}. */
export interface ReadTextOptions {
  /** How long the whole read may take, in ms. Default {@link DEFAULT_BODY_DEADLINE_MS}. */
  readonly deadlineMs?: number;
  /** Aborts the read (the read rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /** What the timeout message names (default: "The response body from <origin>"). */
  readonly what?: string;
}

/**
 * Reads a body as UTF-8 text (invalid bytes become U+FFFD), giving up past `cap` bytes
 * (resolves `undefined`, as when there is no body) so a hostile server cannot make the client
 * hold a huge body, and past the deadline (rejects with a `StipendError` of code `TIMEOUT`) so
 * a server that drips one byte at a time, or never ends the body, cannot hang the call. The
 * body is cancelled in both cases.
 *
 * @example
 * ```ts
 * import { readTextBounded } from './body-text.js';
 *
 * const text = await readTextBounded(response.clone(), 64 * 1024, { deadlineMs: 5_000 });
 * if (text === undefined) console.warn('no body, or larger than 64 KiB');
 * ```
 */
export async function readTextBounded(
  response: Response,
  cap: number,
  options: ReadTextOptions = {},
): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > cap) {
    response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const what = options.what ?? `The response body from ${originOf(response)}`;
  try {
    return await withDeadline(
      // On a deadline or an abort the read is cancelled below.
      () => readAll(reader, cap),
      options.deadlineMs ?? DEFAULT_BODY_DEADLINE_MS,
      what,
      options.signal,
    );
  } catch (error) {
    cancel(reader);
    throw error;
  }
}

async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  cap: number,
): Promise<string | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      cancel(reader);
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
 * Cancels a body without waiting: cancelling one branch of a tee'd clone settles only when
 * the other branch is cancelled too, so awaiting it could hang the call.
 */
function cancel(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  reader.cancel().catch(() => {});
}

/** The origin a response came from, for messages (never its path or query). */
function originOf(response: Response): string {
  try {
    return new URL(response.url).origin;
  } catch {
    return 'the server';
  }
}
