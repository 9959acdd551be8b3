/**
 * A marketplace gateway: one origin whose routes are sold by several real sellers at once,
 * each with its own protocol (the x402 server, the L402 server, the MPP server). Without a
 * credential the gateway asks every seller for its terms and answers ONE 402 carrying all of
 * them (x402 `PAYMENT-REQUIRED` next to `WWW-Authenticate: L402 …` / `Payment …`); a paid
 * retry goes to the seller whose credential it carries, and that seller's answer comes back
 * as it is. The gateway verifies nothing itself: each seller checks its own payments.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The protocols a gateway route can sell through. */
export type GatewayProtocol = 'x402' | 'l402' | 'mpp';

/** One route of the gateway and the sellers behind it. */
export interface GatewayRoute {
  /** HTTP method, upper-case. */
  readonly method: string;
  /** Exact path; the same path is asked of every seller. */
  readonly path: string;
  /** Base URL of the seller for each protocol (e.g. `{ x402: 'http://127.0.0.1:4001' }`). */
  readonly sellers: Readonly<Partial<Record<GatewayProtocol, string>>>;
}

/** What the gateway did with one request. */
export interface GatewayRequestRecord {
  readonly method: string;
  readonly path: string;
  /** `terms`: every seller was asked for its terms; otherwise the seller it was forwarded to. */
  readonly forwardedTo: GatewayProtocol | 'terms' | 'none';
  readonly status: number;
}

/** A running gateway. */
export interface Gateway {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly routes: readonly GatewayRoute[];
  readonly requests: readonly GatewayRequestRecord[];
  close(): Promise<void>;
}

/** Headers not passed on between the client and a seller. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-encoding',
  'te',
  'trailer',
]);
/** Payment headers copied from each seller's 402 into the combined one. */
const TERMS_HEADERS = ['payment-required', 'www-authenticate', 'x-payment-required'] as const;
const MAX_BODY_BYTES = 1 << 20;

/**
 * Which seller a request's credential is for: x402 payment headers, an `L402`/`LSAT` or a
 * `Payment` authorization; `undefined` when it carries none.
 *
 * @example
 * ```ts
 * import { credentialProtocol } from '@stipend/testkit/market';
 * credentialProtocol(new Headers({ authorization: 'L402 mac:preimage' })); // 'l402'
 * ```
 */
export function credentialProtocol(headers: Headers): GatewayProtocol | undefined {
  if (headers.has('payment-signature') || headers.has('x-payment')) return 'x402';
  const authorizations = [headers.get('authorization'), headers.get('payment-authorization')];
  for (const value of authorizations) {
    const scheme = value?.trim().split(/\s+/, 1)[0]?.toLowerCase();
    if (scheme === 'l402' || scheme === 'lsat') return 'l402';
    if (scheme === 'payment') return 'mpp';
  }
  return undefined;
}

/**
 * Starts a gateway on 127.0.0.1 (free port) selling `routes` through the sellers behind them.
 *
 * @example
 * ```ts
 * import { startGateway } from '@stipend/testkit/market';
 * const gateway = await startGateway({
 *   routes: [{ method: 'GET', path: '/bundle/forecast', sellers: { x402: x402.url, l402: l402.url } }],
 * });
 * const res = await fetch(`${gateway.url}/bundle/forecast`); // 402 with PAYMENT-REQUIRED and WWW-Authenticate: L402 …
 * await gateway.close();
 * ```
 */
export async function startGateway(options: {
  readonly routes: readonly GatewayRoute[];
}): Promise<Gateway> {
  const routes = options.routes;
  const requests: GatewayRequestRecord[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const method = (req.method ?? 'GET').toUpperCase();
    const route = routes.find((r) => r.method === method && r.path === url.pathname);
    const record = (forwardedTo: GatewayRequestRecord['forwardedTo'], status: number) =>
      requests.push({ method, path: url.pathname, forwardedTo, status });
    if (!route) {
      reply(res, 404, { 'content-type': 'application/json' }, notFound(url.pathname, routes));
      record('none', 404);
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      reply(res, 413, { 'content-type': 'text/plain' }, 'request body too large');
      record('none', 413);
      return;
    }
    const headers = forwardable(req);
    const protocol = credentialProtocol(headers);
    if (protocol) {
      const seller = route.sellers[protocol];
      if (!seller) {
        const text = `this route is not sold through ${protocol}; pay one of: ${Object.keys(route.sellers).join(', ')}`;
        reply(res, 400, { 'content-type': 'text/plain' }, text);
        record(protocol, 400);
        return;
      }
      const answer = await ask(seller, url, method, headers, body);
      await relay(answer, res);
      record(protocol, answer.status);
      return;
    }
    // No credential: gather every seller's terms into one 402.
    const entries = Object.entries(route.sellers) as [GatewayProtocol, string][];
    const answers = await Promise.all(
      entries.map(([, seller]) => ask(seller, url, method, headers, body)),
    );
    const free = answers.find((answer) => answer.status !== 402);
    if (free) {
      await relay(free, res);
      for (const answer of answers) if (answer !== free) await answer.body?.cancel();
      record('terms', free.status);
      return;
    }
    const combined = new Headers({ 'access-control-expose-headers': TERMS_HEADERS.join(', ') });
    for (const answer of answers) {
      for (const name of TERMS_HEADERS) {
        const value = answer.headers.get(name);
        if (value) combined.append(name, value);
      }
    }
    const first = answers[0]!;
    combined.set('content-type', first.headers.get('content-type') ?? 'application/json');
    const text = await first.text();
    for (const answer of answers.slice(1)) await answer.body?.cancel();
    const out: Record<string, string> = {};
    combined.forEach((value, name) => {
      out[name] = value;
    });
    reply(res, 402, out, text);
    record('terms', 402);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        reply(res, 502, { 'content-type': 'text/plain' }, `gateway: ${(error as Error).message}`);
      } else {
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function ask(
  seller: string,
  url: URL,
  method: string,
  headers: Headers,
  body: Buffer,
): Promise<Response> {
  const target = new URL(`${url.pathname}${url.search}`, seller);
  return fetch(target, {
    method,
    headers,
    redirect: 'manual',
    ...(method === 'GET' || method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
  });
}

async function relay(answer: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  answer.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) headers[name] = value;
  });
  const body = Buffer.from(await answer.arrayBuffer());
  reply(res, answer.status, headers, body);
}

function reply(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | Buffer,
): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function forwardable(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function notFound(path: string, routes: readonly GatewayRoute[]): string {
  return JSON.stringify({
    error: `no route ${path}`,
    routes: routes.map((r) => `${r.method} ${r.path}`),
  });
}
