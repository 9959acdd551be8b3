/**
 * A local stand-in of the three CDP Wallet API endpoints `cdpAccount` reaches through
 * `@coinbase/cdp-sdk`: `GET /platform/v2/evm/accounts/{address}`, `GET …/by-name/{name}` and
 * `POST …/{address}/sign/typed-data`. It checks what CDP checks for them: the API-key bearer
 * JWT (ES256, `sub`, `iss: "cdp"`, `uris` naming the exact method, host and path, expiry) and,
 * for the signing POST, the wallet-auth JWT (`X-Wallet-Auth`, signed with the wallet secret,
 * `reqHash` = SHA-256 of the key-sorted JSON body). It signs with a local test key: an
 * EIP-712 signature is the same whoever computes it, so the x402 facilitator can verify it.
 * A stand-in, not CDP: its keys are generated per run and its accounts are anvil test keys.
 */
import { createHash, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalAccount } from 'viem';

export interface CdpStandIn {
  /** The SDK's `basePath`: `http://127.0.0.1:<port>/platform`. */
  readonly basePath: string;
  readonly apiKeyId: string;
  /** PKCS#8 PEM EC key, as CDP hands out API key secrets. */
  readonly apiKeySecret: string;
  /** Base64 DER PKCS#8 EC key, as CDP hands out wallet secrets. */
  readonly walletSecret: string;
  /** Every request, in order: method, path, and whether its auth verified. */
  readonly calls: { method: string; path: string; authorized: boolean; body?: unknown }[];
  close(): Promise<void>;
}

/**
 * Starts the stand-in on 127.0.0.1 (free port) serving `accounts` (by address and by name).
 *
 * @example
 * ```ts
 * const cdp = await startCdpStandIn([{ name: 'payer', account: devAccount(4) }]);
 * const signer = await cdpAccount({ ...cdp, name: 'payer' });
 * await cdp.close();
 * ```
 */
export async function startCdpStandIn(
  accounts: readonly { name: string; account: LocalAccount }[],
): Promise<CdpStandIn> {
  const apiKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const walletKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const apiKeyId = 'organizations/stand-in/apiKeys/0c8f3a2e-stand-in';
  const calls: CdpStandIn['calls'] = [];

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { errorType: 'internal_server_error', errorMessage: String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://stand-in').pathname;
    const host = request.headers.host ?? '';
    const text = await readBody(request);
    const body = text ? (JSON.parse(text) as unknown) : undefined;
    const uri = `${method} ${host}${path}`;
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    let authorized = bearer !== undefined && checkApiJwt(bearer, apiKey.publicKey, apiKeyId, uri);
    if (method === 'POST') {
      const walletJwt = request.headers['x-wallet-auth'];
      authorized &&=
        typeof walletJwt === 'string' && checkWalletJwt(walletJwt, walletKey.publicKey, uri, body);
    }
    calls.push({ method, path, authorized, ...(body !== undefined ? { body } : {}) });
    if (!authorized) {
      send(response, 401, { errorType: 'unauthorized', errorMessage: 'Invalid or missing JWT.' });
      return;
    }
    const byName = /^\/platform\/v2\/evm\/accounts\/by-name\/([^/]+)$/.exec(path);
    const byAddress =
      /^\/platform\/v2\/evm\/accounts\/(0x[0-9a-fA-F]{40})(\/sign\/typed-data)?$/.exec(path);
    const entry = byName
      ? accounts.find((candidate) => candidate.name === decodeURIComponent(byName[1]!))
      : byAddress
        ? accounts.find(
            (candidate) => candidate.account.address.toLowerCase() === byAddress[1]!.toLowerCase(),
          )
        : undefined;
    if (!entry) {
      send(response, 404, { errorType: 'not_found', errorMessage: `No account at ${path}.` });
      return;
    }
    if (method === 'GET' && !byAddress?.[2]) {
      send(response, 200, {
        address: entry.account.address,
        name: entry.name,
        policies: [],
        createdAt: '2026-01-01T00:00:00Z',
        updatedAt: '2026-01-01T00:00:00Z',
      });
      return;
    }
    if (method === 'POST' && byAddress?.[2]) {
      const { domain, types, primaryType, message } = body as {
        domain: Record<string, unknown>;
        types: Record<string, { name: string; type: string }[]>;
        primaryType: string;
        message: Record<string, unknown>;
      };
      const { EIP712Domain: _domainTypes, ...messageTypes } = types;
      const signature = await entry.account.signTypedData({
        domain,
        types: messageTypes,
        primaryType,
        message: withBigInts(message, primaryType, messageTypes),
      } as never);
      send(response, 200, { signature });
      return;
    }
    send(response, 405, { errorType: 'invalid_request', errorMessage: `${method} not allowed.` });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    basePath: `http://127.0.0.1:${port}/platform`,
    apiKeyId,
    apiKeySecret: apiKey.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    walletSecret: walletKey.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Verifies an ES256 JWT; returns its claims, or undefined. */
function verifyJwt(
  token: string,
  key: KeyObject,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const [header, claims, signature] = token.split('.');
  if (!header || !claims || !signature) return undefined;
  const ok = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!ok) return undefined;
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')),
  };
}

function checkApiJwt(token: string, key: KeyObject, apiKeyId: string, uri: string): boolean {
  const jwt = verifyJwt(token, key);
  if (jwt?.header.alg !== 'ES256' || jwt.header.kid !== apiKeyId) return false;
  const { claims } = jwt;
  const now = Math.floor(Date.now() / 1000);
  return (
    claims.sub === apiKeyId &&
    claims.iss === 'cdp' &&
    Array.isArray(claims.uris) &&
    claims.uris.length === 1 &&
    claims.uris[0] === uri &&
    typeof claims.exp === 'number' &&
    claims.exp >= now &&
    typeof claims.nbf === 'number' &&
    claims.nbf <= now + 5
  );
}

function checkWalletJwt(token: string, key: KeyObject, uri: string, body: unknown): boolean {
  const jwt = verifyJwt(token, key);
  if (jwt?.header.alg !== 'ES256') return false;
  const { claims } = jwt;
  const reqHash = createHash('sha256')
    .update(JSON.stringify(sortKeys(body)))
    .digest('hex');
  return (
    Array.isArray(claims.uris) &&
    claims.uris[0] === uri &&
    claims.reqHash === reqHash &&
    typeof claims.jti === 'string'
  );
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!value || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/** The API carries uint256 values as decimal strings; EIP-712 hashing wants integers. */
function withBigInts(
  value: Record<string, unknown>,
  type: string,
  types: Record<string, { name: string; type: string }[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of types[type] ?? []) {
    const item = value[field.name];
    if (/^u?int\d*$/.test(field.type) && typeof item === 'string') out[field.name] = BigInt(item);
    else if (types[field.type] && typeof item === 'object' && item !== null)
      out[field.name] = withBigInts(item as Record<string, unknown>, field.type, types);
    else out[field.name] = item;
  }
  return out;
}
