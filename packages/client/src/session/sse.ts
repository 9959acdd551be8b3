/**
 * An incremental, bounded reader of server-sent events (the WHATWG `text/event-stream`
 * format): bytes in, complete events out, as they pass. It never holds more than one line
 * (`maxLineBytes`) and one event's data (`maxEventBytes`): a line or an event above its cap is
 * skipped to its end and the event it belongs to is dropped (counted in `dropped`), never
 * buffered. Used by the session manager to read a streamed session answer while its bytes go
 * to the caller unchanged.
 *
 * @module
 */

/** One dispatched event: its type (`message` when the stream named none) and its data. */
export interface SseEvent {
  readonly name: string;
  readonly data: string;
}

/** Caps of {@link createSseParser}. */
export interface SseLimits {
  /** The longest line kept, bytes. Default 64 KiB. */
  readonly maxLineBytes?: number;
  /** The most data one event may carry, bytes. Default 256 KiB. */
  readonly maxEventBytes?: number;
}

/** An incremental event-stream reader. */
export interface SseParser {
  /** Reads the next bytes; returns the events they complete, in order. */
  push(bytes: Uint8Array): SseEvent[];
  /** Events dropped because a line or their data was above a cap. */
  readonly dropped: number;
  /** Bytes held right now (the unfinished line and event): never above the caps. */
  buffered(): number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Makes a bounded event-stream reader.
 *
 * @example
 * ```ts
 * import { createSseParser } from './sse.js';
 * const parser = createSseParser({ maxLineBytes: 4096 });
 * parser.push(new TextEncoder().encode('event: ping\ndata: {}\n\n')); // [{ name: 'ping', data: '{}' }]
 * ```
 */
export function createSseParser(limits: SseLimits = {}): SseParser {
  const maxLine = limits.maxLineBytes ?? 64 * 1024;
  const maxEvent = limits.maxEventBytes ?? 256 * 1024;
  const decoder = new TextDecoder();
  let line = new Uint8Array(Math.min(maxLine, 1024));
  let lineLength = 0;
  /** The current line passed its cap: its bytes are skipped until its end. */
  let lineTooLong = false;
  /** The last byte was a CR: a LF right after it ends nothing more. */
  let afterCr = false;
  let name = '';
  let data: string[] = [];
  let dataBytes = 0;
  /** The current event broke a cap: it is dropped when it ends. */
  let poisoned = false;
  let dropped = 0;

  function keep(bytes: Uint8Array, from: number, to: number): void {
    if (lineTooLong || to <= from) return;
    const need = lineLength + (to - from);
    if (need > maxLine) {
      lineTooLong = true;
      poisoned = true;
      lineLength = 0;
      return;
    }
    if (need > line.length) {
      const grown = new Uint8Array(Math.min(maxLine, Math.max(need, line.length * 2)));
      grown.set(line.subarray(0, lineLength));
      line = grown;
    }
    line.set(bytes.subarray(from, to), lineLength);
    lineLength = need;
  }

  function endLine(out: SseEvent[]): void {
    const tooLong = lineTooLong;
    lineTooLong = false;
    if (tooLong) return;
    const text = decoder.decode(line.subarray(0, lineLength));
    lineLength = 0;
    if (text === '') {
      if (poisoned) dropped++;
      else if (data.length > 0) out.push({ name: name || 'message', data: data.join('\n') });
      name = '';
      data = [];
      dataBytes = 0;
      poisoned = false;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') {
      dataBytes += value.length + 1;
      if (dataBytes > maxEvent) poisoned = true;
      else data.push(value);
    }
    // `id` and `retry` do not matter here; unknown fields are ignored (WHATWG).
  }

  return {
    push(bytes) {
      const out: SseEvent[] = [];
      let start = 0;
      for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i];
        if (byte !== LF && byte !== CR) continue;
        if (byte === LF && afterCr && i === start) {
          afterCr = false;
          start = i + 1;
          continue;
        }
        keep(bytes, start, i);
        endLine(out);
        afterCr = byte === CR;
        start = i + 1;
      }
      if (start < bytes.length) {
        afterCr = false;
        keep(bytes, start, bytes.length);
      }
      return out;
    },
    get dropped() {
      return dropped;
    },
    buffered: () => lineLength + dataBytes,
  };
}
