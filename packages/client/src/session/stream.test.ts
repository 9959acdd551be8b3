import { describe, expect, it } from 'vitest';
import type { SseEvent } from './sse.js';
import { isEventStream, meterStream, type StreamWatcher } from './stream.js';

const encoder = new TextEncoder();

/** A server body from parts; counts how many parts were pulled from it. */
function serverBody(parts: readonly string[]) {
  const state = { pulled: 0, cancelled: false };
  let i = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i >= parts.length) {
          controller.close();
          return;
        }
        state.pulled++;
        controller.enqueue(encoder.encode(parts[i++]!));
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  const response = new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  return { response, state };
}

function watcher(overrides: Partial<StreamWatcher> = {}) {
  const seen: SseEvent[] = [];
  const ends: string[] = [];
  let before = 0;
  const w: StreamWatcher = {
    read: async (events) => {
      seen.push(...events);
    },
    beforeRead: async () => {
      before++;
    },
    end: async (how) => {
      ends.push(how);
    },
    ...overrides,
  };
  return { w, seen, ends, before: () => before };
}

describe('meterStream', () => {
  it('passes every byte through unchanged while the watcher reads the events', async () => {
    const parts = [
      'data: {"chunk":1}\n',
      '\nevent: payment-receipt\ndata: {}\n\n',
      'data: [DONE]\n\n',
    ];
    const { response } = serverBody(parts);
    const { w, seen, ends } = watcher();
    const metered = meterStream(response, w);
    expect(metered.headers.get('content-type')).toBe('text/event-stream');
    expect(await metered.text()).toBe(parts.join(''));
    expect(seen.map((e) => e.name)).toEqual(['message', 'payment-receipt', 'message']);
    expect(ends).toEqual(['done']);
  });

  it('never reads ahead of the caller, and reads nothing after the caller cancels', async () => {
    const { response, state } = serverBody(['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n']);
    let aborted: AbortSignal | undefined;
    const { w, seen, ends } = watcher({
      beforeRead: async (signal) => {
        aborted = signal;
      },
    });
    const reader = meterStream(response, w).body!.getReader();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(state.pulled).toBe(0);
    await reader.read();
    expect(state.pulled).toBe(1);
    await reader.cancel();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(state.pulled).toBe(1);
    expect(state.cancelled).toBe(true);
    expect(seen).toHaveLength(1);
    expect(aborted?.aborted).toBe(true);
    expect(ends).toEqual(['cancelled']);
  });

  it('a watcher that refuses to go on (a top-up refused) ends the stream with its error and cancels the server body', async () => {
    const { response, state } = serverBody(['data: 1\n\n', 'data: 2\n\n']);
    let calls = 0;
    const { w, ends } = watcher({
      beforeRead: async () => {
        if (++calls === 2) throw new Error('top-up refused');
      },
    });
    const reader = meterStream(response, w).body!.getReader();
    await reader.read();
    await expect(reader.read()).rejects.toThrow('top-up refused');
    expect(state.cancelled).toBe(true);
    expect(ends).toEqual(['failed']);
  });

  it('isEventStream: only text/event-stream bodies', () => {
    const sse = new Response('x', {
      headers: { 'content-type': 'Text/Event-Stream; charset=utf-8' },
    });
    expect(isEventStream(sse)).toBe(true);
    expect(
      isEventStream(new Response('x', { headers: { 'content-type': 'text/event-streamx' } })),
    ).toBe(false);
    expect(
      isEventStream(new Response(null, { headers: { 'content-type': 'text/event-stream' } })),
    ).toBe(false);
  });
});
