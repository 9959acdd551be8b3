/**
 * A small HTTP gateway for the browser suite: one origin in front of several testkit servers
 * (routed by path, the `Host` header kept so the servers bind their terms to the gateway's
 * origin), plus local routes (the page, its bundle, the SPT delegate). Its CORS mode makes it
 * a same-origin host for the page (`none`), a cross-origin host that exposes the payment
 * headers (`expose`), or one that hides them (`hide`: `Access-Control-Allow-Origin` only).
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** Response headers a page needs to see to pay (and read receipts). */
export const PAYMENT_HEADERS = [
  'payment-required',
  'payment-response',
  'www-authenticate',
  'payment-receipt',
];

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  readonly cors: 'none' | 'expose' | 'hide';
  /** The upstream origin for a path (`http://127.0.0.1:port`), or undefined. */
  readonly upstreamFor: (path: string) => { origin: string; path: string } | undefined;
  /** Local routes: return true when handled. */
  readonly local?: (
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
  ) => boolean | Promise<boolean>;
}

/** A running gateway. */
export interface Gateway {
  readonly origin: string;
  /** Requests it forwarded: method, path and the proof headers they carried. */
  readonly forwarded: { method: string; path: string; proof: boolean }[];
  close(): Promise<void>;
}

const HOP = new Set(['connection', 'transfer-encoding', 'keep-alive', 'content-length']);

/**
 * Starts a gateway on 127.0.0.1 (free port).
 *
 * @example
 * ```ts
 * import { startGateway } from './browser-gateway.test-helpers.js';
 * const gateway = await startGateway({ cors: 'none', upstreamFor: (path) => ({ origin: x402.url, path }) });
 * ```
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const forwarded: Gateway['forwarded'] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    if (options.cors === 'none') return {};
    const headers: Record<string, string> = {
      'access-control-allow-origin': options.cors === 'expose' ? (req.headers.origin ?? '*') : '*',
    };
    if (options.cors === 'expose') {
      headers['access-control-expose-headers'] = PAYMENT_HEADERS.join(', ');
      headers.vary = 'origin';
    }
    return headers;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (options.cors !== 'none' && req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...corsHeaders(req),
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-max-age': '0',
      });
      res.end();
      return;
    }
    if (options.local && (await options.local(req, res, body))) return;
    const url = req.url ?? '/';
    const target = options.upstreamFor(url.split('?')[0]!);
    if (!target) {
      res.writeHead(404, corsHeaders(req));
      res.end('no such route');
      return;
    }
    const proof = ['payment-signature', 'x-payment', 'authorization'].some(
      (name) => req.headers[name] !== undefined,
    );
    forwarded.push({ method: req.method ?? 'GET', path: url, proof });
    const upstream = new URL(target.origin);
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    const answer = await new Promise<{ status: number; raw: string[]; body: Buffer }>(
      (resolve, reject) => {
        const out = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: target.path + query,
            headers: { ...req.headers, 'content-length': String(body.length) },
          },
          (up) => {
            const parts: Buffer[] = [];
            up.on('data', (c: Buffer) => parts.push(c));
            up.on('end', () =>
              resolve({
                status: up.statusCode ?? 502,
                raw: up.rawHeaders,
                body: Buffer.concat(parts),
              }),
            );
            up.on('error', reject);
          },
        );
        out.on('error', reject);
        out.end(body);
      },
    );
    const headers: string[] = [];
    for (let i = 0; i < answer.raw.length; i += 2) {
      const name = answer.raw[i]!.toLowerCase();
      if (HOP.has(name) || name.startsWith('access-control-')) continue;
      headers.push(answer.raw[i]!, answer.raw[i + 1]!);
    }
    for (const [name, value] of Object.entries(corsHeaders(req))) headers.push(name, value);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
