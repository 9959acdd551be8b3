/**
 * Live updates by server-sent events: while a page listens, the console reads the stores
 * every `pollMs` and sends `change` when what the page would show changed (agents in other
 * processes write the stores; nothing tells the console but the stores themselves).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** The event stream's clients and its ticker. */
export interface Live {
  /** Adds a listening page; it is dropped when its connection closes. */
  add(response: ServerResponse): void;
  /** Reads now and tells the pages if anything changed (after an action). */
  poke(): void;
  /** Ends every stream and stops the ticker. */
  close(): void;
  readonly clients: number;
}

/**
 * Starts the change feed.
 *
 * @param snapshot - Reads what the page shows, as text (its hash decides "changed").
 * @param pollMs - How often to read while someone listens.
 * @example
 * ```ts
 * import { createLive } from './live.js';
 * const live = createLive(async () => JSON.stringify(await readSomething()), 1000);
 * ```
 */
export function createLive(snapshot: () => Promise<string>, pollMs: number): Live {
  const clients = new Set<ServerResponse>();
  let last = '';
  let version = 0;
  let running = false;
  let again = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let beat: ReturnType<typeof setInterval> | undefined;

  const send = (text: string) => {
    for (const client of clients) client.write(text);
  };
  const tick = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        let text: string;
        try {
          text = await snapshot();
        } catch {
          text = 'unreadable';
        }
        const hash = createHash('sha256').update(text).digest('hex');
        if (hash !== last) {
          last = hash;
          version++;
          send(`event: change\ndata: ${version}\n\n`);
        }
      } while (again && clients.size > 0);
    } finally {
      running = false;
    }
  };
  const stop = () => {
    clearInterval(ticker);
    clearInterval(beat);
    ticker = undefined;
    beat = undefined;
  };
  return {
    add(response) {
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
      });
      response.write(`retry: ${Math.max(1000, pollMs)}\n\n`);
      clients.add(response);
      response.on('close', () => {
        clients.delete(response);
        if (clients.size === 0) stop();
      });
      // A new page learns the current version at once.
      last = '';
      void tick();
      if (!ticker) {
        ticker = setInterval(() => void tick(), pollMs);
        beat = setInterval(() => send(': keep-alive\n\n'), 15_000);
        ticker.unref?.();
        beat.unref?.();
      }
    },
    poke() {
      if (clients.size > 0) void tick();
    },
    close() {
      stop();
      for (const client of clients) client.end();
      clients.clear();
    },
    get clients() {
      return clients.size;
    },
  };
}
