import { describe, expect, it } from 'vitest';
import { createSseParser } from './sse.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('createSseParser', () => {
  it('reads events split at every byte, with LF, CRLF and CR line ends, comments and multi-line data', () => {
    const text =
      ': comment\r\nevent: payment-need-topup\r\ndata: {"a":1}\r\n\r\n' +
      'data: line one\ndata:line two\n\n' +
      'event: x\rdata: y\r\r' +
      'id: 7\nretry: 10\n\n'; // no data: not dispatched
    const parser = createSseParser();
    const events = [];
    for (const byte of bytes(text)) events.push(...parser.push(Uint8Array.of(byte)));
    expect(events).toEqual([
      { name: 'payment-need-topup', data: '{"a":1}' },
      { name: 'message', data: 'line one\nline two' },
      { name: 'x', data: 'y' },
    ]);
  });

  it('bounded line size: a line above the cap is skipped, never buffered, its event dropped, and reading goes on', () => {
    const parser = createSseParser({ maxLineBytes: 1024 });
    const events = [];
    events.push(...parser.push(bytes('event: payment-need-topup\ndata: {"pad":"')));
    let most = 0;
    const block = bytes('x'.repeat(4096));
    for (let i = 0; i < 256; i++) {
      events.push(...parser.push(block)); // 1 MiB of one line
      most = Math.max(most, parser.buffered());
    }
    events.push(...parser.push(bytes('"}\n\ndata: {"chunk":1}\n\n')));
    expect(most).toBeLessThanOrEqual(1024);
    expect(parser.dropped).toBe(1);
    expect(events).toEqual([{ name: 'message', data: '{"chunk":1}' }]);
  });

  it('bounded event size: data lines adding up past maxEventBytes drop the event', () => {
    const parser = createSseParser({ maxLineBytes: 1024, maxEventBytes: 2048 });
    const line = `data: ${'y'.repeat(1000)}\n`;
    const events = parser.push(bytes(`${line.repeat(5)}\ndata: ok\n\n`));
    expect(parser.dropped).toBe(1);
    expect(events).toEqual([{ name: 'message', data: 'ok' }]);
    expect(parser.buffered()).toBe(0);
  });
});
