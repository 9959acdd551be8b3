/**
 * An LND-REST-protocol stand-in for tests: a tiny HTTP server on 127.0.0.1 that speaks the
 * two REST routes the backend calls (`POST /v2/router/send`, `GET /v2/router/track/{hash}`)
 * with grpc-gateway's newline-delimited JSON, and "pays" through the testkit's simulated
 * Lightning network. It is NOT LND: no channels, no routing — only the wire protocol.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LightningNetwork, LightningPaymentError } from '@stipend/testkit/l402';

export interface LndRestStandIn {
  readonly url: string;
  /** Every request: method, path, body (parsed JSON) and macaroon header. */
  readonly requests: Array<{ method: string; path: string; body: unknown; macaroon?: string }>;
  close(): Promise<void>;
}

const FAILURES: Record<string, string> = {
  fee_limit_exceeded: 'FAILURE_REASON_NO_ROUTE',
  payment_failed: 'FAILURE_REASON_NO_ROUTE',
  unknown_invoice: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS',
};

export async function startLndRestStandIn(
  network: LightningNetwork,
  macaroonHex: string,
): Promise<LndRestStandIn> {
  const requests: LndRestStandIn['requests'] = [];

  const line = (res: ServerResponse, value: unknown) => res.write(`${JSON.stringify(value)}\n`);
  const payment = (hash: string) => {
    const found = network.lookup(hash);
    if (found.status === 'succeeded') {
      return {
        payment_hash: hash,
        status: 'SUCCEEDED',
        payment_preimage: found.preimage,
        fee_msat: found.feeMsat.toString(),
        value_msat: found.amountMsat.toString(),
      };
    }
    if (found.status === 'failed') {
      return { payment_hash: hash, status: 'FAILED', failure_reason: 'FAILURE_REASON_NO_ROUTE' };
    }
    if (found.status === 'in_flight') return { payment_hash: hash, status: 'IN_FLIGHT' };
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? JSON.parse(text) : undefined;
    const url = new URL(req.url ?? '/', 'http://x');
    const macaroon = req.headers['grpc-metadata-macaroon'] as string | undefined;
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      body,
      ...(macaroon ? { macaroon } : {}),
    });
    if (macaroon !== macaroonHex) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 2, message: 'verification failed: signature mismatch' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'POST' && url.pathname === '/v2/router/send') {
      const request = body as {
        payment_request: string;
        fee_limit_msat: string;
        timeout_seconds: number;
      };
      try {
        const paid = await network.pay(request.payment_request, {
          maxFeeMsat: BigInt(request.fee_limit_msat),
          timeoutMs: request.timeout_seconds * 1000,
          payer: 'lnd-rest',
        });
        line(res, { result: payment(paid.paymentHash) });
      } catch (error) {
        if (!(error instanceof LightningPaymentError)) throw error;
        if (error.code === 'timeout' && error.paymentHash) {
          // LND keeps the stream open until the HTLC resolves.
          const hash = error.paymentHash;
          while (network.lookup(hash).status === 'in_flight') {
            await new Promise((resolve) => setTimeout(resolve, 10));
            if (res.destroyed) return;
          }
          line(res, { result: payment(hash) });
        } else if (FAILURES[error.code] && error.paymentHash) {
          line(res, {
            result: {
              payment_hash: error.paymentHash,
              status: 'FAILED',
              failure_reason: FAILURES[error.code],
            },
          });
        } else {
          const message =
            error.code === 'invoice_already_paid'
              ? 'invoice is already paid'
              : error.code === 'payment_in_flight'
                ? 'payment is in transition'
                : error.message;
          line(res, { error: { code: error.code === 'invoice_already_paid' ? 6 : 2, message } });
        }
      }
      res.end();
      return;
    }
    const track = /^\/v2\/router\/track\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && track) {
      const hash = Buffer.from(decodeURIComponent(track[1]!), 'base64url').toString('hex');
      const current = payment(hash);
      if (current) line(res, { result: current });
      else line(res, { error: { code: 5, message: "payment isn't initiated" } });
      res.end();
      return;
    }
    res.end(JSON.stringify({ code: 12, message: 'Not Implemented' }));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
