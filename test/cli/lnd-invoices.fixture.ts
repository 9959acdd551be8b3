/**
 * The agent's LND over REST for the session suite: the testkit's LND REST stand-in for
 * payments, fronted by the two invoice routes a Lightning session needs and the stand-in does
 * not serve yet (AddInvoice `POST /v1/invoices` for the return invoice, LookupInvoice
 * `GET /v1/invoice/{hash}` for the refund), answered from the agent's own simulator node.
 * Every other request is passed through to the stand-in unchanged.
 * TODO(lead): once `startLndRestStandIn` serves these two routes, use it directly.
 */
import { createServer, type Server } from 'node:http';
import {
  type LightningNetwork,
  type LightningNode,
  startLndRestStandIn,
} from '@stipend/testkit/lightning';

/** A running LND REST front for `node`. */
export interface AgentLnd {
  readonly url: string;
  readonly macaroonHex: string;
  close(): Promise<void>;
}

/** Starts the stand-in for `node` and the front with the invoice routes on 127.0.0.1. */
export async function startAgentLnd(
  network: LightningNetwork,
  node: LightningNode,
): Promise<AgentLnd> {
  const standIn = await startLndRestStandIn(network, { node });
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://front');
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (String(req.headers['grpc-metadata-macaroon'] ?? '') !== standIn.macaroonHex) {
      return json(401, { code: 2, message: 'verification failed: signature mismatch' });
    }
    if (req.method === 'POST' && url.pathname === '/v1/invoices') {
      const asked = JSON.parse(body.toString('utf8')) as {
        value_msat?: string;
        memo?: string;
        expiry?: string;
      };
      const amount = BigInt(asked.value_msat ?? '0');
      const issued = node.createInvoice({
        ...(amount > 0n ? { amountMsat: amount } : {}),
        ...(asked.memo ? { description: asked.memo } : {}),
        expirySeconds: Number(asked.expiry ?? 3600),
      });
      return json(200, {
        payment_request: issued.bolt11,
        r_hash: Buffer.from(issued.paymentHash, 'hex').toString('base64'),
      });
    }
    const lookup = /^\/v1\/invoice\/([0-9a-f]{64})$/.exec(url.pathname);
    if (req.method === 'GET' && lookup) {
      const found = node.lookupInvoice(lookup[1]!);
      if (!found) return json(404, { code: 5, message: 'unable to locate invoice' });
      return json(200, {
        state: found.state === 'settled' ? 'SETTLED' : found.expired ? 'CANCELED' : 'OPEN',
        amt_paid_msat: String(found.amountPaidMsat ?? 0n),
        creation_date: String(found.invoice.timestamp),
        expiry: String(found.invoice.expirySeconds),
      });
    }
    const upstream = await fetch(`${standIn.url}${url.pathname}${url.search}`, {
      method: req.method ?? 'GET',
      headers: {
        'grpc-metadata-macaroon': standIn.macaroonHex,
        'content-type': 'application/json',
      },
      ...(body.length > 0 ? { body } : {}),
    });
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    macaroonHex: standIn.macaroonHex,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await standIn.close();
    },
  };
}
