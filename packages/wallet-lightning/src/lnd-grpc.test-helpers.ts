/**
 * An LND-protocol stand-in for tests — NOT LND. A gRPC server (TLS, on 127.0.0.1) built from
 * the `.proto` files shipped inside the `lightning` package, implementing only the two RPCs
 * the backend calls: `routerrpc.Router/SendPaymentV2` and `routerrpc.Router/TrackPaymentV2`.
 * It checks the `macaroon` metadata, streams `lnrpc.Payment` messages shaped like LND's, and
 * "pays" through the testkit's simulated Lightning network (no channels, no routing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type LightningNetwork, LightningPaymentError } from '@stipend/testkit/l402';

/** The little of `@grpc/grpc-js` used here (typed locally: it is `lightning`'s dependency). */
interface Call {
  readonly request: Record<string, unknown>;
  readonly metadata: { get(key: string): Array<string | Uint8Array> };
  readonly cancelled: boolean;
  write(message: unknown): void;
  end(): void;
  emit(event: 'error', error: { code: number; details: string }): void;
}
interface GrpcServer {
  addService(service: unknown, handlers: Record<string, (call: Call) => void>): void;
  bindAsync(
    address: string,
    credentials: unknown,
    done: (e: Error | null, port: number) => void,
  ): void;
  tryShutdown(done: () => void): void;
  forceShutdown(): void;
}
interface Grpc {
  Server: new () => GrpcServer;
  ServerCredentials: {
    createSsl(
      root: null,
      pairs: { private_key: Buffer; cert_chain: Buffer }[],
      check: boolean,
    ): unknown;
  };
  status: { UNKNOWN: number; NOT_FOUND: number; ALREADY_EXISTS: number };
  loadPackageDefinition(definition: unknown): unknown;
}
interface ProtoLoader {
  loadSync(path: string, options: Record<string, unknown>): unknown;
}

// The gRPC libraries `lightning` itself uses (they are its dependencies, not ours).
const fromLightning = createRequire(createRequire(import.meta.url).resolve('lightning'));
const grpc = fromLightning('@grpc/grpc-js') as Grpc;
const protoLoader = fromLightning('@grpc/proto-loader') as ProtoLoader;
const PROTOS = join(dirname(fromLightning.resolve('lightning')), 'grpc', 'protos');

export interface LndGrpcStandIn {
  /** `localhost:<port>` (the server listens on 127.0.0.1 only) */
  readonly socket: string;
  /** The server's self-signed TLS certificate, PEM, base64 (LND's `tls.cert` form). */
  readonly cert: string;
  /** Every call: the RPC and its request, as received. */
  readonly calls: Array<{ rpc: string; request: Record<string, unknown>; macaroon?: string }>;
  close(): Promise<void>;
}

/** A self-signed ECDSA P-256 certificate for localhost/127.0.0.1 (LND's cert type). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'lnd-standin-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FAILURE: Record<string, string> = {
  fee_limit_exceeded: 'FAILURE_REASON_NO_ROUTE',
  payment_failed: 'FAILURE_REASON_NO_ROUTE',
  unknown_invoice: 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS',
};

export async function startLndGrpcStandIn(
  network: LightningNetwork,
  macaroonHex: string,
  payee: string,
): Promise<LndGrpcStandIn> {
  const calls: LndGrpcStandIn['calls'] = [];
  const definition = protoLoader.loadSync(join(PROTOS, 'router.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [PROTOS],
  });
  const loaded = grpc.loadPackageDefinition(definition) as {
    routerrpc: { Router: { service: unknown } };
  };

  /** An `lnrpc.Payment` as LND streams it. */
  function paymentMessage(hash: string): Record<string, unknown> | undefined {
    const found = network.lookup(hash);
    if (found.status === 'unknown') return undefined;
    const nowNs = `${BigInt(Date.now()) * 1_000_000n}`;
    const amount = found.status === 'succeeded' ? found.amountMsat : 0n;
    const fee = found.status === 'succeeded' ? found.feeMsat : 0n;
    const htlcStatus =
      found.status === 'succeeded'
        ? 'SUCCEEDED'
        : found.status === 'failed'
          ? 'FAILED'
          : 'IN_FLIGHT';
    const route = {
      total_time_lock: 144,
      total_fees_msat: fee.toString(),
      total_amt_msat: (amount + fee).toString(),
      hops: [
        {
          chan_id: '1',
          expiry: 144,
          amt_to_forward_msat: amount.toString() || '1',
          fee_msat: '0',
          pub_key: payee,
          tlv_payload: true,
        },
      ],
    };
    return {
      payment_hash: hash,
      value_sat: (amount / 1000n).toString(),
      value_msat: amount.toString(),
      payment_preimage: found.status === 'succeeded' ? found.preimage : '',
      status:
        found.status === 'succeeded'
          ? 'SUCCEEDED'
          : found.status === 'failed'
            ? 'FAILED'
            : 'IN_FLIGHT',
      fee_sat: (fee / 1000n).toString(),
      fee_msat: fee.toString(),
      creation_time_ns: nowNs,
      payment_index: '1',
      failure_reason: found.status === 'failed' ? 'FAILURE_REASON_NO_ROUTE' : 'FAILURE_REASON_NONE',
      htlcs: [
        {
          attempt_id: '1',
          status: htlcStatus,
          route,
          attempt_time_ns: nowNs,
          resolve_time_ns: nowNs,
        },
      ],
    };
  }

  function authorized(call: Call, rpc: string) {
    const macaroon = call.metadata.get('macaroon')[0]?.toString();
    calls.push({ rpc, request: call.request, ...(macaroon ? { macaroon } : {}) });
    if (macaroon === macaroonHex) return true;
    call.emit('error', {
      code: grpc.status.UNKNOWN,
      details: 'verification failed: signature mismatch',
    });
    return false;
  }

  const server = new grpc.Server();
  server.addService(loaded.routerrpc.Router.service, {
    async SendPaymentV2(call: Call) {
      if (!authorized(call, 'SendPaymentV2')) return;
      const request = call.request as {
        payment_request: string;
        fee_limit_msat: string;
        fee_limit_sat: string;
        timeout_seconds: number;
      };
      const maxFeeMsat =
        request.fee_limit_msat !== '0'
          ? BigInt(request.fee_limit_msat)
          : BigInt(request.fee_limit_sat) * 1000n;
      let hash: string;
      try {
        hash = (
          await network.pay(request.payment_request, {
            maxFeeMsat,
            timeoutMs: request.timeout_seconds * 1000,
            payer: 'lnd-grpc',
          })
        ).paymentHash;
      } catch (error) {
        if (!(error instanceof LightningPaymentError)) throw error;
        if (error.code === 'invoice_already_paid' || error.code === 'payment_in_flight') {
          call.emit('error', {
            code: grpc.status.ALREADY_EXISTS,
            details:
              error.code === 'invoice_already_paid'
                ? 'invoice is already paid'
                : 'payment is in transition',
          });
          return;
        }
        if (!error.paymentHash || (error.code !== 'timeout' && !FAILURE[error.code])) {
          call.emit('error', { code: grpc.status.UNKNOWN, details: error.message });
          return;
        }
        hash = error.paymentHash;
        // Like LND: the stream stays open until the HTLC resolves.
        while (network.lookup(hash).status === 'in_flight' && !call.cancelled) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      const message = paymentMessage(hash);
      if (message) call.write(message);
      call.end();
    },
    TrackPaymentV2(call: Call) {
      if (!authorized(call, 'TrackPaymentV2')) return;
      const hash = Buffer.from(call.request.payment_hash as Uint8Array).toString('hex');
      const message = paymentMessage(hash);
      if (!message) {
        call.emit('error', { code: grpc.status.NOT_FOUND, details: "payment isn't initiated" });
        return;
      }
      call.write(message);
      call.end();
    },
  });
  const { key, cert } = selfSignedCertificate();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    socket: `localhost:${port}`,
    cert: cert.toString('base64'),
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500).unref();
      }),
  };
}
