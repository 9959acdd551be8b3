/**
 * An LND-REST-protocol stand-in over the simulated Lightning network, so that a process other
 * than the one running the simulator (the `stipend` command, say) can pay its invoices, and
 * take a session's refund on its own node, with a stock LND REST client. It speaks LND's REST
 * wire protocol (paths, macaroon header, grpc-gateway JSON) for the routes a paying wallet
 * uses, and answers them from the simulator: it is NOT LND (no channels, no routing, no TLS).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addInvoice, type LndRestAnswer, lookupInvoice } from './lnd-rest-stand-in-invoices.js';
import { LightningPaymentError } from './payment-error.js';
import type { LightningNetwork, LightningNode } from './simulator.js';

/** Options of {@link startLndRestStandIn}. */
export interface LndRestStandInOptions {
  /**
   * The payer's node: its alias labels the payments in the simulator, and the invoice routes
   * (AddInvoice, LookupInvoice) issue and look up its invoices. Without it they answer 501.
   */
  readonly node?: LightningNode;
  /** The macaroon (hex) every request must carry in `Grpc-Metadata-macaroon`. Random by default. */
  readonly macaroonHex?: string;
  /** What `GET /v1/balance/channels` reports as the local balance, in msat. Default 10^11. */
  readonly localBalanceMsat?: bigint;
}

/** One request the stand-in received. */
export interface LndRestRequestRecord {
  readonly method: string;
  readonly path: string;
  /** Whether it carried the right macaroon. */
  readonly authorized: boolean;
}

/** A running LND REST stand-in. */
export interface LndRestStandIn {
  /** `http://127.0.0.1:<port>` (plain HTTP: a real LND serves HTTPS with its own certificate). */
  readonly url: string;
  /** The macaroon clients must send, hex. */
  readonly macaroonHex: string;
  readonly requests: readonly LndRestRequestRecord[];
  close(): Promise<void>;
}

/** Simulator refusals LND reports as a FAILED payment (nothing paid), with LND's reason. */
const FAILED_REASONS: Readonly<Record<string, string>> = {
  fee_limit_exceeded: 'FAILURE_REASON_NO_ROUTE',
  payment_failed: 'FAILURE_REASON_NO_ROUTE',
  unknown_invoice: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS',
  invoice_expired: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS',
};

const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts an LND REST stand-in on 127.0.0.1 (free port) for the payer `node` of a simulated
 * network. Routes: `POST /v2/router/send` (SendPaymentV2: newline-delimited JSON, the final
 * update), `GET /v2/router/track/{hash}` (TrackPaymentV2, hash in URL-safe base64),
 * `POST /v1/invoices` (AddInvoice: `r_hash` base64, `payment_request`) and
 * `GET /v1/invoice/{hash hex}` (LookupInvoice: `state` OPEN/ACCEPTED/SETTLED/CANCELED,
 * `amt_paid_msat`, `creation_date`, `expiry`) on the payer's own node,
 * `GET /v1/balance/channels` and `GET /v1/getinfo`. Every request must carry the macaroon in
 * `Grpc-Metadata-macaroon`.
 *
 * @example
 * ```ts
 * import { createLightningNetwork, startLndRestStandIn } from '@stipend/testkit/lightning';
 * import { lightningWallet, lndRestBackend } from '@stipend/wallet-lightning';
 *
 * const network = createLightningNetwork();
 * const lnd = await startLndRestStandIn(network, { node: network.createNode({ alias: 'agent' }) });
 * const wallet = lightningWallet({
 *   network: 'regtest',
 *   backend: lndRestBackend({ url: lnd.url, macaroon: lnd.macaroonHex }),
 * });
 * await lnd.close();
 * ```
 */
export async function startLndRestStandIn(
  network: LightningNetwork,
  options: LndRestStandInOptions = {},
): Promise<LndRestStandIn> {
  const macaroonHex = (options.macaroonHex ?? randomBytes(32).toString('hex')).toLowerCase();
  const payer = options.node?.alias ?? 'lnd-rest';
  const requests: LndRestRequestRecord[] = [];

  const send = (res: ServerResponse, status: number, messages: readonly unknown[]) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  };

  /** LND's `lnrpc.Payment`, int64 fields as strings, or undefined for an unknown hash. */
  const paymentOf = (hash: string): Record<string, string> | undefined => {
    const found = network.lookup(hash);
    switch (found.status) {
      case 'succeeded':
        return {
          payment_hash: hash,
          status: 'SUCCEEDED',
          payment_preimage: found.preimage,
          fee_msat: found.feeMsat.toString(),
          value_msat: found.amountMsat.toString(),
        };
      case 'failed':
        return { payment_hash: hash, status: 'FAILED', failure_reason: 'FAILURE_REASON_NO_ROUTE' };
      case 'in_flight':
        return { payment_hash: hash, status: 'IN_FLIGHT' };
      default:
        return undefined;
    }
  };

  async function sendPayment(body: unknown, res: ServerResponse): Promise<void> {
    const request = body as {
      payment_request?: unknown;
      fee_limit_msat?: unknown;
      timeout_seconds?: unknown;
    } | null;
    if (typeof request?.payment_request !== 'string') {
      send(res, 400, [{ code: 3, message: 'payment_request is required' }]);
      return;
    }
    const fee = typeof request.fee_limit_msat === 'string' ? request.fee_limit_msat : '0';
    if (!/^\d+$/.test(fee)) {
      send(res, 400, [{ code: 3, message: 'fee_limit_msat must be an unsigned integer' }]);
      return;
    }
    const seconds = typeof request.timeout_seconds === 'number' ? request.timeout_seconds : 60;
    try {
      const paid = await network.pay(request.payment_request, {
        maxFeeMsat: BigInt(fee),
        timeoutMs: Math.max(1, seconds) * 1000,
        payer,
      });
      send(res, 200, [{ result: paymentOf(paid.paymentHash) }]);
    } catch (error) {
      if (!(error instanceof LightningPaymentError)) throw error;
      const hash = error.paymentHash;
      if (error.code === 'timeout' && hash) {
        // LND keeps the stream open until the HTLC resolves.
        while (network.lookup(hash).status === 'in_flight') {
          if (res.destroyed) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        send(res, 200, [{ result: paymentOf(hash) }]);
        return;
      }
      const reason = FAILED_REASONS[error.code];
      if (reason && hash) {
        send(res, 200, [
          { result: { payment_hash: hash, status: 'FAILED', failure_reason: reason } },
        ]);
        return;
      }
      const message =
        error.code === 'invoice_already_paid'
          ? 'invoice is already paid'
          : error.code === 'payment_in_flight'
            ? 'payment is in transition'
            : error.message;
      send(res, 200, [{ error: { code: error.code === 'invoice_already_paid' ? 6 : 2, message } }]);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) {
        send(res, 413, [{ code: 8, message: 'request body too large' }]);
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const macaroon = String(req.headers['grpc-metadata-macaroon'] ?? '').toLowerCase();
    const authorized = macaroon === macaroonHex;
    requests.push({ method: req.method ?? 'GET', path: url.pathname, authorized });
    if (!authorized) {
      send(res, 401, [{ code: 2, message: 'verification failed: signature mismatch' }]);
      return;
    }
    let body: unknown = null;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        send(res, 400, [{ code: 3, message: 'the body is not JSON' }]);
        return;
      }
    }
    if (req.method === 'POST' && url.pathname === '/v2/router/send') {
      await sendPayment(body, res);
      return;
    }
    const answer = (reply: LndRestAnswer) => send(res, reply.status, [reply.body]);
    const node = options.node;
    const noNode = {
      status: 501,
      body: { code: 12, message: 'this stand-in has no node of its own: start it with { node }' },
    };
    if (req.method === 'POST' && url.pathname === '/v1/invoices') {
      answer(node ? addInvoice(node, body) : noNode);
      return;
    }
    const invoice = /^\/v1\/invoice\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && invoice) {
      answer(node ? lookupInvoice(node, invoice[1]!) : noNode);
      return;
    }
    const track = /^\/v2\/router\/track\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && track) {
      const hash = Buffer.from(decodeURIComponent(track[1]!), 'base64url').toString('hex');
      const current = paymentOf(hash);
      send(res, 200, [
        current ? { result: current } : { error: { code: 5, message: "payment isn't initiated" } },
      ]);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/balance/channels') {
      const msat = (options.localBalanceMsat ?? 100_000_000_000n).toString();
      send(res, 200, [{ local_balance: { sat: (BigInt(msat) / 1000n).toString(), msat } }]);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/getinfo') {
      send(res, 200, [
        {
          alias: payer,
          identity_pubkey: options.node?.pubkey ?? '',
          chains: [{ chain: 'bitcoin', network: network.network }],
          version: 'stipend-testkit lnd-rest stand-in',
        },
      ]);
      return;
    }
    send(res, 404, [{ code: 12, message: `${req.method} ${url.pathname} is not served here` }]);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    macaroonHex,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
