/**
 * Fault injection for the reliability matrix: a wallet wrapper that times out (then succeeds
 * or fails late), and an HTTP proxy in front of a real server that loses, rewrites or replays
 * responses. Payments are always counted at the rail by the caller, never at the client.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  isStipendError,
  type PayingFetch,
  type PaymentFailedError,
  type Proof,
  type SpendStatus,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { expect } from 'vitest';

/** A fault the wrapped wallet injects into its next payment. */
export type WalletFault =
  /** Pays (or signs) with the real wallet, then answers `delayMs` later: past the core's timeout. */
  | { readonly kind: 'late-success'; readonly delayMs: number }
  /** Waits `delayMs`, then fails without paying: past the core's timeout. */
  | { readonly kind: 'late-failure'; readonly delayMs: number }
  /** Pays (or signs) with the real wallet, then reports a timeout with the payment's reference. */
  | { readonly kind: 'unknown-with-reference' };

/** A wallet with a queue of faults and a log of what the real wallet did. */
export interface FaultyWallet extends Wallet {
  inject(fault: WalletFault): void;
  /** Proofs the real wallet produced (including ones the core never saw). */
  readonly produced: Proof[];
  /** Late answers that arrived after the core had given up (settled promises). */
  readonly late: Promise<unknown>[];
}

/**
 * Wraps a real wallet with fault injection.
 *
 * @example
 * ```ts
 * import { faultyWallet } from './faults.test-helpers.js';
 * const wallet = faultyWallet(evmWallet({ account }));
 * wallet.inject({ kind: 'late-success', delayMs: 300 });
 * ```
 */
export function faultyWallet(inner: Wallet): FaultyWallet {
  const faults: WalletFault[] = [];
  const produced: Proof[] = [];
  const late: Promise<unknown>[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    id: inner.id,
    rails: inner.rails,
    canPay: (offer) => inner.canPay(offer),
    ...(inner.lookup ? { lookup: (reference, offer) => inner.lookup!(reference, offer) } : {}),
    ...(inner.void ? { void: (reference, offer) => inner.void!(reference, offer) } : {}),
    ...(inner.recover ? { recover: (reference, offer) => inner.recover!(reference, offer) } : {}),
    ...(inner.referenceFor
      ? { referenceFor: (offer, context) => inner.referenceFor!(offer, context) }
      : {}),
    ...(inner.payeeOf ? { payeeOf: (offer) => inner.payeeOf!(offer) } : {}),
    inject: (fault) => {
      faults.push(fault);
    },
    produced,
    late,
    async pay(offer, context) {
      const fault = faults.shift();
      if (fault?.kind === 'late-failure') {
        const failing = sleep(fault.delayMs).then(() => {
          throw new WalletError({ walletId: inner.id, message: 'failed late', paid: false });
        });
        late.push(failing.catch(() => undefined));
        return failing;
      }
      const proof = await inner.pay(offer, context);
      produced.push(proof);
      if (fault?.kind === 'late-success') {
        const answer = sleep(fault.delayMs).then(() => proof);
        late.push(answer);
        return answer;
      }
      if (fault?.kind === 'unknown-with-reference') {
        throw new WalletError({
          walletId: inner.id,
          message: 'timed out after sending',
          paid: 'unknown',
          reference: proof.reference,
        });
      }
      return proof;
    },
  };
}

/** What the proxy does with one request. */
export type ProxyAction =
  /** Forward and return the answer unchanged. */
  | 'forward'
  /** Forward, wait for the whole answer (the server settled), then cut the connection. */
  | 'lose-response'
  /** Forward, then answer 500 instead; `keepHeaders` keeps the server's headers (receipts). */
  | { readonly status500: { readonly keepHeaders: boolean } }
  /** Do not forward: answer with the last 402 this proxy passed on. */
  | 'replay-402'
  /** Forward, then rewrite a 402's headers. */
  | { readonly rewrite402: (headers: Record<string, string | string[]>) => void };

/** A proxy in front of one upstream origin. */
export interface FaultProxy {
  readonly origin: string;
  /** Decides per request (method, path, headers); default `forward`. */
  plan: (request: IncomingMessage) => ProxyAction;
  /** Requests that reached the upstream, in order. */
  readonly forwarded: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 (free port) in front of `upstream`. The `Host` header is passed
 * on unchanged, so the upstream builds its URLs (and binds its challenges) to the proxy's
 * origin, like a CDN or load balancer would.
 *
 * @example
 * ```ts
 * import { startFaultProxy } from './faults.test-helpers.js';
 * const proxy = await startFaultProxy(server.url);
 * proxy.plan = (req) => (req.headers['payment-signature'] ? 'lose-response' : 'forward');
 * ```
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let last402: { status: number; headers: string[]; body: Buffer } | undefined;
  const forwarded: FaultProxy['forwarded'] = [];
  const proxy: FaultProxy = {
    origin: '',
    plan: () => 'forward',
    forwarded,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const action = proxy.plan(req);
    if (action === 'replay-402') {
      if (!last402) throw new Error('no 402 to replay yet');
      res.writeHead(last402.status, last402.headers);
      res.end(last402.body);
      return;
    }
    forwarded.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
    const answer = await new Promise<{ status: number; raw: string[]; body: Buffer }>(
      (resolve, reject) => {
        const out = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (upstreamRes) => {
            const parts: Buffer[] = [];
            upstreamRes.on('data', (c: Buffer) => parts.push(c));
            upstreamRes.on('end', () =>
              resolve({
                status: upstreamRes.statusCode ?? 502,
                raw: upstreamRes.rawHeaders,
                body: Buffer.concat(parts),
              }),
            );
            upstreamRes.on('error', reject);
          },
        );
        out.on('error', reject);
        out.end(body);
      },
    );
    const headers = answer.raw.filter((_, i) => {
      const name = answer.raw[i - (i % 2)]!.toLowerCase();
      return name !== 'transfer-encoding' && name !== 'connection' && name !== 'content-length';
    });
    if (answer.status === 402) last402 = { status: 402, headers, body: answer.body };
    if (action === 'lose-response') {
      res.socket?.destroy();
      return;
    }
    if (typeof action === 'object' && 'status500' in action) {
      res.writeHead(500, action.status500.keepHeaders ? headers : ['content-type', 'text/plain']);
      res.end('upstream failed after the payment');
      return;
    }
    if (typeof action === 'object' && 'rewrite402' in action && answer.status === 402) {
      const map: Record<string, string | string[]> = {};
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!.toLowerCase();
        const value = headers[i + 1]!;
        const prior = map[name];
        map[name] = prior === undefined ? value : [...[prior].flat(), value];
      }
      action.rewrite402(map);
      res.writeHead(402, map);
      res.end(answer.body);
      return;
    }
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { origin: string }).origin =
    `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** The statuses of the ledger's records, oldest first. */
export async function ledgerStatuses(payingFetch: PayingFetch): Promise<SpendStatus[]> {
  return (await payingFetch.ledger.list()).map((record) => record.status);
}

/** Runs a call that must fail with a StipendError; returns its code. */
export async function failureCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    expect(isStipendError(error), String(error)).toBe(true);
    return (error as { code: string }).code;
  }
  throw new Error('expected the call to fail with a StipendError');
}

/** Runs a call that must fail with a StipendError; returns the error (as a payment failure). */
export async function failure(call: Promise<unknown>): Promise<PaymentFailedError> {
  try {
    await call;
  } catch (error) {
    expect(isStipendError(error), String(error)).toBe(true);
    return error as PaymentFailedError;
  }
  throw new Error('expected the call to fail with a StipendError');
}

/** Held (unknown-outcome) USD micro-units in the global lifetime budget. */
export async function heldMicros(payingFetch: PayingFetch, now = Date.now()): Promise<bigint> {
  const use = await payingFetch.budget.usage({ scope: 'global', window: { kind: 'total' } }, now);
  return use.heldUsdMicros;
}

/** Committed USD micro-units in the global lifetime budget. */
export async function committedMicros(payingFetch: PayingFetch, now = Date.now()): Promise<bigint> {
  const use = await payingFetch.budget.usage({ scope: 'global', window: { kind: 'total' } }, now);
  return use.committedUsdMicros;
}

/** A policy with a lifetime global budget (so the sums above see every payment). */
export function policyWith(maxPerRequest: string, total: string) {
  return {
    global: {
      maxPerRequest: { usd: maxPerRequest },
      limits: [{ usd: total, window: { total: true as const } }],
    },
  };
}
