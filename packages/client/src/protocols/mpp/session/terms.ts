/**
 * Reading MPP `lightning` `session` challenges (draft-lightning-session-00) into session
 * offers. The common challenge checks (id, realm, method, intent, `request` encoding, `expires`
 * with the clock-skew margin, the credential header) are the MPP adapter's own
 * (`readPaymentChallenges`); the `request` of the session intent is checked here:
 * `amount` (sat per unit) and `currency: "sat"`, `paymentHash`, and for an open or top-up
 * challenge the `depositInvoice`, whose own amount is the deposit (`depositAmount`, when sent,
 * must equal it: the server's figure is never trusted), whose payment hash must be
 * `paymentHash`, and whose network must be the one stated.
 *
 * @module
 */
import { object, oneOf, optional, type Shape, string } from '../../../internal/shape.js';
import { type FeeCap, feeCapMsat } from '../../../money/fee-cap.js';
import { amount, msat, msatUnit } from '../../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../../offer.js';
import type { SessionOffer } from '../../../session/types.js';
import { readBolt11 } from '../../bolt11.js';
import type { Challenge } from '../../www-authenticate.js';
import { type MppOfferRaw, readPaymentChallenges } from '../challenge.js';
import { UNVERIFIED_PAYEE } from '../terms.js';

/** The rail of Lightning session offers. */
export const LIGHTNING_SESSION_RAIL = 'mpp:lightning.session';

/** What a Lightning session offer (and its deposit offer) carries in `raw`. */
export interface LightningSessionRaw extends MppOfferRaw {
  /** `unit` on the priced offer; `deposit` on the offer the wallet pays. */
  readonly session: 'unit' | 'deposit';
  /** The deposit invoice (absent on a challenge for bearer or close calls). */
  readonly invoice?: string;
  /** The payment hash the challenge names (the invoice's, when there is one). */
  readonly paymentHash: string;
}

/** A read Lightning session offer: the {@link SessionOffer} and the deposit the wallet pays. */
export interface LightningSessionOffer extends SessionOffer {
  /** The deposit offer (amount = the invoice's), when the challenge carries an invoice. */
  readonly depositOffer?: PaymentOffer;
  /** The challenge parameters, exactly as received (echoed in credentials). */
  readonly challenge: Readonly<Record<string, string>>;
}

/** Settings of {@link readLightningSessionOffers}. */
export interface LightningSessionReadSettings {
  readonly clockSkewMs: number;
  /** The routing-fee cap of deposits and top-ups, msat (default: 1% + 10 sat). */
  readonly feeCap?: FeeCap;
}

const sats = string({
  pattern: /^[1-9][0-9]{0,15}$/,
  what: 'a positive whole number of satoshis as a decimal string',
});
const sessionRequest = object({
  amount: sats,
  currency: oneOf(['sat']),
  description: optional(string({ max: 1024 })),
  unitType: optional(string({ max: 128 })),
  depositInvoice: optional(string({ min: 1, max: 7089 })),
  paymentHash: string({ pattern: /^[0-9a-f]{64}$/, what: '64 lower-case hex digits' }),
  depositAmount: optional(sats),
  idleTimeout: optional(string({ pattern: /^[0-9]{1,9}$/, what: 'whole seconds' })),
  network: optional(oneOf(['mainnet', 'testnet', 'regtest', 'signet'])),
});

function check<T>(schema: Shape<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.code}, ${issue.message}`;
  });
  throw new TypeError(`its lightning session request is not valid: ${issues.join('; ')}`);
}

/**
 * Reads the `lightning` `session` challenges among `challenges`. Each becomes a frozen
 * {@link LightningSessionOffer}: its priced `offer` has `amount` = the unit price (msat) on
 * the rail `mpp:lightning.session`, its `fixedDeposit` is the deposit invoice's own amount.
 * Challenges that fail a check are left out, with a secret-free reason in `problems`.
 *
 * @example
 * ```ts
 * import { readLightningSessionOffers } from './terms.js';
 * const { offers } = readLightningSessionOffers(input.challenges, input.url, Date.now(), { clockSkewMs: 30_000 });
 * offers[0]?.fixedDeposit; // { value: 40_000n, unit: { kind: 'msat' } }
 * ```
 */
export function readLightningSessionOffers(
  challenges: readonly Challenge[],
  url: URL,
  now: number,
  settings: LightningSessionReadSettings,
): { offers: LightningSessionOffer[]; problems: string[] } {
  const mine = challenges.filter(
    (challenge) =>
      challenge.schemeLower === 'payment' &&
      challenge.params.method === 'lightning' &&
      challenge.params.intent === 'session',
  );
  if (mine.length === 0) return { offers: [], problems: [] };
  const common = readPaymentChallenges(mine, url, now, {
    clockSkewMs: settings.clockSkewMs,
    missingExpires: 'refuse',
    tokens: new Map(),
  });
  const offers: LightningSessionOffer[] = [];
  const problems = [...common.problems];
  for (const read of common.offers) {
    try {
      offers.push(sessionOffer(read, url, now, settings));
    } catch (error) {
      problems.push(
        `Payment challenge ${read.id} (lightning.session): ${(error as Error).message}`,
      );
    }
  }
  return { offers, problems };
}

function sessionOffer(
  read: PaymentOffer,
  url: URL,
  now: number,
  settings: LightningSessionReadSettings,
): LightningSessionOffer {
  const raw = read.raw as MppOfferRaw;
  const request = check(sessionRequest, raw.request);
  const unitPrice = BigInt(request.amount) * 1000n;
  let payee = UNVERIFIED_PAYEE;
  let expiresAt = read.expiresAt ?? now;
  let depositOffer: PaymentOffer | undefined;
  let fixedDeposit: ReturnType<typeof msat> | undefined;
  if (request.depositInvoice !== undefined) {
    let invoice: ReturnType<typeof readBolt11>;
    try {
      invoice = readBolt11(request.depositInvoice);
    } catch (error) {
      throw new TypeError(`its depositInvoice is not valid BOLT11: ${(error as Error).message}`);
    }
    if (invoice.amountMsat === undefined || invoice.amountMsat <= 0n) {
      throw new TypeError('its depositInvoice has no amount, so the deposit is unknown');
    }
    if (invoice.amountMsat % 1000n !== 0n) {
      throw new TypeError('its depositInvoice is not a whole number of satoshis');
    }
    if (invoice.paymentHash !== request.paymentHash) {
      throw new TypeError('its paymentHash is not the payment hash of its depositInvoice');
    }
    if (request.network !== undefined && request.network !== invoice.network) {
      throw new TypeError(`it says network ${request.network}, the invoice ${invoice.network}`);
    }
    if (
      request.depositAmount !== undefined &&
      BigInt(request.depositAmount) * 1000n !== invoice.amountMsat
    ) {
      throw new TypeError(
        `its depositAmount (${request.depositAmount} sat) is not the invoice's amount ` +
          `(${invoice.amountMsat / 1000n} sat): the invoice decides what is paid, so it is not paid`,
      );
    }
    if (invoice.amountMsat < unitPrice) {
      throw new TypeError('its deposit is smaller than one unit of service');
    }
    payee = invoice.payeeNodeKey?.toLowerCase() ?? UNVERIFIED_PAYEE;
    expiresAt = Math.min(
      expiresAt,
      (invoice.timestamp + invoice.expirySeconds) * 1000 - settings.clockSkewMs,
    );
    if (expiresAt <= now) throw new TypeError('its depositInvoice has expired');
    fixedDeposit = msat(invoice.amountMsat);
    const depositRaw: LightningSessionRaw = {
      challenge: raw.challenge,
      request: raw.request,
      invoice: request.depositInvoice,
      paymentHash: request.paymentHash,
      session: 'deposit',
    };
    depositOffer = freezeOffer({
      id: `${read.id}:deposit`,
      protocol: 'mpp',
      scheme: 'lightning.session',
      amount: fixedDeposit,
      maxFee: msat(feeCapMsat(invoice.amountMsat, settings.feeCap)),
      payee,
      network: 'lightning',
      origin: url.origin,
      resource: url.href,
      expiresAt,
      reusable: false,
      raw: depositRaw,
    } satisfies PaymentOffer);
  }
  const unitRaw: LightningSessionRaw = {
    challenge: raw.challenge,
    request: raw.request,
    ...(request.depositInvoice !== undefined ? { invoice: request.depositInvoice } : {}),
    paymentHash: request.paymentHash,
    session: 'unit',
  };
  const offer = freezeOffer({
    id: read.id,
    protocol: 'mpp',
    scheme: 'lightning.session',
    amount: amount(unitPrice, msatUnit),
    payee,
    network: 'lightning',
    origin: url.origin,
    resource: url.href,
    expiresAt,
    reusable: true,
    raw: unitRaw,
  } satisfies PaymentOffer);
  const idle = request.idleTimeout !== undefined ? Number(request.idleTimeout) * 1000 : undefined;
  return Object.freeze({
    offer,
    method: 'lightning',
    realm: raw.challenge.realm!,
    ...(fixedDeposit !== undefined ? { fixedDeposit } : {}),
    ...(idle !== undefined && idle > 0 ? { serverIdleMs: idle } : {}),
    ...(depositOffer !== undefined ? { depositOffer } : {}),
    challenge: raw.challenge,
  });
}
