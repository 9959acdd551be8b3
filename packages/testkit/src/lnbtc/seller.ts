/**
 * A seller of x402 `exact` on Lightning (`lnbtc`), written from the spec
 * (x402-foundation/x402 `specs/schemes/exact/scheme_exact_lnbtc.md`) for Stipend's tests: a
 * Node HTTP server on 127.0.0.1 that answers 402 with `PAYMENT-REQUIRED` carrying a fresh,
 * really signed BOLT 11 invoice whose description hash binds the request (`http:1`, the bound
 * headers configurable per route), checks `PAYMENT-SIGNATURE` as the spec's facilitator would
 * (see `verify.ts`), serves once per invoice, and answers `PAYMENT-RESPONSE`.
 *
 * What is a stand-in: the Lightning network (the testkit simulator: invoices are real, paying
 * is a registry lookup) and the facilitator (in process, with an in-memory replay store).
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  IssuedInvoice,
  LightningNetwork,
  LightningNode,
  NodeInvoiceOptions,
} from '../lightning/simulator.js';
import { checkBoundHeaders, sellerHttpBinding } from './binding.js';
import { sellerRequestUrl } from './origin.js';
import { LnbtcSellerError, type LnbtcSellerReason } from './reasons.js';
import {
  type IssuedLnbtcInvoice,
  LNBTC_NETWORK_IDS,
  type LnbtcRequirement,
  verifyLnbtcProof,
} from './verify.js';

/** A paid route. */
export interface LnbtcRoute {
  readonly method: string;
  /** An exact path, or a prefix ending in `/*`. */
  readonly path: string;
  readonly priceMsat: bigint;
  /** Header names the invoice binds (lowercase, ascending); default none. */
  readonly boundHeaders?: readonly string[];
  /** The paid answer; default a JSON echo of the method, path and body. */
  readonly serve?: (request: LnbtcPaidRequest) => Response | Promise<Response>;
}

/** The request a paid route serves. */
export interface LnbtcPaidRequest {
  readonly method: string;
  readonly url: string;
  readonly body: Uint8Array;
  readonly headers: Headers;
  readonly paymentHash: string;
}

/** What a challenge hook gets (a hostile seller rewrites the challenge with it). */
export interface LnbtcChallengeContext {
  /** The honest `PAYMENT-REQUIRED` object, its invoice included. */
  readonly paymentRequired: LnbtcPaymentRequired;
  /** True when this 402 answers a request that carried a `PAYMENT-SIGNATURE`. */
  readonly afterProof: boolean;
  /** Issues another invoice from the seller's node, payable on the simulator. */
  issue(options: NodeInvoiceOptions): IssuedInvoice;
}

/** The decoded `PAYMENT-REQUIRED`. */
export interface LnbtcPaymentRequired {
  readonly x402Version: 2;
  readonly error?: string;
  readonly resource: { readonly url: string };
  readonly accepts: readonly LnbtcRequirement[];
}

/** Options of {@link startLnbtcSeller}. */
export interface LnbtcSellerOptions {
  /** The simulated Lightning network; the seller's node lives on it. */
  readonly network: LightningNetwork;
  /** The receiver node; default a new node `lnbtc-seller`. */
  readonly node?: LightningNode;
  /** Default: `GET /article/*` at 25 sat and `POST /report` at 50 sat binding `content-type`, `x-account`. */
  readonly routes?: readonly LnbtcRoute[];
  /** Clock, unix ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Invoice expiry = `maxTimeoutSeconds`. Default 300. */
  readonly maxTimeoutSeconds?: number;
  /** Default 60 (the spec's). */
  readonly clockSkewSeconds?: number;
  /** The origin clients call; default `http://127.0.0.1:<port>`. */
  readonly publicOrigin?: string;
  /** Honour `X-Forwarded-Host`/`-Proto`. Default false. */
  readonly trustProxy?: boolean;
  /** Hostile: rewrite each challenge before it is sent. */
  readonly rewriteChallenge?: (context: LnbtcChallengeContext) => unknown;
  /** Hostile: accept (and consume) a valid proof, then answer 402 anyway. */
  readonly refuseAfterPayment?: boolean;
}

/** A proof the seller accepted (money counted at the rail is checked against these). */
export interface LnbtcSettlement {
  readonly paymentHash: string;
  readonly amountMsat: bigint;
  readonly path: string;
  /** False when `refuseAfterPayment` answered 402 anyway. */
  readonly served: boolean;
}

/** A running seller. */
export interface LnbtcSeller {
  readonly url: string;
  readonly origin: string;
  readonly node: LightningNode;
  /** The `lnbtc:` network id of its offers. */
  readonly networkId: string;
  /** Every challenge sent: payment hash, request hash, method and URL. */
  readonly challenges: readonly {
    paymentHash: string;
    requestHash: string;
    method: string;
    url: string;
  }[];
  readonly settlements: readonly LnbtcSettlement[];
  /** Every refused proof or request, by spec reason. */
  readonly rejections: readonly { reason: LnbtcSellerReason; path: string }[];
  /** msat the receiver node was paid on the rail, over every invoice this seller issued. */
  settledOnRailMsat(): bigint;
  close(): Promise<void>;
}

const DEFAULT_ROUTES: readonly LnbtcRoute[] = [
  { method: 'GET', path: '/article/*', priceMsat: 25_000n },
  {
    method: 'POST',
    path: '/report',
    priceMsat: 50_000n,
    boundHeaders: ['content-type', 'x-account'],
  },
];
const MAX_BODY = 1 << 20;

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

function routeFor(routes: readonly LnbtcRoute[], method: string, path: string) {
  return routes.find(
    (route) =>
      route.method === method &&
      (route.path.endsWith('/*') ? path.startsWith(route.path.slice(0, -1)) : route.path === path),
  );
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Starts an `lnbtc` seller (see the module comment) on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { createLightningNetwork } from '@stipend/testkit/lightning';
 * import { startLnbtcSeller } from '@stipend/testkit/lnbtc';
 *
 * const network = createLightningNetwork();
 * const seller = await startLnbtcSeller({ network });
 * const res = await fetch(`${seller.url}article/A`); // 402 with PAYMENT-REQUIRED
 * await seller.close();
 * ```
 */
export async function startLnbtcSeller(options: LnbtcSellerOptions): Promise<LnbtcSeller> {
  const rail = options.network;
  const node = options.node ?? rail.createNode({ alias: 'lnbtc-seller' });
  const routes = options.routes ?? DEFAULT_ROUTES;
  for (const route of routes) checkBoundHeaders(route.boundHeaders ?? []);
  const now = options.now ?? Date.now;
  const ttl = options.maxTimeoutSeconds ?? 300;
  const skew = options.clockSkewSeconds ?? 60;
  const networkId = LNBTC_NETWORK_IDS[rail.network];
  const issued = new Map<string, IssuedLnbtcInvoice>();
  const consumed = new Set<string>();
  const challenges: LnbtcSeller['challenges'][number][] = [];
  const settlements: LnbtcSettlement[] = [];
  const rejections: LnbtcSeller['rejections'][number][] = [];
  let origin = '';

  function issue(invoice: NodeInvoiceOptions, terms: Omit<IssuedLnbtcInvoice, 'bolt11'>) {
    const made = node.createInvoice(invoice);
    issued.set(made.paymentHash, { ...terms, bolt11: made.bolt11 });
    return made;
  }

  function challenge(
    expected: LnbtcRequirement,
    url: string,
    method: string,
    afterProof: boolean,
    error?: string,
  ): Response {
    const invoice = issue(
      {
        amountMsat: BigInt(expected.amount),
        descriptionHash: expected.extra.requestHash,
        expirySeconds: ttl,
        timestamp: Math.floor(now() / 1000),
      },
      { network: networkId, amount: expected.amount, requestHash: expected.extra.requestHash },
    );
    challenges.push({
      paymentHash: invoice.paymentHash,
      requestHash: expected.extra.requestHash,
      method,
      url,
    });
    const honest: LnbtcPaymentRequired = {
      x402Version: 2,
      ...(error ? { error } : {}),
      resource: { url },
      accepts: [{ ...expected, extra: { ...expected.extra, invoice: invoice.bolt11 } }],
    };
    const sent = options.rewriteChallenge
      ? (options.rewriteChallenge({
          paymentRequired: honest,
          afterProof,
          issue: (invoiceOptions) => node.createInvoice(invoiceOptions),
        }) ?? honest)
      : honest;
    return new Response('{}', {
      status: 402,
      headers: { 'content-type': 'application/json', 'payment-required': encode(sent) },
    });
  }

  async function handle(req: IncomingMessage): Promise<Response> {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const path = target.split('?')[0]!;
    const route = routeFor(routes, method, path);
    if (!route) return new Response('not found', { status: 404 });
    const body = await readBody(req);
    const headerLines: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headerLines.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    let url: string;
    let requestHash: string;
    try {
      url = sellerRequestUrl({
        publicOrigin: options.publicOrigin ?? origin,
        trustProxy: options.trustProxy ?? false,
        target,
        headerLines,
      });
      requestHash = sellerHttpBinding({
        method,
        url,
        body,
        headerLines,
        boundHeaders: route.boundHeaders ?? [],
      }).requestHash;
    } catch (error) {
      if (!(error instanceof LnbtcSellerError)) throw error;
      rejections.push({ reason: error.reason, path });
      return Response.json({ error: error.reason }, { status: 400 });
    }
    const expected: LnbtcRequirement = {
      scheme: 'exact',
      network: networkId,
      amount: route.priceMsat.toString(),
      asset: 'BTC',
      payTo: node.pubkey,
      maxTimeoutSeconds: ttl,
      extra: {
        assetTransferMethod: 'bolt11',
        paymentFlow: 'upfront',
        requestHash,
        requestBindingProfile: 'http:1',
        requestBindingParams: { headers: [...(route.boundHeaders ?? [])] },
      },
    };
    const header = req.headers['payment-signature'];
    if (typeof header !== 'string') return challenge(expected, url, method, false);
    let paid: ReturnType<typeof verifyLnbtcProof>;
    try {
      paid = verifyLnbtcProof({
        header,
        expected,
        nowSec: Math.floor(now() / 1000),
        clockSkewSec: skew,
        rail,
        issued,
        consumed,
      });
    } catch (error) {
      if (!(error instanceof LnbtcSellerError)) throw error;
      rejections.push({ reason: error.reason, path });
      return challenge(expected, url, method, true, error.reason);
    }
    const served = !options.refuseAfterPayment;
    settlements.push({ paymentHash: paid.paymentHash, amountMsat: paid.amountMsat, path, served });
    if (!served) return challenge(expected, url, method, true, 'settlement_failed');
    const headers = new Headers();
    for (const [name, value] of headerLines) if (!name.startsWith(':')) headers.append(name, value);
    const response = route.serve
      ? await route.serve({ method, url, body, headers, paymentHash: paid.paymentHash })
      : Response.json({ method, path, body: new TextDecoder().decode(body) });
    const out = new Response(response.body, response);
    out.headers.set(
      'payment-response',
      encode({ success: true, transaction: paid.paymentHash, network: paid.network }),
    );
    return out;
  }

  async function reply(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const response = await handle(req);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      res.writeHead(response.status, headers);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end((error as Error).message);
    }
  }

  const server = createServer((req, res) => void reply(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    node,
    networkId,
    challenges,
    settlements,
    rejections,
    settledOnRailMsat() {
      let total = 0n;
      for (const hash of issued.keys()) {
        const status = rail.invoiceStatus(hash);
        if (status?.state === 'settled') total += status.amountPaidMsat ?? 0n;
      }
      return total;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
