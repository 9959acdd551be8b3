import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { readTextBounded } from './body-text.js';

const encoder = new TextEncoder();

/** A body that sends `first`, then one byte every `everyMs` forever; records cancellation. */
function drip(first = '', everyMs = 5) {
  const state = { cancelled: false, sent: 0 };
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first) controller.enqueue(encoder.encode(first));
      timer = setInterval(() => {
        state.sent++;
        controller.enqueue(encoder.encode('a'));
      }, everyMs);
    },
    cancel() {
      state.cancelled = true;
      clearInterval(timer);
    },
  });
  return { response: new Response(body), state };
}

/** A body that never sends anything and never ends. */
function silent() {
  const state = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body), state };
}

describe('readTextBounded', () => {
  it('reads a small body as text', async () => {
    expect(await readTextBounded(new Response('{"a":1}'), 64)).toBe('{"a":1}');
  });

  it('no body reads as undefined', async () => {
    expect(await readTextBounded(new Response(null, { status: 402 }), 64)).toBeUndefined();
  });

  it('bounded in bytes: a body past the cap is undefined and cancelled', async () => {
    const { response, state } = drip('x'.repeat(100), 1);
    expect(await readTextBounded(response, 64)).toBeUndefined();
    expect(state.cancelled).toBe(true);
  });

  it('a declared Content-Length past the cap is refused without reading', async () => {
    const response = new Response('tiny', { headers: { 'content-length': '999999' } });
    expect(await readTextBounded(response, 64)).toBeUndefined();
  });

  it('bounded in time: a server that drips one byte at a time cannot hang the read (TIMEOUT, body cancelled)', async () => {
    const { response, state } = drip('', 5);
    const started = Date.now();
    const error = await readTextBounded(response, 1_000_000, { deadlineMs: 60 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
    expect((error as Error).message).toContain('within 60 ms');
    expect((error as Error).message).toContain('timeoutMs');
    expect(state.cancelled).toBe(true);
  });

  it('bounded in time: a body that never sends a byte and never ends is cancelled at the deadline', async () => {
    const { response, state } = silent();
    const error = await readTextBounded(response, 64, { deadlineMs: 30 }).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
    expect(state.cancelled).toBe(true);
  });

  it('has a default deadline when none is given (10 s)', async () => {
    const { response } = silent();
    const { vi } = await import('vitest');
    vi.useFakeTimers();
    try {
      const read = readTextBounded(response, 64).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(9_999);
      let settled = false;
      void read.then(() => {
        settled = true;
      });
      await Promise.resolve();
      expect(settled).toBe(false);
      await vi.advanceTimersByTimeAsync(2);
      const error = await read;
      expect(isStipendError(error) && error.code).toBe('TIMEOUT');
      expect((error as Error).message).toContain('10000 ms');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a caller’s abort stops the read with the caller’s reason and cancels the body', async () => {
    const { response, state } = silent();
    const controller = new AbortController();
    const read = readTextBounded(response, 64, { signal: controller.signal });
    controller.abort('caller');
    await expect(read).rejects.toBe('caller');
    expect(state.cancelled).toBe(true);
  });

  it('a tee’d clone past its deadline does not hang (cancel is not awaited)', async () => {
    const { response } = silent();
    const clone = response.clone();
    const error = await readTextBounded(clone, 64, { deadlineMs: 20 }).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('TIMEOUT');
  });

  it('invalid UTF-8 is replaced, never thrown', async () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect(await readTextBounded(new Response(bytes), 64)).toBe('{\uFFFD\uFFFD}');
  });

  it('the timeout message names the origin, never the path or query', async () => {
    const { response } = silent();
    Object.defineProperty(response, 'url', { value: 'https://api.example/secret?token=abc' });
    const error = (await readTextBounded(response, 64, { deadlineMs: 10 }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toContain('https://api.example');
    expect(error.message).not.toContain('token=abc');
    expect(error.message).not.toContain('/secret');
  });
});
