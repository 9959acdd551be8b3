/**
 * The authority over HTTP (node:http): plain JSON, CORS for browsers. See `../remote/wire.ts`
 * for the routes and bodies.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isStipendError, isWalletError, StipendError, walletFailureFacts } from '@stipend/client';
import { decodeJson, type ErrorBody, encodeJson, ROUTES } from '../remote/wire.js';
import type { PayRequest, SpendAuthority } from './authority.js';
import { badRequest } from './request-input.js';

/** Options of {@link startAuthorityServer}. */
export interface AuthorityServerOptions {
  /** The port; `0` (default) picks a free one. */
  readonly port?: number;
  /** The interface to listen on. Default `127.0.0.1`. */
  readonly host?: string;
  /**
   * Browser origins allowed to call (CORS): `'*'` (default; requests carry no cookies, the
   * token is the credential) or a list of origins.
   */
  readonly cors?: '*' | readonly string[];
  /** Largest request body, in bytes. Default 256 KiB. */
  readonly maxBodyBytes?: number;
}

/** A running authority server. */
export interface AuthorityServer {
  /** `http://host:port` (no trailing slash): what `remoteWallet({ url })` takes. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Serves an authority over HTTP: `POST /v1/pay`, `POST /v1/lookup`, `POST /v1/token`.
 *
 * @example
 * ```ts
 * import { createSpendAuthority, startAuthorityServer } from '@stipend/authority';
 *
 * const authority = createSpendAuthority({ wallets: [wallet] });
 * const server = await startAuthorityServer(authority, { port: 0 });
 * console.warn(`authority at ${server.url}`);
 * await server.close();
 * ```
 */
export async function startAuthorityServer(
  authority: SpendAuthority,
  options: AuthorityServerOptions = {},
): Promise<AuthorityServer> {
  const maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  const cors = options.cors ?? '*';
  const server = createServer((req, res) => {
    void handle(authority, req, res, maxBodyBytes, cors);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function handle(
  authority: SpendAuthority,
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
  cors: '*' | readonly string[],
): Promise<void> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...corsHeaders(req, cors),
  };
  if (req.method === 'OPTIONS') {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  const send = (status: number, body: unknown) => {
    res.writeHead(status, headers);
    res.end(encodeJson(body));
  };
  try {
    if (req.method !== 'POST') {
      send(405, errorBody(new StipendError('AUTHORITY_NOT_FOUND', 'Use POST.')));
      return;
    }
    const body = await readBody(req, maxBodyBytes);
    const token = body.token;
    if (typeof token !== 'string' || token.length === 0) throw badRequest('token is missing');
    if (path === ROUTES.pay) {
      const proof = await authority.pay(token, body as unknown as PayRequest);
      send(200, { proof });
    } else if (path === ROUTES.lookup) {
      if (typeof body.reference !== 'string' || body.reference.length > 512) {
        throw badRequest('reference must be a string');
      }
      send(200, { status: await authority.lookup(token, body.reference) });
    } else if (path === ROUTES.token) {
      send(200, await authority.status(token));
    } else {
      send(
        404,
        errorBody(
          new StipendError(
            'AUTHORITY_NOT_FOUND',
            `No route ${path}; use ${Object.values(ROUTES).join(', ')}.`,
          ),
        ),
      );
    }
  } catch (error) {
    const stipend = isStipendError(error)
      ? error
      : new StipendError('AUTHORITY_ERROR', 'The spend authority failed; see its logs.');
    send(statusOf(stipend), errorBody(stipend));
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw badRequest(`the body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = decodeJson(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function errorBody(error: StipendError): ErrorBody {
  // By shape, not instanceof: a wallet may bring its own copy of @stipend/client.
  const { paid, reference } = walletFailureFacts(error);
  return {
    error: error.toJSON(),
    paid,
    ...(reference ? { reference } : {}),
  };
}

function statusOf(error: StipendError): number {
  if (isWalletError(error)) return 502;
  switch (error.code) {
    case 'AUTHORITY_BAD_REQUEST':
      return 400;
    case 'DELEGATION_INVALID':
    case 'DELEGATION_EXPIRED':
      return 401;
    case 'AUTHORITY_NOT_FOUND':
      return 404;
    case 'AUTHORITY_ERROR':
      return 500;
    default:
      // Refusals: caps, scope, rails, the authority's policy, approvals, transport.
      return 403;
  }
}

function corsHeaders(req: IncomingMessage, cors: '*' | readonly string[]): Record<string, string> {
  const origin = req.headers.origin;
  const allowed = cors === '*' ? '*' : origin && cors.includes(origin) ? origin : undefined;
  if (allowed === undefined) return { vary: 'origin' };
  return {
    'access-control-allow-origin': allowed,
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
    vary: 'origin',
  };
}
