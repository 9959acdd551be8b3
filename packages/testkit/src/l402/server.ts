import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLightningNetwork,
  type LightningNetwork,
  type LightningNode,
} from '../lightning/simulator.js';
import { parseL402Authorization } from './authorization.js';
import { CAPABILITIES_SUFFIX, servicesCaveat, VALID_UNTIL_SUFFIX } from './caveats.js';
import {
  type ChallengeRenderer,
  type L402ChallengeStyle,
  mppLightningChallenge,
  renderL402Challenge,
} from './challenge.js';
import { DEFAULT_L402_ROUTES, type L402Reply, type L402Request, type L402Route } from './routes.js';
import { mintL402Macaroon, RootKeyStore, verifyL402Credential } from './token.js';

/** aperture sample config `timeout: 31557600` (one year). */
const DEFAULT_VALID_FOR_SECONDS = 31_557_600;
const MAX_BODY_BYTES = 1 << 20;

/** Options of {@link startL402Server}. */
export interface L402ServerOptions {
  /** The simulated network wallets pay through; a new one when omitted. */
  network?: LightningNetwork;
  /** The payee node issuing invoices; a new node of `network` when omitted. */
  node?: LightningNode;
  /** Default {@link DEFAULT_L402_ROUTES}. */
  routes?: readonly L402Route[];
  /** Shape of the `WWW-Authenticate` header(s); default `aperture` (two lines). */
  challengeStyle?: L402ChallengeStyle | ChallengeRenderer;
  /** Invoice `x` tag; default 86 400 (LND). `null` omits it (BOLT 11 default 3600 s). */
  invoiceExpirySeconds?: number | null;
  /** Invoice memo; default `L402`. */
  invoiceDescription?: string;
  /**
   * Also require the invoice to be settled in the simulator (default true). aperture's
   * default verification is stateless (preimage ⇒ paid); this is its `strictverify` mode.
   */
  requireSettled?: boolean;
  /**
   * Settlement-race emulation: the first N requests carrying an otherwise valid credential
   * for a token get a 402 with a fresh challenge and body `payment not yet confirmed`.
   * Default 0.
   */
  unconfirmedResponses?: number;
  /** CORS headers like aperture (`Access-Control-Expose-Headers: WWW-Authenticate`); default true. */
  cors?: boolean;
  /** Server clock in unix ms (caveat minting and expiry). Default `Date.now`. */
  now?: () => number;
}

/** Counters for tests. */
export interface L402ServerStats {
  /** 402 responses carrying a challenge, plus {@link L402Server.issueChallenge} calls. */
  challengesIssued: number;
  /** Invoices the server's node issued (one per challenge, two with the `with-payment` style). */
  invoicesIssued: number;
  /** Requests answered by a route handler (free and paid). */
  requestsServed: number;
  /** Requests answered by a route handler after a valid credential. */
  paidRequestsServed: number;
  /** Requests whose `Authorization` credential was refused. */
  rejectedCredentials: number;
  /** Paid requests served, by token id. */
  servedByToken: Record<string, number>;
}

/** A challenge as issued. */
export interface IssuedChallenge {
  /** The `WWW-Authenticate` lines. */
  headerLines: string[];
  macaroon: string;
  invoice: string;
  paymentHash: string;
  tokenId: string;
  service: string;
  priceMsat: bigint;
}

/** A refused credential, for debugging tests. */
export interface CredentialRejection {
  path: string;
  reason: string;
  tokenId: string | null;
}

/** A running L402 server. */
export interface L402Server {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly network: LightningNetwork;
  readonly node: LightningNode;
  stats(): L402ServerStats;
  /** Every challenge issued, oldest first. */
  readonly challenges: readonly IssuedChallenge[];
  /** Every refused credential, oldest first. */
  readonly rejections: readonly CredentialRejection[];
  /** Mints a challenge for a route without an HTTP round trip (counts as issued). */
  issueChallenge(method: string, path: string): IssuedChallenge;
  /** Forgets a token's root key (aperture `RevokeSecret`): the next use gets a fresh 402. */
  revokeToken(tokenId: string): boolean;
  /**
   * Test-only cheat: the preimage of an invoice this server issued, so a test can present a
   * credential for an invoice that was never paid.
   */
  unsafePreimageFor(paymentHash: string): string | undefined;
  close(): Promise<void>;
}

/**
 * Starts an HTTP L402 server on 127.0.0.1 (free port), equivalent to Lightning Labs'
 * aperture for client tests. Real: v2 macaroons (`macaroon` package, our v2 binary encoder,
 * standard base64), 66-byte identifiers, per-token root keys, aperture's caveat rules,
 * signed BOLT 11 regtest invoices. Stand-in: the Lightning network (see
 * {@link createLightningNetwork}), so "settled" means settled in the simulator.
 *
 * Without a valid credential a protected route answers 402 with a fresh challenge (new
 * invoice, new macaroon) — also for expired, revoked, wrong-service, wrong-preimage or
 * tampered credentials, as aperture does.
 *
 * @example
 * ```ts
 * import { startL402Server } from '@stipend/testkit/l402';
 * const server = await startL402Server();
 * const res = await fetch(`${server.url}/quote`); // 402, two WWW-Authenticate lines
 * const { macaroon, invoice } = server.challenges[0]!;
 * const { preimage } = await server.network.pay(invoice, { maxFeeMsat: 10_000n });
 * await fetch(`${server.url}/quote`, { headers: { authorization: `L402 ${macaroon}:${preimage}` } }); // 200
 * await server.close();
 * ```
 */
export async function startL402Server(options: L402ServerOptions = {}): Promise<L402Server> {
  const network = options.network ?? createLightningNetwork();
  const node = options.node ?? network.createNode({ alias: 'l402-server' });
  if (network.node(node.pubkey) !== node) {
    throw new Error('options.node must be a node of options.network (network.createNode())');
  }
  const routes = options.routes ?? DEFAULT_L402_ROUTES;
  for (const route of routes) validateRoute(route);
  const style = options.challengeStyle ?? 'aperture';
  const requireSettled = options.requireSettled ?? true;
  const unconfirmedResponses = options.unconfirmedResponses ?? 0;
  const cors = options.cors ?? true;
  const now = options.now ?? Date.now;
  const keys = new RootKeyStore();
  const preimages = new Map<string, string>();
  const challenges: IssuedChallenge[] = [];
  const rejections: CredentialRejection[] = [];
  const unconfirmedSeen = new Map<string, number>();
  const stats: L402ServerStats = {
    challengesIssued: 0,
    invoicesIssued: 0,
    requestsServed: 0,
    paidRequestsServed: 0,
    rejectedCredentials: 0,
    servedByToken: {},
  };
  let realm = '127.0.0.1';

  function issueInvoice(priceMsat: bigint) {
    const invoice = node.createInvoice({
      amountMsat: priceMsat,
      description: options.invoiceDescription ?? 'L402',
      ...(options.invoiceExpirySeconds === undefined
        ? {}
        : { expirySeconds: options.invoiceExpirySeconds }),
    });
    preimages.set(invoice.paymentHash, invoice.preimage);
    stats.invoicesIssued++;
    return invoice;
  }

  function mintChallenge(route: L402Route): IssuedChallenge {
    const service = route.service as string;
    const priceMsat = route.priceMsat as bigint;
    const invoice = issueInvoice(priceMsat);
    const caveats = [servicesCaveat([{ name: service, tier: route.tier ?? 0 }])];
    if (route.capabilities)
      caveats.push(`${service}${CAPABILITIES_SUFFIX}=${route.capabilities.join(',')}`);
    const validFor =
      route.validForSeconds === undefined ? DEFAULT_VALID_FOR_SECONDS : route.validForSeconds;
    if (validFor !== null) {
      caveats.push(`${service}${VALID_UNTIL_SUFFIX}=${Math.floor(now() / 1000) + validFor}`);
    }
    const minted = mintL402Macaroon(keys, invoice.paymentHash, caveats);
    let paymentChallenge: string | undefined;
    if (style === 'with-payment') {
      const mppInvoice = issueInvoice(priceMsat);
      paymentChallenge = mppLightningChallenge({
        id: randomBytes(16).toString('base64url'),
        realm,
        amountSat: (priceMsat + 999n) / 1000n,
        invoice: mppInvoice.bolt11,
        paymentHash: mppInvoice.paymentHash,
        network: network.network,
      });
    }
    const headerLines = renderL402Challenge(style, {
      macaroon: minted.macaroon,
      invoice: invoice.bolt11,
      realm,
      ...(paymentChallenge ? { paymentChallenge } : {}),
    });
    const issued: IssuedChallenge = {
      headerLines,
      macaroon: minted.macaroon,
      invoice: invoice.bolt11,
      paymentHash: invoice.paymentHash,
      tokenId: minted.tokenId,
      service,
      priceMsat,
    };
    challenges.push(issued);
    stats.challengesIssued++;
    return issued;
  }

  function baseHeaders(res: ServerResponse): void {
    if (!cors) return;
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, WWW-Authenticate');
  }

  function sendText(res: ServerResponse, status: number, text: string): void {
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(text);
  }

  function sendChallenge(res: ServerResponse, route: L402Route, body = 'payment required'): void {
    if (route.skipInvoiceCreation) {
      sendText(res, 401, 'unauthorized');
      return;
    }
    const challenge = mintChallenge(route);
    res.setHeader('WWW-Authenticate', challenge.headerLines);
    res.setHeader('Cache-Control', 'no-store');
    sendText(res, 402, body);
  }

  async function sendReply(res: ServerResponse, reply: L402Reply): Promise<void> {
    res.statusCode = reply.status ?? 200;
    const headers = reply.headers ?? {};
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
    const body = reply.body;
    if (body === undefined || body === null) {
      res.end();
    } else if (body instanceof Uint8Array) {
      res.end(body);
    } else if (typeof body === 'string') {
      if (!hasType) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(body);
    } else {
      if (!hasType) res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    }
  }

  function reject(path: string, reason: string, tokenId: string | null): void {
    stats.rejectedCredentials++;
    rejections.push({ path, reason, tokenId });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    baseHeaders(res);
    const url = new URL(req.url ?? '/', `http://${realm}`);
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS') {
      res.statusCode = 204;
      res.end();
      return;
    }
    const route = routes.find((r) => r.method === method && r.path === url.pathname);
    if (!route) {
      sendText(res, 404, 'not found');
      return;
    }
    const body = await readBody(req);
    const request: L402Request = {
      method,
      path: url.pathname,
      url,
      headers: req.headers,
      body,
      token: null,
    };
    if (route.service !== undefined) {
      const header = req.headers.authorization;
      if (header === undefined) {
        sendChallenge(res, route);
        return;
      }
      const credential = parseL402Authorization(header);
      if (!credential) {
        reject(
          url.pathname,
          'Authorization is not "L402|LSAT <base64 macaroon>:<64 lowercase hex>"',
          null,
        );
        sendChallenge(res, route);
        return;
      }
      const verdict = verifyL402Credential(keys, credential.macaroon, credential.preimage, {
        service: route.service,
        nowSeconds: Math.floor(now() / 1000),
        ...(route.requiredCapability === undefined ? {} : { capability: route.requiredCapability }),
      });
      if (!verdict.ok) {
        reject(url.pathname, verdict.reason, verdict.tokenId ?? null);
        sendChallenge(res, route);
        return;
      }
      if (requireSettled && node.lookupInvoice(verdict.paymentHash)?.state !== 'settled') {
        reject(url.pathname, 'invoice not settled in the simulated network', verdict.tokenId);
        sendChallenge(res, route);
        return;
      }
      const seen = unconfirmedSeen.get(verdict.tokenId) ?? 0;
      if (seen < unconfirmedResponses) {
        unconfirmedSeen.set(verdict.tokenId, seen + 1);
        reject(
          url.pathname,
          'payment not yet confirmed (settlement race emulation)',
          verdict.tokenId,
        );
        sendChallenge(res, route, 'payment not yet confirmed');
        return;
      }
      request.token = {
        tokenId: verdict.tokenId,
        paymentHash: verdict.paymentHash,
        caveats: verdict.caveats,
        scheme: credential.scheme,
      };
    }
    const reply = route.handler ? await route.handler(request) : defaultReply(route);
    stats.requestsServed++;
    if (request.token) {
      stats.paidRequestsServed++;
      const id = request.token.tokenId;
      stats.servedByToken[id] = (stats.servedByToken[id] ?? 0) + 1;
    }
    await sendReply(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const tooLarge = error instanceof BodyTooLargeError;
      sendText(res, tooLarge ? 413 : 500, tooLarge ? 'request body too large' : 'internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  realm = `127.0.0.1:${port}`;
  let closed: Promise<void> | null = null;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    network,
    node,
    stats: () => ({ ...stats, servedByToken: { ...stats.servedByToken } }),
    get challenges() {
      return [...challenges];
    },
    get rejections() {
      return [...rejections];
    },
    issueChallenge(method, path) {
      const route = routes.find((r) => r.method === method.toUpperCase() && r.path === path);
      if (!route || route.service === undefined) {
        throw new Error(
          `no protected route ${method} ${path}; protected routes: ${protectedRouteList(routes)}`,
        );
      }
      return mintChallenge(route);
    },
    revokeToken: (tokenId) => keys.revoke(tokenId),
    unsafePreimageFor: (paymentHash) => preimages.get(paymentHash),
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

class BodyTooLargeError extends Error {}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(buf);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function defaultReply(route: L402Route): L402Reply {
  return { body: { path: route.path, service: route.service ?? null } };
}

function validateRoute(route: L402Route): void {
  if (!route.path.startsWith('/')) throw new Error(`route path must start with "/": ${route.path}`);
  if (route.service === undefined) return;
  if (typeof route.priceMsat !== 'bigint' || route.priceMsat <= 0n) {
    throw new Error(
      `route ${route.method} ${route.path} (service ${route.service}) needs priceMsat as a positive bigint`,
    );
  }
  // Throws for names with , : = and tiers outside 0..255.
  servicesCaveat([{ name: route.service, tier: route.tier ?? 0 }]);
}

function protectedRouteList(routes: readonly L402Route[]): string {
  return routes
    .filter((r) => r.service !== undefined)
    .map((r) => `${r.method} ${r.path}`)
    .join(', ');
}
