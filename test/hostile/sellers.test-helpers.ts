/**
 * Hostile sellers for the attacker suite: real `node:http` servers on 127.0.0.1 that record
 * every request they receive (so a case can prove what reached which origin), and a raw TCP
 * seller for bytes `node:http` will not write (slow or malformed headers).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

/** One request a seller received. */
export interface Hit {
  readonly method: string;
  /** Path and query as received. */
  readonly path: string;
  /** Lower-cased header names. */
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** `(request, response, n)`: `n` is the 0-based index of the request at this seller. */
export type SellerHandler = (request: Hit, response: ServerResponse, n: number) => void;

/** A running hostile seller. */
export interface Seller {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** `http://localhost:<port>`: the same server, another origin. */
  readonly otherName: string;
  readonly hits: Hit[];
  handler: SellerHandler;
  close(): Promise<void>;
}

/**
 * Starts a seller; set `handler` per case (the default answers 500).
 *
 * @example
 * ```ts
 * import { startSeller } from './sellers.test-helpers.js';
 * const seller = await startSeller();
 * seller.handler = (_hit, res) => res.writeHead(402).end();
 * ```
 */
export async function startSeller(): Promise<Seller> {
  const sockets = new Set<Socket>();
  const seller = {
    origin: '',
    otherName: '',
    hits: [] as Hit[],
    handler: ((_hit, response) => {
      response.writeHead(500).end();
    }) as SellerHandler,
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const hit: Hit = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const n = seller.hits.length;
      seller.hits.push(hit);
      try {
        seller.handler(hit, response, n);
      } catch {
        response.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  seller.origin = `http://127.0.0.1:${port}`;
  seller.otherName = `http://localhost:${port}`;
  seller.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return seller;
}

/** A raw TCP seller: `onRequest(socket, requestHead, n)` writes whatever bytes it likes. */
export interface RawSeller {
  readonly origin: string;
  readonly heads: string[];
  onRequest: (socket: Socket, head: string, n: number) => void;
  close(): Promise<void>;
}

/**
 * Starts a raw seller that reads each request head and hands the socket to `onRequest`.
 *
 * @example
 * ```ts
 * import { startRawSeller } from './sellers.test-helpers.js';
 * const raw = await startRawSeller();
 * raw.onRequest = (socket) => socket.write('HTTP/1.1 402 Payment Required\r\n');
 * ```
 */
export async function startRawSeller(): Promise<RawSeller> {
  const sockets = new Set<Socket>();
  const raw = {
    origin: '',
    heads: [] as string[],
    onRequest: ((socket) => socket.destroy()) as RawSeller['onRequest'],
    close: async () => {},
  };
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = '';
      const n = raw.heads.length;
      raw.heads.push(head);
      raw.onRequest(socket, head, n);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  raw.origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  raw.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return raw;
}

/**
 * Writes `text` one byte every `everyMs`, forever (until the socket closes). Returns a stop
 * function.
 */
export function drip(write: (byte: string) => unknown, everyMs = 20, text = ' '): () => void {
  let index = 0;
  const timer = setInterval(() => {
    try {
      write(text[index++ % text.length]!);
    } catch {
      clearInterval(timer);
    }
  }, everyMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
