/**
 * A local MPP `lightning` / `session` seller (draft-lightning-session-00) over the Lightning
 * simulator, with real signed BOLT 11 invoices. It STANDS IN FOR APERTURE (lightninglabs/aperture,
 * which serves MPP `lightning/session` but cannot run here): written from the spec, following
 * aperture where the spec is loose, and saying where:
 *
 * - Spec: every unauthenticated request gets a fresh deposit invoice (deposit = price × 20 by
 *   default); `depositAmount` is stated and equals the invoice; credentials echo a challenge
 *   the server issued (checked exactly, unexpired); open/topUp challenges are single-use; the
 *   open request is served and billed like any use (aperture does not bill it: `billOpen:
 *   false`); a bearer call is billed the echoed challenge's `amount` (aperture does the same);
 *   topUp answers `{"status":"ok"}` (aperture serves the resource instead: `topUpServes: true`);
 *   close pays the refund to the return invoice synchronously and says `refundStatus`; closed
 *   sessions are kept and refused with `session-closed`; idle sessions are closed by the server
 *   (with the refund) after `idleTimeoutSec`; problem types are `…/problems/lightning/<type>`.
 * - SSE (`/stream`): one unit per `data` chunk; when the balance runs out mid-stream it emits
 *   `payment-need-topup`, holds the connection, resumes after a top-up, or emits
 *   `session-timeout` and closes after `holdMs` (aperture emits no SSE events; the spec does).
 *
 * It keeps its own accounting (deposits, spent, refunds per session) so tests compare the
 * client's ledger with the server's books and with the rail (the simulator's invoices).
 * Hostile knobs (`faults`) make it lie in the ways a hostile server could.
 *
 * @module
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeInvoice } from '../lightning/invoice.js';
import type { LightningNetwork, LightningNode } from '../lightning/simulator.js';

/** The server's books for one session (sats). */
export interface LightningSessionBooks {
  readonly id: string;
  depositSats: bigint;
  spentSats: bigint;
  refundedSats: bigint;
  refundStatus?: 'succeeded' | 'failed' | 'skipped';
  status: 'open' | 'closed';
  closedBy?: 'client' | 'server';
  returnInvoice: string;
  uses: number;
  lastActivity: number;
}

/** Ways to make the server lie or misbehave (mutable while it runs). */
export interface LightningSessionFaults {
  /** Deposit invoices are for this many sats while `depositAmount` says the honest figure. */
  depositInvoiceSats?: bigint | undefined;
  /**
   * From now on every deposit invoice (the ones a client tops up with too) is for this many
   * sats, stated honestly (default: the deposit).
   */
  topUpSats?: bigint | undefined;
  /** Receipts claim this many sats spent (a lie; clients must not believe it). */
  receiptSpentClaim?: number | undefined;
  /** Opens the session, then never answers the open request. */
  hangOnOpen?: boolean | undefined;
  /** Closes the session itself (refund paid) when a bearer call would be use number N. */
  closeAtUse?: number | undefined;
  /**
   * SSE: before every chunk, this many `payment-need-topup` events naming the session, sent
   * while its balance is fine (a server asking to be paid more than it billed).
   */
  sseExtraTopUpEvents?: number | undefined;
  /** SSE: the first event of a stream is a `payment-need-topup` whose data line has this many bytes. */
  sseHugeEventBytes?: number | undefined;
  /** SSE: the final `payment-receipt` event claims this many sats spent (a lie). */
  sseReceiptSpentClaim?: number | undefined;
  /**
   * SSE: after this many chunks of a stream, `session-timeout` and the end of the stream
   * (the session stays open at the server, as the spec's timeout leaves it).
   */
  sseTimeoutAtChunk?: number | undefined;
}

/** Options of {@link startLightningSessionServer}. */
export interface LightningSessionServerOptions {
  readonly network: LightningNetwork;
  /** The seller's node (made when absent). */
  readonly node?: LightningNode;
  /** Price per unit, sats. Default 2. */
  readonly priceSats?: bigint;
  /** Deposit, sats. Default price × 20 (the spec's recommendation). */
  readonly depositSats?: bigint;
  readonly realm?: string;
  /** Advertised and enforced idle timeout, seconds. Default 300. */
  readonly idleTimeoutSec?: number;
  /** How long a challenge stays valid, ms. Default 15 minutes (aperture's). */
  readonly challengeTtlMs?: number;
  /** Bill the open request (spec). Default true; aperture: false. */
  readonly billOpen?: boolean;
  /** Serve the resource on topUp (aperture) instead of `{"status":"ok"}` (spec). */
  readonly topUpServes?: boolean;
  /** `/redirect` answers 302 to this URL (before any payment check). */
  readonly redirectTo?: string;
  /** SSE: chunks per stream. Default 10. */
  readonly streamChunks?: number;
  /** SSE: how long a stream waits for a top-up, ms. Default 60 000. */
  readonly holdMs?: number;
  readonly faults?: LightningSessionFaults;
  readonly now?: () => number;
}

/** A running Lightning session seller. */
export interface LightningSessionServer {
  readonly url: string;
  readonly origin: string;
  readonly node: LightningNode;
  readonly faults: LightningSessionFaults;
  /** Books per session id (the deposit invoice's payment hash). */
  readonly sessions: ReadonlyMap<string, LightningSessionBooks>;
  /** Every request's `Authorization` header as received (to check what was sent where). */
  readonly authorizations: readonly string[];
  /** How many deposit and top-up invoices were issued. */
  readonly issued: () => number;
  close(): Promise<void>;
}

interface IssuedChallenge {
  readonly params: Record<string, string>;
  readonly paymentHash: string;
  readonly invoiceSats: bigint;
  readonly priceSats: bigint;
  readonly expiresAt: number;
  consumed: boolean;
}

const PROBLEMS = 'https://paymentauth.org/problems/lightning/';

/**
 * Starts the seller on 127.0.0.1. Routes: any path answers with a session challenge, except
 * `/free` (no payment), `/redirect` (302 to `redirectTo`) and `/stream` (SSE, billed per chunk).
 *
 * @example
 * ```ts
 * import { createLightningNetwork } from '@stipend/testkit/lightning';
 * import { startLightningSessionServer } from '@stipend/testkit/mpp';
 * const network = createLightningNetwork();
 * const server = await startLightningSessionServer({ network, priceSats: 2n });
 * // GET `${server.url}generate` → 402 with a lightning/session challenge
 * await server.close();
 * ```
 */
export async function startLightningSessionServer(
  options: LightningSessionServerOptions,
): Promise<LightningSessionServer> {
  const network = options.network;
  const node = options.node ?? network.createNode({ alias: 'session-seller' });
  const now = options.now ?? Date.now;
  const price = options.priceSats ?? 2n;
  const deposit = options.depositSats ?? price * 20n;
  const realm = options.realm ?? 'sessions.testkit.stipend.local';
  const idleSec = options.idleTimeoutSec ?? 300;
  const ttl = options.challengeTtlMs ?? 15 * 60_000;
  const billOpen = options.billOpen ?? true;
  const faults: LightningSessionFaults = options.faults ?? {};
  const secret = randomBytes(32);
  const challenges = new Map<string, IssuedChallenge>();
  const sessions = new Map<string, LightningSessionBooks>();
  const authorizations: string[] = [];
  const waiters = new Set<() => void>();
  let issuedCount = 0;

  function challenge(topUp: boolean): { header: string; issued: IssuedChallenge } {
    void topUp;
    const statedSats = faults.topUpSats ?? deposit;
    const invoiceSats = faults.depositInvoiceSats ?? statedSats;
    const invoice = node.createInvoice({
      amountMsat: invoiceSats * 1000n,
      description: 'stipend testkit session deposit',
      expirySeconds: 3600,
    });
    issuedCount++;
    const request = {
      amount: price.toString(),
      currency: 'sat',
      depositInvoice: invoice.bolt11,
      paymentHash: invoice.paymentHash,
      depositAmount: statedSats.toString(),
      idleTimeout: String(idleSec),
      unitType: 'request',
    };
    const requestText = Buffer.from(JSON.stringify(request)).toString('base64url');
    const expires = new Date(now() + ttl).toISOString();
    const body = `${realm}|lightning|session|${requestText}|${expires}`;
    const id = createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22);
    const params = {
      id,
      realm,
      method: 'lightning',
      intent: 'session',
      request: requestText,
      expires,
    };
    const issued: IssuedChallenge = {
      params,
      paymentHash: invoice.paymentHash,
      invoiceSats,
      priceSats: price,
      expiresAt: now() + ttl,
      consumed: false,
    };
    challenges.set(id, issued);
    const header = `Payment ${Object.entries(params)
      .map(([name, value]) => `${name}="${value}"`)
      .join(', ')}`;
    return { header, issued };
  }

  function paymentRequired(problem?: string, detail?: string, topUp = false): Response {
    const { header } = challenge(topUp || problem === 'insufficient-balance');
    const headers = new Headers({ 'www-authenticate': header, 'cache-control': 'no-store' });
    if (!problem) return new Response(null, { status: 402, headers });
    headers.set('content-type', 'application/problem+json');
    return new Response(
      JSON.stringify({ type: `${PROBLEMS}${problem}`, title: problem, status: 402, detail }),
      { status: 402, headers },
    );
  }

  function receipt(session: LightningSessionBooks, extra: Record<string, unknown> = {}): string {
    const body = {
      method: 'lightning',
      reference: session.id,
      status: 'success',
      timestamp: new Date(now()).toISOString(),
      ...(faults.receiptSpentClaim !== undefined ? { spent: faults.receiptSpentClaim } : {}),
      ...extra,
    };
    return Buffer.from(JSON.stringify(body)).toString('base64url');
  }

  function served(session: LightningSessionBooks, path: string): Response {
    return new Response(JSON.stringify({ ok: true, path, use: session.uses }), {
      status: 200,
      headers: { 'content-type': 'application/json', 'payment-receipt': receipt(session) },
    });
  }

  function sha256Hex(hex: string): string | undefined {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
    return createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');
  }

  /** Closes a session: marked closed first, then one refund attempt to the return invoice. */
  async function closeBooks(session: LightningSessionBooks, by: 'client' | 'server') {
    session.status = 'closed';
    session.closedBy = by;
    const refund = session.depositSats - session.spentSats;
    if (refund <= 0n) {
      session.refundStatus = 'skipped';
      return;
    }
    try {
      await network.pay(session.returnInvoice, {
        maxFeeMsat: 100_000n,
        amountMsat: refund * 1000n,
        payer: node.alias,
      });
      session.refundedSats = refund;
      session.refundStatus = 'succeeded';
    } catch {
      session.refundStatus = 'failed';
    }
  }

  /** Debits one unit; false when the balance is short. */
  function debit(session: LightningSessionBooks, sats: bigint): boolean {
    if (session.depositSats - session.spentSats < sats) return false;
    session.spentSats += sats;
    session.uses++;
    session.lastActivity = now();
    return true;
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const auth = request.headers.get('authorization') ?? '';
    authorizations.push(auth);
    if (url.pathname === '/free') return new Response('free');
    if (url.pathname === '/redirect' && options.redirectTo) {
      return new Response(null, { status: 302, headers: { location: options.redirectTo } });
    }
    if (!auth.startsWith('Payment ')) return paymentRequired();
    let credential: {
      challenge?: Record<string, string>;
      payload?: Record<string, string>;
    };
    try {
      credential = JSON.parse(Buffer.from(auth.slice(8).trim(), 'base64url').toString('utf8'));
    } catch {
      return paymentRequired('malformed-credential', 'the credential is not base64url JSON');
    }
    const echoed = credential.challenge ?? {};
    const payload = credential.payload ?? {};
    const issued = challenges.get(echoed.id ?? '');
    if (!issued) return paymentRequired('unknown-challenge', 'no such challenge');
    for (const [name, value] of Object.entries(issued.params)) {
      if (echoed[name] !== value) return paymentRequired('unknown-challenge', `${name} differs`);
    }
    if (issued.expiresAt <= now()) return paymentRequired('challenge-expired', 'challenge expired');
    const action = payload.action;
    if (action === 'open') {
      if (issued.consumed) return paymentRequired('unknown-challenge', 'challenge already used');
      if (sha256Hex(payload.preimage ?? '') !== issued.paymentHash) {
        return paymentRequired('invalid-preimage', 'preimage does not match');
      }
      let returned: ReturnType<typeof decodeInvoice>;
      try {
        returned = decodeInvoice(payload.returnInvoice ?? '');
      } catch {
        return paymentRequired('invalid-return-invoice', 'not BOLT11');
      }
      if (returned.amountMsat !== null && returned.amountMsat !== 0n) {
        return paymentRequired('invalid-return-invoice', 'the return invoice has an amount');
      }
      issued.consumed = true;
      // The invoice's own amount is the deposit (never the stated depositAmount).
      const session: LightningSessionBooks = {
        id: issued.paymentHash,
        depositSats: issued.invoiceSats,
        spentSats: 0n,
        refundedSats: 0n,
        status: 'open',
        returnInvoice: payload.returnInvoice!,
        uses: 0,
        lastActivity: now(),
      };
      sessions.set(session.id, session);
      if (faults.hangOnOpen) return new Promise<Response>(() => {});
      if (url.pathname === '/stream') return stream(session, url, billOpen);
      if (billOpen) debit(session, issued.priceSats);
      return served(session, url.pathname);
    }
    const session = sessions.get(payload.sessionId ?? '');
    if (!session) return paymentRequired('session-not-found', 'no such session');
    if (session.status === 'closed') return paymentRequired('session-closed', 'session closed');
    if (action === 'topUp') {
      if (issued.consumed) return paymentRequired('unknown-challenge', 'challenge already used');
      if (sha256Hex(payload.topUpPreimage ?? '') !== issued.paymentHash) {
        return paymentRequired('invalid-preimage', 'top-up preimage does not match');
      }
      issued.consumed = true;
      session.depositSats += issued.invoiceSats;
      session.lastActivity = now();
      for (const wake of waiters) wake();
      if (options.topUpServes && debit(session, issued.priceSats))
        return served(session, url.pathname);
      return new Response(JSON.stringify({ status: 'ok' }), {
        headers: { 'content-type': 'application/json', 'payment-receipt': receipt(session) },
      });
    }
    if (sha256Hex(payload.preimage ?? '') !== session.id) {
      return paymentRequired('invalid-preimage', 'preimage does not match the session');
    }
    if (action === 'close') {
      await closeBooks(session, 'client');
      const refundSats = Number(session.refundedSats || session.depositSats - session.spentSats);
      return new Response(
        JSON.stringify({ status: 'closed', refundSats, refundStatus: session.refundStatus }),
        {
          headers: {
            'content-type': 'application/json',
            'payment-receipt': receipt(session, { refundSats, refundStatus: session.refundStatus }),
          },
        },
      );
    }
    if (action !== 'bearer') return paymentRequired('malformed-credential', 'unknown action');
    if (faults.closeAtUse !== undefined && session.uses + 1 >= faults.closeAtUse) {
      await closeBooks(session, 'server');
      return paymentRequired('session-closed', 'the server closed the session');
    }
    if (url.pathname === '/stream') return stream(session, url, false);
    if (!debit(session, issued.priceSats)) {
      return paymentRequired('insufficient-balance', 'top up the session');
    }
    return served(session, url.pathname);
  }

  /** An SSE stream billed per chunk; pauses for a top-up when the balance runs out. */
  function stream(session: LightningSessionBooks, url: URL, _billFirst: boolean): Response {
    const chunks = Number(url.searchParams.get('chunks') ?? options.streamChunks ?? 10);
    const holdMs = options.holdMs ?? 60_000;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (text: string) => controller.enqueue(encoder.encode(text));
        const ask = () =>
          JSON.stringify({
            sessionId: session.id,
            balanceSpent: Number(session.spentSats),
            balanceRequired: Number(price),
          });
        let delivered = 0;
        let spentHere = 0n;
        if (faults.sseHugeEventBytes !== undefined) {
          const pad = 'x'.repeat(Math.max(0, faults.sseHugeEventBytes - 100));
          send(`event: payment-need-topup\ndata: {"sessionId":"${session.id}","pad":"${pad}"}\n\n`);
        }
        while (delivered < chunks) {
          if (faults.sseTimeoutAtChunk !== undefined && delivered >= faults.sseTimeoutAtChunk) {
            send(`event: session-timeout\ndata: ${ask()}\n\n`);
            controller.close();
            return;
          }
          for (let i = 0; i < (faults.sseExtraTopUpEvents ?? 0); i++) {
            send(`event: payment-need-topup\ndata: ${ask()}\n\n`);
          }
          if (!debit(session, price)) {
            const event = {
              sessionId: session.id,
              balanceSpent: Number(session.spentSats),
              balanceRequired: Number(price),
            };
            send(`event: payment-need-topup\ndata: ${JSON.stringify(event)}\n\n`);
            const topped = await new Promise<boolean>((resolve) => {
              const wake = () => {
                if (session.depositSats - session.spentSats >= price) finish(true);
              };
              const timer = setTimeout(() => finish(false), holdMs);
              function finish(value: boolean) {
                clearTimeout(timer);
                waiters.delete(wake);
                resolve(value);
              }
              waiters.add(wake);
            });
            if (!topped) {
              send(`event: session-timeout\ndata: ${JSON.stringify(event)}\n\n`);
              controller.close();
              return;
            }
            continue;
          }
          delivered++;
          spentHere += price;
          send(`data: ${JSON.stringify({ chunk: delivered })}\n\n`);
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        const done = {
          method: 'lightning',
          reference: session.id,
          status: 'success',
          timestamp: new Date(now()).toISOString(),
          spent: faults.sseReceiptSpentClaim ?? Number(spentHere),
          units: delivered,
        };
        send(`event: payment-receipt\ndata: ${JSON.stringify(done)}\n\n`);
        send('data: [DONE]\n\n');
        controller.close();
      },
    });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        'payment-receipt': receipt(session),
      },
    });
  }

  // The server's idle close (the spec: SHOULD, with the refund).
  const sweep = setInterval(() => {
    for (const session of sessions.values()) {
      if (session.status === 'open' && now() - session.lastActivity > idleSec * 1000) {
        void closeBooks(session, 'server');
      }
    }
  }, 1000);
  sweep.unref();

  const server = createServer((req, res) => {
    void serveNode(handle, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    node,
    faults,
    sessions,
    authorizations,
    issued: () => issuedCount,
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(sweep);
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Serves a fetch-style handler on Node's http server, streaming the response body. */
async function serveNode(
  handler: (request: Request) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const body = Buffer.concat(chunks);
    const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body.length > 0 ? { body } : {}),
    });
    const response = await handler(request);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name] = value;
    });
    res.writeHead(response.status, out);
    if (!response.body) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    res.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  } catch (error) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(error));
  }
}
