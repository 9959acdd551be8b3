import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running local HTTP server. */
export interface TestServer {
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Serves a fetch-style handler on 127.0.0.1 (a free port), for tests that need real HTTP
 * (browsers, other processes, redirects between two origins).
 *
 * @example
 * ```ts
 * import { createTestPaywall, createTestRail, startTestServer } from '@stipend/testkit/core';
 *
 * const server = await startTestServer(createTestPaywall({ rail: createTestRail(), routes: {} }));
 * await server.close();
 * ```
 */
export async function startTestServer(
  handler: (request: Request) => Response | Promise<Response>,
  options: { cors?: boolean } = {},
): Promise<TestServer> {
  const server = createServer((req, res) => {
    void serve(handler, req, res, options.cors ?? false);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function serve(
  handler: (request: Request) => Response | Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  cors: boolean,
): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item);
      else if (value !== undefined) headers.set(name, value);
    }
    const url = `http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`;
    if (cors && req.method === 'OPTIONS') {
      res.writeHead(204, corsHeaders(req));
      res.end();
      return;
    }
    const request = new Request(url, {
      method: req.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const response = await handler(request);
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      out[name] = name === 'set-cookie' ? response.headers.getSetCookie() : value;
    });
    if (cors) Object.assign(out, corsHeaders(req));
    res.writeHead(response.status, out);
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'access-control-expose-headers': '*',
  };
}
