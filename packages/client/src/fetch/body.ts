/**
 * Making a request replayable: the paid retry must send the very same bytes.
 *
 * Strings, ArrayBuffers and views, Blobs and URLSearchParams are immutable and serialise the
 * same way twice, so they are kept as they are (no copy on the hot path). FormData is
 * serialised once (a second serialisation would pick a new multipart boundary). Streams
 * and `Request` bodies are buffered up to a cap; beyond it the first send streams the rest
 * and the request is marked not replayable, so a 402 on it is refused before any payment.
 *
 * @module
 */

/** A request reduced to what both sends need. */
export interface PreparedRequest {
  readonly url: string;
  readonly method: string;
  /** Init for every send, body included (replayable) or absent. */
  readonly init: RequestInit;
  /** Init for the first send: the caller's own when nothing had to change. */
  readonly firstInit: RequestInit | undefined;
  /** False when the body could not be kept for a retry. */
  readonly replayable: boolean;
  /** What the first send gets: the caller's own input when nothing had to change. */
  readonly firstInput: RequestInfo | URL;
}

const REQUEST_FIELDS = [
  'cache',
  'credentials',
  'integrity',
  'keepalive',
  'mode',
  'redirect',
  'referrer',
  'referrerPolicy',
  'signal',
] as const;

/** Tells whether a body can be sent twice and give the same bytes. */
function isReplayableBody(body: unknown): boolean {
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    (typeof Blob !== 'undefined' && body instanceof Blob) ||
    body instanceof URLSearchParams
  );
}

/**
 * Reads a stream up to `cap` bytes. Returns the bytes when it ended within the cap;
 * otherwise a new stream that yields what was read and then the rest (for one send).
 */
export async function bufferStream(
  stream: ReadableStream<Uint8Array>,
  cap: number,
): Promise<{ bytes: Uint8Array<ArrayBuffer> } | { stream: ReadableStream<Uint8Array> }> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
    if (size > cap) {
      let index = 0;
      const rest = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (index < chunks.length) {
            controller.enqueue(chunks[index++]!);
            return;
          }
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      });
      return { stream: rest };
    }
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes };
}

/**
 * Normalises `fetch`'s arguments once, before the first send.
 *
 * @example
 * ```ts
 * const prepared = await prepareRequest('https://api.example.com/x', { method: 'POST', body: 'hi' }, 1 << 20);
 * await fetch(prepared.url, prepared.init);
 * ```
 */
export async function prepareRequest(
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  maxBodyBytes: number,
): Promise<PreparedRequest> {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const body = init?.body;

  if (!isRequest) {
    const url = typeof input === 'string' ? input : String(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (body === undefined || body === null || isReplayableBody(body)) {
      return {
        url,
        method,
        init: init ?? {},
        firstInit: init,
        replayable: true,
        firstInput: input,
      };
    }
    return prepareFromRequest(
      new Request(input as string, { ...init, duplex: 'half' } as RequestInit),
      maxBodyBytes,
    );
  }

  const request =
    init === undefined
      ? (input as Request)
      : new Request(
          input as Request,
          body instanceof ReadableStream ? ({ ...init, duplex: 'half' } as RequestInit) : init,
        );
  if (request.body === null) {
    return {
      url: request.url,
      method: request.method,
      init: requestInit(request),
      firstInit: undefined,
      replayable: true,
      firstInput: request,
    };
  }
  return prepareFromRequest(request, maxBodyBytes);
}

async function prepareFromRequest(
  request: Request,
  maxBodyBytes: number,
): Promise<PreparedRequest> {
  const base = requestInit(request);
  const buffered = await bufferStream(request.body as ReadableStream<Uint8Array>, maxBodyBytes);
  if ('bytes' in buffered) {
    const init = { ...base, body: buffered.bytes };
    return {
      url: request.url,
      method: request.method,
      init,
      firstInit: init,
      replayable: true,
      firstInput: request.url,
    };
  }
  return {
    url: request.url,
    method: request.method,
    init: base,
    firstInit: { ...base, body: buffered.stream, duplex: 'half' } as RequestInit,
    replayable: false,
    firstInput: request.url,
  };
}

/** Copies a Request's fields (not its body) into a RequestInit. */
function requestInit(request: Request): RequestInit {
  const init: Record<string, unknown> = { method: request.method, headers: request.headers };
  for (const field of REQUEST_FIELDS) {
    const value = (request as unknown as Record<string, unknown>)[field];
    if (value !== undefined && !(field === 'referrer' && value === 'about:client'))
      init[field] = value;
  }
  // `navigate` cannot be set from script; fetch treats it as `same-origin`.
  if (init.mode === 'navigate') init.mode = 'same-origin';
  return init as RequestInit;
}
