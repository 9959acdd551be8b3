/**
 * A metered pass-through of a streamed answer (`text/event-stream`): the caller gets a body
 * that yields every byte of the server's, unchanged and in order, while a watcher reads the
 * events as they pass (bounded by {@link createSseParser}'s caps; nothing is buffered beyond
 * one line and one event). The server's body is read only when the caller asks for more
 * (`highWaterMark: 0`): nothing is read ahead, so an event the caller never reached is never
 * acted on, and nothing is read after the caller cancels.
 *
 * @module
 */
import { createSseParser, type SseEvent, type SseLimits } from './sse.js';

/** What watches a metered stream. */
export interface StreamWatcher {
  /** The events one read completed, before its bytes reach the caller. Errors are ignored. */
  read(events: readonly SseEvent[]): Promise<void>;
  /**
   * Before the next read from the server (the caller asked for more): e.g. a top-up the
   * server asked for. `signal` aborts when the caller cancels. A throw ends the stream: the
   * server's body is cancelled and the caller's read rejects with the error.
   */
  beforeRead(signal: AbortSignal): Promise<void>;
  /** Once, when the stream ends: the server's body ended, the caller cancelled, or it failed. */
  end(how: 'done' | 'cancelled' | 'failed'): Promise<void>;
}

/** Whether a response is a server-sent event stream with a body. */
export function isEventStream(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return response.body !== null && /^\s*text\/event-stream\s*(;|$)/i.test(type);
}

/**
 * The response with its body metered by `watcher`; status, headers, `url` and `redirected`
 * are the server's.
 *
 * @example
 * ```ts
 * import { meterStream } from './stream.js';
 * const metered = meterStream(response, {
 *   read: async (events) => console.warn(events.length),
 *   beforeRead: async () => {},
 *   end: async () => {},
 * });
 * ```
 */
export function meterStream(
  response: Response,
  watcher: StreamWatcher,
  limits: SseLimits = {},
): Response {
  const upstream = response.body!.getReader();
  const parser = createSseParser(limits);
  const abort = new AbortController();
  let ended = false;

  async function finish(how: 'done' | 'cancelled' | 'failed'): Promise<void> {
    if (ended) return;
    ended = true;
    abort.abort();
    await watcher.end(how).catch(() => {});
  }

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          await watcher.beforeRead(abort.signal);
        } catch (error) {
          await upstream.cancel().catch(() => {});
          if (ended) return;
          await finish('failed');
          controller.error(error);
          return;
        }
        if (ended) return;
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await upstream.read();
        } catch (error) {
          if (ended) return;
          await finish('failed');
          controller.error(error);
          return;
        }
        if (ended) return;
        if (next.done) {
          await finish('done');
          controller.close();
          return;
        }
        const bytes = next.value;
        await watcher.read(parser.push(bytes)).catch(() => {});
        if (!ended) controller.enqueue(bytes);
      },
      async cancel(reason) {
        const done = finish('cancelled');
        await upstream.cancel(reason).catch(() => {});
        await done;
      },
    },
    { highWaterMark: 0 },
  );
  const metered = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  Object.defineProperty(metered, 'url', { value: response.url });
  Object.defineProperty(metered, 'redirected', { value: response.redirected });
  return metered;
}
