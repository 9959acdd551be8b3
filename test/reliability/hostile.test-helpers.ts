/**
 * A tiny hostile HTTP server for the adversarial catalogue: one handler per case, every
 * request recorded (method, path, headers, body) so a case can check what reached it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isStipendError, type StipendError } from '@stipend/client';

/** One request the hostile server received. */
export interface Hit {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** What a case answers: `(request, response, body, n)` with `n` the request's index (0-based). */
export type HostileHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  body: string,
  n: number,
) => void;

/** A running hostile server. */
export interface HostileServer {
  readonly origin: string;
  readonly hits: Hit[];
  handler: HostileHandler;
  close(): Promise<void>;
}

/**
 * Starts a hostile server on 127.0.0.1 (free port); set `handler` per case.
 *
 * @example
 * ```ts
 * import { startHostileServer } from './hostile.test-helpers.js';
 * const hostile = await startHostileServer();
 * hostile.handler = (_req, res) => { res.writeHead(402, { 'payment-required': 'junk' }); res.end(); };
 * ```
 */
export async function startHostileServer(): Promise<HostileServer> {
  const hostile: HostileServer = {
    origin: '',
    hits: [],
    handler: (_req, res) => {
      res.writeHead(500);
      res.end();
    },
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = hostile.hits.length;
      hostile.hits.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
      });
      try {
        hostile.handler(req, res, body, n);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (hostile as { origin: string }).origin =
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hostile.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return hostile;
}

/**
 * The typed error a hostile case ends with: thrown by the call, or attached to the response
 * (`getPayment(response).error`) when the call returned the server's answer.
 */
export async function typedError(
  call: Promise<Response>,
  attached: (response: Response) => StipendError | undefined,
): Promise<StipendError> {
  let response: Response;
  try {
    response = await call;
  } catch (error) {
    if (isStipendError(error)) return error;
    throw error;
  }
  const error = attached(response);
  if (!error) throw new Error(`expected a typed error, got a ${response.status} without one`);
  return error;
}
