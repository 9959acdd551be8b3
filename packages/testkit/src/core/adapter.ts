import {
  ChallengeParseError,
  freezeOffer,
  type HeldCredential,
  type PaidOutcome,
  type PaymentOffer,
  type Proof,
  type ProtocolAdapter,
  type RetryRequest,
  type Unit,
} from '@stipend/client';
import {
  CHALLENGE_HEADER,
  ERROR_HEADER,
  PROOF_HEADER,
  PROTOCOL,
  RECEIPT_HEADER,
  SCHEME,
  type WireOffer,
} from './wire.js';

/**
 * The client-side adapter of the `stipend-test` dialect, used to test the core without a
 * real rail. It validates strictly, like the real adapters must.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { testAdapter, testWallet, createTestRail } from '@stipend/testkit/core';
 *
 * const rail = createTestRail();
 * const payingFetch = createPayingFetch({ adapters: [testAdapter()], wallets: [testWallet({ rail })] });
 * ```
 */
export function testAdapter(options: TestAdapterOptions = {}): ProtocolAdapter {
  /** Held credentials per origin (reusable mode). */
  const credentials = new Map<string, HeldCredential>();
  /** Remembered offers per `METHOD origin/path` (pre-authorization). */
  const remembered = new Map<string, readonly PaymentOffer[]>();
  const routeKey = (request: RetryRequest) =>
    `${request.method} ${request.url.origin}${request.url.pathname}`;
  return {
    protocol: PROTOCOL,
    detect: (input) => input.status === 402 && input.headers.has(CHALLENGE_HEADER),
    parse(input) {
      const header = input.headers.get(CHALLENGE_HEADER)!;
      let wire: unknown;
      try {
        wire = JSON.parse(header);
      } catch (cause) {
        throw new ChallengeParseError({
          protocol: PROTOCOL,
          message: 'The test challenge is not JSON.',
          cause,
        });
      }
      if (!Array.isArray(wire) || wire.length === 0 || wire.length > 16) {
        throw new ChallengeParseError({
          protocol: PROTOCOL,
          message: 'The test challenge must list 1 to 16 offers.',
        });
      }
      const offers = wire.map((entry) => toOffer(entry, input.url, options.reusable ?? false));
      if (options.preauthorize) {
        remembered.set(`${input.method} ${input.url.origin}${input.url.pathname}`, offers);
      }
      return offers;
    },
    proofHeaders(offer, proof) {
      return { [PROOF_HEADER]: `${offer.id} ${String(proof.secret)}` };
    },
    ...(options.reusable
      ? {
          heldCredential: (request: RetryRequest) => credentials.get(request.url.origin),
          dropCredential: (credential: HeldCredential) => {
            if (credentials.get(credential.key) === credential) credentials.delete(credential.key);
          },
          remember: (offer: PaymentOffer, proof: Proof) => {
            credentials.set(offer.origin, {
              key: offer.origin,
              headers: { [PROOF_HEADER]: `${offer.id} ${String(proof.secret)}` },
              reference: proof.reference,
            });
          },
          reuseKey: (offer: PaymentOffer) => offer.origin,
        }
      : {}),
    ...(options.preauthorize
      ? { preauthorize: (request: RetryRequest) => remembered.get(routeKey(request)) }
      : {}),
    ...(options.advertise
      ? {
          acceptHeaders: (rails: readonly string[]) => {
            const ours = rails.filter((rail) => rail.startsWith(`${PROTOCOL}:`));
            return ours.length > 0 ? { 'stipend-test-accept': ours.join(', ') } : undefined;
          },
        }
      : {}),
    settle(_offer, _proof, response): PaidOutcome {
      const redirected = response.status >= 300 && response.status < 400;
      if (response.ok || (redirected && response.headers.has(RECEIPT_HEADER))) {
        const reference = response.headers.get(RECEIPT_HEADER) ?? undefined;
        return {
          kind: 'accepted',
          receipt: { protocol: PROTOCOL, raw: { reference }, ...(reference ? { reference } : {}) },
        };
      }
      const error = response.headers.get(ERROR_HEADER);
      if (response.status === 402 && error) {
        // The server refused the proof before redeeming it: nothing moved.
        return {
          kind: 'rejected',
          reason: 'verification_failed',
          moneyMoved: 'no',
          message: error,
        };
      }
      return {
        kind: 'rejected',
        reason: 'unknown',
        moneyMoved: 'unknown',
        message: `the server answered ${response.status}`,
      };
    },
  };
}

/** Options of {@link testAdapter}. */
export interface TestAdapterOptions {
  /** Offers are reusable credentials (like L402 tokens): kept and attached to later calls. */
  readonly reusable?: boolean;
  /** Remember each route's offers for pre-authorization (like x402). */
  readonly preauthorize?: boolean;
  /** Advertise the payable rails in a `stipend-test-accept` request header (like MPP's Accept-Payment). */
  readonly advertise?: boolean;
}

function toOffer(entry: unknown, url: URL, reusable: boolean): PaymentOffer {
  const wire = entry as Partial<WireOffer>;
  const fail = (what: string): never => {
    throw new ChallengeParseError({ protocol: PROTOCOL, message: `Invalid test offer: ${what}.` });
  };
  if (typeof wire !== 'object' || wire === null) fail('not an object');
  if (typeof wire.id !== 'string' || wire.id.length === 0) fail('id');
  if (typeof wire.amount !== 'string' || !/^\d{1,40}$/.test(wire.amount)) fail('amount');
  if (typeof wire.payee !== 'string' || wire.payee.length === 0) fail('payee');
  if (typeof wire.unit !== 'object' || wire.unit === null) fail('unit');
  if (
    wire.maxFee !== undefined &&
    (typeof wire.maxFee !== 'string' || !/^\d{1,40}$/.test(wire.maxFee))
  )
    fail('maxFee');
  const unit = wire.unit as Unit;
  const offer: PaymentOffer = {
    id: wire.id!,
    protocol: PROTOCOL,
    scheme: SCHEME,
    amount: { value: BigInt(wire.amount!), unit },
    ...(wire.maxFee ? { maxFee: { value: BigInt(wire.maxFee), unit } } : {}),
    payee: wire.payee!,
    ...(unit.kind === 'token' ? { network: unit.network, asset: unit.asset } : {}),
    origin: url.origin,
    resource: url.href,
    ...(typeof wire.expiresAt === 'number' ? { expiresAt: wire.expiresAt } : {}),
    reusable,
    raw: structuredClone(entry),
  };
  return freezeOffer(offer);
}
