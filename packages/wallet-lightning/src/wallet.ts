/**
 * `lightningWallet`: pays L402 (`l402:bolt11`), MPP Lightning charge
 * (`mpp:lightning.charge`) and x402 `exact` on Lightning (`x402:exact` on an `lnbtc:` network)
 * offers through a {@link LightningBackend}, with the checks that
 * keep an agent from paying for a credential it cannot use, and crash-safe bookkeeping.
 *
 * @module
 */
import {
  BITCOIN_CAIP2,
  msat,
  type PayContext,
  type PaymentOffer,
  type PaymentStatus,
  type Proof,
  railOf,
  readMacaroon,
  type StipendErrorCode,
  type Wallet,
  WalletError,
} from '@stipend/client';
import {
  assertBackend,
  type BackendInvoice,
  type BackendInvoiceRequest,
  type BackendInvoiceState,
  type BackendLookup,
  type BackendPayment,
  backendOutcome,
  backendReason,
  type LightningBackend,
  withDeadline,
} from './backend.js';
import { normalizePreimage } from './bytes.js';
import {
  type DecodedInvoice,
  decodeInvoice,
  INVOICE_PREFIXES,
  type LightningNetworkName,
} from './invoice.js';
import { type LightningPaymentRecord, memoryPaymentStore, type PaymentStore } from './payments.js';

/**
 * The rails this wallet pays. `x402:exact` is shared with EVM wallets: this wallet pays only
 * its offers on an `lnbtc:` network (x402 `exact` on Lightning), and refuses the others.
 */
export const LIGHTNING_RAILS = [
  'l402:bolt11',
  'mpp:lightning.charge',
  'x402:exact',
  'mpp:lightning.session',
] as const;

/** The `lnbtc:` CAIP-2 id of a network (BIP-122 genesis hash prefix, as x402 names it). */
function lnbtcNetwork(network: LightningNetworkName): string {
  return `lnbtc:${BITCOIN_CAIP2[network].slice('bip122:'.length)}`;
}

/** Whether an offer is x402 on Lightning (`lnbtc:`), the only x402 offers this wallet pays. */
function isLnbtc(offer: PaymentOffer): boolean {
  return offer.protocol === 'x402' && (offer.network ?? '').startsWith('lnbtc:');
}

/** Options of {@link lightningWallet}. */
export interface LightningWalletOptions {
  /** The node or wallet service that pays. */
  readonly backend: LightningBackend;
  /** The wallet's network: invoices for any other network are refused. */
  readonly network: LightningNetworkName;
  /** The wallet id in records and errors. Default `lightning-<backend name>`. */
  readonly id?: string;
  /**
   * A wallet-side routing-fee cap, msat (fixed, or from the amount). No default.
   *
   * The fee limit every backend gets is the offer's `maxFee` (what the budget reserved on
   * top of the amount), or this cap when it is lower, so a fee is never above what was
   * reserved. An offer without `maxFee` is refused unless this is set (it is then the limit).
   */
  readonly maxFeeMsat?: bigint | ((amountMsat: bigint) => bigint);
  /** Refuse invoices above this amount, msat (a wallet-side cap on top of the policy). */
  readonly maxAmountMsat?: bigint;
  /** Refuse invoices that expire sooner than this, seconds. Default 60. */
  readonly expiryMarginSec?: number;
  /**
   * How long one payment attempt may take, ms. Default 30 000. The backend gets it as its
   * own timeout; the wallet waits for the backend's answer up to this (plus 1 s) even when
   * the caller aborts after the payment was sent, so that a late payment is booked.
   */
  readonly payTimeoutMs?: number;
  /**
   * After a timeout or a lost answer, how long to keep asking the backend (by payment hash)
   * before reporting an unknown outcome, ms. Default 20 000. Keep `payTimeoutMs +
   * settleWaitMs` below the paying fetch's `payTimeoutMs` (60 s by default).
   */
  readonly settleWaitMs?: number;
  /**
   * Payee pinning: per origin, the node keys allowed to sign its invoices. An invoice for a
   * pinned origin signed by another key is refused.
   */
  readonly payees?: Readonly<Record<string, string | readonly string[]>>;
  /** Where payment records are kept (written before paying). Default: in memory. */
  readonly payments?: PaymentStore;
  /** The clock, ms epoch. */
  readonly now?: () => number;
}

/** A Lightning wallet. */
export interface LightningWallet extends Wallet {
  readonly network: LightningNetworkName;
  readonly backend: LightningBackend;
  readonly payments: PaymentStore;
  /**
   * Creates an invoice on the wallet's own node (amountless without `amountMsat`): the return
   * invoice of a Lightning session. Present only when the backend can (`createInvoice`).
   */
  createInvoice?(request: BackendInvoiceRequest): Promise<BackendInvoice>;
  /** The state of an invoice of the wallet's own node (the session refund check). */
  lookupInvoice?(paymentHash: string): Promise<BackendInvoiceState>;
}

interface Checked {
  readonly decoded: DecodedInvoice;
  readonly amountMsat: bigint;
  readonly maxFeeMsat: bigint;
}

const MAX_CACHE = 256;
const LOOKUP_TIMEOUT_MS = 10_000;
const HASH = /^[0-9a-f]{64}$/;
const NODE_KEY = /^0[23][0-9a-f]{64}$/i;

/**
 * Creates a Lightning wallet for L402 and MPP `lightning` charge offers.
 *
 * Before paying it decodes the invoice with signature recovery and requires: the wallet's
 * network; an amount (amountless invoices are refused), no more than the offer's; an expiry
 * (BOLT 11 default 3600 s) at least `expiryMarginSec` away; for L402, a token that is a
 * macaroon must carry the invoice's payment hash in its 66-byte identifier (version ‖
 * payment hash ‖ token id), whatever else it holds (a token that is not a macaroon is paid
 * as the adapter allowed it); the offer's payee, when it names a node key, must be the
 * signer; the pinned payee key for the origin, when pinned. It pays with a fee limit equal
 * to the offer's `maxFee` (or the wallet's lower `maxFeeMsat`). A payment record is stored
 * before paying; a timeout is reconciled by payment hash through the backend before
 * anything is paid again, and a payment hash is never paid twice. After paying,
 * `sha256(preimage)` must equal the payment hash; the preimage is normalised to lowercase
 * hex.
 *
 * For the core it also verifies payees (`payeeOf`: the node key recovered from the invoice
 * signature), names the reference before paying (`referenceFor`: the payment hash) and
 * recovers the proof of a payment the node confirms (`recover`: the preimage, looked up by
 * payment hash). Backend failures are read by their fields (`outcome`, `paid`, code), never
 * by class.
 *
 * @example
 * ```ts
 * import { createPayingFetch, l402Adapter } from '@stipend/client';
 * import { lightningWallet, lndRestBackend } from '@stipend/wallet-lightning';
 *
 * const wallet = lightningWallet({
 *   network: 'mainnet',
 *   backend: lndRestBackend({ url: 'https://127.0.0.1:8080', macaroon: process.env.LND_MACAROON! }),
 *   maxFeeMsat: 20_000n,
 * });
 * const payingFetch = createPayingFetch({ adapters: [l402Adapter()], wallets: [wallet] });
 * ```
 */
export function lightningWallet(options: LightningWalletOptions): LightningWallet {
  validateOptions(options);
  const { backend, network } = options;
  const id = options.id ?? `lightning-${backend.name}`;
  const now = options.now ?? Date.now;
  const feeCap = options.maxFeeMsat;
  const marginMs = (options.expiryMarginSec ?? 60) * 1000;
  const payTimeoutMs = options.payTimeoutMs ?? 30_000;
  const settleWaitMs = options.settleWaitMs ?? 20_000;
  const store = options.payments ?? memoryPaymentStore();
  const decodedCache = new Map<string, DecodedInvoice | string>();
  const inFlight = new Map<string, Promise<Proof>>();
  const checkedTerms = new WeakMap<PaymentOffer, Checked | string>();

  function decode(invoice: string): DecodedInvoice | string {
    let result = decodedCache.get(invoice);
    if (result === undefined) {
      try {
        result = decodeInvoice(invoice);
      } catch (error) {
        result = (error as Error).message;
      }
      if (decodedCache.size >= MAX_CACHE) decodedCache.delete(decodedCache.keys().next().value!);
      decodedCache.set(invoice, result);
    }
    return result;
  }

  /** Every check made before paying: the checked terms, or why the offer is refused. */
  function check(offer: PaymentOffer): Checked | string {
    // Offers are frozen: what does not depend on the clock is checked once per offer.
    let terms = checkedTerms.get(offer);
    if (terms === undefined) {
      terms = checkTerms(offer);
      checkedTerms.set(offer, terms);
    }
    if (typeof terms === 'string') return terms;
    const expiresAt = terms.decoded.expiresAt * 1000;
    if (expiresAt - now() < marginMs) {
      return `the invoice expires at ${new Date(expiresAt).toISOString()}, less than ${marginMs / 1000} s from now; retry for a fresh one`;
    }
    return terms;
  }

  function checkTerms(offer: PaymentOffer): Checked | string {
    const rail = railOf(offer);
    if (!(LIGHTNING_RAILS as readonly string[]).includes(rail)) {
      return `rail ${rail} is not a Lightning rail`;
    }
    if (offer.protocol === 'x402' && !isLnbtc(offer)) {
      return `network ${offer.network} is not Lightning: this wallet pays x402 only on lnbtc networks`;
    }
    if (
      rail === 'mpp:lightning.session' &&
      (offer.raw as { session?: unknown })?.session !== 'deposit'
    ) {
      return 'a Lightning session is paid only through its deposit invoice (the session manager pays it)';
    }
    const raw = offer.raw as {
      invoice?: unknown;
      token?: unknown;
      request?: { methodDetails?: { paymentHash?: unknown } };
      requirement?: Record<string, unknown>;
    };
    if (typeof raw?.invoice !== 'string') return 'the offer carries no BOLT 11 invoice';
    const decoded = decode(raw.invoice);
    if (typeof decoded === 'string') return decoded;
    if (decoded.network !== network) {
      return `the invoice is for ${decoded.network} but this wallet pays on ${network}`;
    }
    if (decoded.amountMsat === undefined) {
      return 'amountless invoice: refused, because its price is unknown';
    }
    if (offer.amount.unit.kind !== 'msat' || decoded.amountMsat > offer.amount.value) {
      return 'the invoice asks more than the offer the policy approved';
    }
    if (isLnbtc(offer)) {
      const refusal = lnbtcRefusal(offer, decoded, raw.requirement);
      if (refusal) return refusal;
    }
    if (options.maxAmountMsat !== undefined && decoded.amountMsat > options.maxAmountMsat) {
      return `the invoice amount ${decoded.amountMsat} msat is above this wallet's maxAmountMsat ${options.maxAmountMsat} msat`;
    }
    if (offer.protocol === 'l402' && typeof raw.token === 'string') {
      // A macaroon is bound to the invoice or refused, whatever its identifier layout or
      // location encoding. A token that is not a macaroon at all is paid as the adapter
      // allowed it (`allowOpaqueTokens`).
      const macaroon = readMacaroon(raw.token);
      if (macaroon !== undefined && !macaroon.l402) {
        return `the token is a macaroon whose ${macaroon.identifier.length}-byte identifier is not the 66-byte L402 layout: it does not carry the invoice's payment hash`;
      }
      if (macaroon?.l402 && macaroon.l402.version !== 0) {
        return `unknown L402 identifier version ${macaroon.l402.version}: the token cannot be checked`;
      }
      if (macaroon?.l402 && macaroon.l402.paymentHash !== decoded.paymentHash) {
        return "the invoice's payment hash is not the one in the token: the credential could never work";
      }
    }
    if (NODE_KEY.test(offer.payee) && offer.payee.toLowerCase() !== decoded.payeeNodeKey) {
      return `the offer names payee ${offer.payee}, but the invoice is signed by node ${decoded.payeeNodeKey}: the policy approved another payee`;
    }
    const mppHash = raw.request?.methodDetails?.paymentHash;
    if (typeof mppHash === 'string' && mppHash.toLowerCase() !== decoded.paymentHash) {
      return "the invoice's payment hash is not the one in the MPP request";
    }
    const pinned = options.payees?.[offer.origin];
    if (pinned !== undefined) {
      const keys = typeof pinned === 'string' ? [pinned] : pinned;
      if (!keys.map((k) => k.toLowerCase()).includes(decoded.payeeNodeKey)) {
        return `the invoice is signed by node ${decoded.payeeNodeKey}, not by a node pinned for ${offer.origin}`;
      }
    }
    // The fee limit is what the budget reserved (the offer's maxFee), never more.
    const ownCap = typeof feeCap === 'function' ? feeCap(decoded.amountMsat) : feeCap;
    let maxFeeMsat: bigint;
    if (offer.maxFee !== undefined) {
      if (offer.maxFee.unit.kind !== 'msat') return 'the offer maxFee is not in msat';
      maxFeeMsat =
        ownCap !== undefined && ownCap < offer.maxFee.value ? ownCap : offer.maxFee.value;
    } else if (ownCap !== undefined) {
      maxFeeMsat = ownCap;
    } else {
      return 'the offer reserves no routing fee (it has no maxFee), so any fee would be above what the budget reserved; set lightningWallet({ maxFeeMsat }) to pay such offers with that fee limit';
    }
    if (maxFeeMsat < 0n) return 'the fee limit is negative';
    return { decoded, amountMsat: decoded.amountMsat, maxFeeMsat };
  }

  function refuse(message: string, code: StipendErrorCode = 'LIGHTNING_REFUSED'): WalletError {
    return new WalletError({ walletId: id, message, paid: false, code });
  }

  function proofOf(offer: PaymentOffer, record: LightningPaymentRecord): Proof {
    if (!record.preimage) {
      throw new WalletError({
        walletId: id,
        code: 'LIGHTNING_PREIMAGE_INVALID',
        paid: true,
        reference: record.paymentHash,
        message: `Payment ${record.paymentHash} settled, but the backend reported a preimage that does not hash to it: money moved and the proof is unusable. Check the backend (${backend.name}).`,
      });
    }
    const preimage = record.preimage;
    return {
      offerId: offer.id,
      reference: record.paymentHash,
      settlement: 'final',
      paid: msat(BigInt(record.amountMsat)),
      ...(record.feeMsat !== undefined ? { fee: msat(BigInt(record.feeMsat)) } : {}),
      secret: offer.protocol === 'l402' ? { preimage } : { payload: { preimage } },
    };
  }

  async function update(
    record: LightningPaymentRecord,
    change: Partial<LightningPaymentRecord>,
  ): Promise<LightningPaymentRecord> {
    const next = { ...record, ...change, updatedAt: now() };
    await store.put(next);
    return next;
  }

  /** Records what a backend said about a payment; returns the new record. */
  async function apply(
    record: LightningPaymentRecord,
    result: BackendLookup,
  ): Promise<LightningPaymentRecord> {
    if (result.status === 'succeeded') return settled(record, result);
    if (result.status === 'failed') return update(record, { state: 'failed' });
    return record;
  }

  async function settled(
    record: LightningPaymentRecord,
    payment: BackendPayment,
  ): Promise<LightningPaymentRecord> {
    let preimage = normalizePreimage(payment.preimage, record.paymentHash);
    let feeMsat = payment.feeMsat;
    if (preimage === undefined) {
      // Some backends mangle the preimage in the pay answer; the payment record may be right.
      const again = await lookupWithin(record.paymentHash, LOOKUP_TIMEOUT_MS).catch(
        () => undefined,
      );
      if (again?.status === 'succeeded') {
        preimage = normalizePreimage(again.preimage, record.paymentHash);
        feeMsat ??= again.feeMsat;
      }
    }
    const { preimage: _old, ...rest } = record;
    return update(rest, {
      state: 'succeeded',
      ...(preimage !== undefined ? { preimage } : {}),
      ...(feeMsat !== undefined ? { feeMsat: feeMsat.toString() } : {}),
    });
  }

  /** A backend lookup that ends: it rejects (as an unknown outcome) after `ms`. */
  function lookupWithin(hash: string, ms: number): Promise<BackendLookup> {
    const abort = new AbortController();
    return withDeadline(
      Promise.resolve().then(() => backend.lookup(hash, { signal: abort.signal })),
      ms,
      `the ${backend.name} backend (lookup)`,
    ).finally(() => abort.abort());
  }

  /**
   * Settles a pending record of an attempt that is no longer running (an earlier timeout, a
   * crash) with the backend. A backend that never heard of the payment means it was never
   * sent. A failed lookup leaves it pending.
   */
  async function resolve(record: LightningPaymentRecord): Promise<LightningPaymentRecord> {
    let result: BackendLookup;
    try {
      result = await lookupWithin(record.paymentHash, LOOKUP_TIMEOUT_MS);
    } catch {
      return record;
    }
    if (result.status === 'not_found') return update(record, { state: 'failed' });
    return apply(record, result);
  }

  /**
   * After an unknown outcome: ask the backend until it knows, or `settleWaitMs` passes. The
   * caller's abort does not stop it: money may have moved, and the answer is what the core
   * books.
   */
  async function waitForOutcome(record: LightningPaymentRecord): Promise<LightningPaymentRecord> {
    const deadline = now() + settleWaitMs;
    let delay = 25;
    for (;;) {
      let result: BackendLookup | undefined;
      try {
        result = await lookupWithin(
          record.paymentHash,
          Math.max(50, Math.min(LOOKUP_TIMEOUT_MS, deadline - now())),
        );
      } catch {
        result = undefined;
      }
      if (result && (result.status === 'succeeded' || result.status === 'failed')) {
        return apply(record, result);
      }
      if (now() + delay > deadline) return record;
      await new Promise((done) => setTimeout(done, delay));
      delay = Math.min(delay * 2, 1000);
    }
  }

  function aborted(hash: string, signal: AbortSignal): WalletError {
    return new WalletError({
      walletId: id,
      code: 'LIGHTNING_ABORTED',
      paid: false,
      reference: hash,
      message:
        'The payment was aborted before it was sent to the Lightning backend; nothing was paid.',
      cause: signal.reason,
    });
  }

  function notSent(hash: string, error: unknown): WalletError {
    return new WalletError({
      walletId: id,
      code: 'LIGHTNING_PAYMENT_FAILED',
      paid: false,
      reference: hash,
      message: `The ${backend.name} backend did not pay (${backendReason(error)}): ${(error as Error)?.message ?? String(error)}`,
      cause: error,
    });
  }

  async function payOnce(offer: PaymentOffer, checked: Checked, ctx: PayContext): Promise<Proof> {
    const hash = checked.decoded.paymentHash;
    const existing = await store.get(hash);
    if (existing?.state === 'succeeded') return proofOf(offer, existing);
    if (existing?.state === 'pending') {
      const known = await resolve(existing);
      if (known.state === 'succeeded') return proofOf(offer, known);
      if (known.state === 'pending') throw unknownOutcome(hash, 'an earlier attempt');
    }
    // Never pay a new invoice to an origin while an earlier payment to it is unresolved.
    for (const other of await store.pending()) {
      if (other.origin !== offer.origin || other.paymentHash === hash) continue;
      if (inFlight.has(other.paymentHash)) continue;
      const known = await resolve(other);
      if (known.state === 'pending') {
        throw refuse(
          `An earlier payment to ${offer.origin} (payment hash ${other.paymentHash}) has an unknown outcome; nothing new is paid until the backend settles it. Look it up, then retry.`,
          'LIGHTNING_EARLIER_PAYMENT_PENDING',
        );
      }
    }
    if (ctx.signal?.aborted) throw aborted(hash, ctx.signal);

    const startedAt = now();
    let record: LightningPaymentRecord = {
      paymentHash: hash,
      invoice: checked.decoded.invoice,
      origin: offer.origin,
      rail: railOf(offer),
      amountMsat: checked.amountMsat.toString(),
      maxFeeMsat: checked.maxFeeMsat.toString(),
      state: 'pending',
      startedAt,
      updatedAt: startedAt,
    };
    // The pending record is durable before any money can move.
    await store.put(record);
    if (ctx.signal?.aborted) {
      await update(record, { state: 'failed' });
      throw aborted(hash, ctx.signal);
    }

    // Dispatch. The caller's signal is not passed on: once sent, the wallet waits for the
    // backend's own answer (bounded by payTimeoutMs), so a late payment is booked, not lost.
    let sent: Promise<BackendPayment>;
    try {
      sent = backend.pay({
        invoice: checked.decoded.invoice,
        paymentHash: hash,
        amountMsat: checked.amountMsat,
        maxFeeMsat: checked.maxFeeMsat,
        timeoutMs: payTimeoutMs,
      });
    } catch (error) {
      // Thrown before it returned: nothing was dispatched.
      await update(record, { state: 'failed' });
      throw notSent(hash, error);
    }
    let payment: BackendPayment;
    try {
      payment = await withDeadline(
        Promise.resolve(sent),
        payTimeoutMs + 1000,
        `the ${backend.name} backend`,
      );
    } catch (error) {
      if (backendOutcome(error) === 'not_paid') {
        await update(record, { state: 'failed' });
        throw notSent(hash, error);
      }
      record = await waitForOutcome(record);
      if (record.state === 'succeeded') return proofOf(offer, record);
      if (record.state === 'failed') {
        throw new WalletError({
          walletId: id,
          code: 'LIGHTNING_PAYMENT_FAILED',
          paid: false,
          reference: hash,
          message: `The payment failed after an unclear answer from ${backend.name}.`,
          cause: error,
        });
      }
      throw unknownOutcome(hash, `the ${backend.name} backend`, error);
    }
    return proofOf(offer, await settled(record, payment));
  }

  function unknownOutcome(hash: string, who: string, cause?: unknown): WalletError {
    return new WalletError({
      walletId: id,
      code: 'LIGHTNING_OUTCOME_UNKNOWN',
      paid: 'unknown',
      reference: hash,
      message: `The outcome of payment ${hash} is unknown (${who} timed out); it is looked up by payment hash before anything is paid again.`,
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  /**
   * The checks an x402 `lnbtc` offer adds (scheme_exact_lnbtc.md, client steps 5–8, with the
   * signer recovered here): the offer's network is this wallet's, the invoice asks exactly
   * the amount, is signed by `payTo`, expires after exactly `maxTimeoutSeconds`, and commits to
   * the request hash the adapter checked against the request.
   */
  function lnbtcRefusal(
    offer: PaymentOffer,
    decoded: DecodedInvoice,
    requirement: Record<string, unknown> | undefined,
  ): string | undefined {
    if (offer.network !== lnbtcNetwork(network)) {
      return `the offer is for ${offer.network}, but this wallet pays on ${network} (${lnbtcNetwork(network)})`;
    }
    if (typeof requirement !== 'object' || requirement === null) {
      return 'the offer carries no x402 requirement';
    }
    if (
      decoded.amountMsat !== offer.amount.value ||
      requirement.amount !== String(offer.amount.value)
    ) {
      return 'the invoice amount is not exactly the amount of the offer';
    }
    if (decoded.payeeNodeKey !== requirement.payTo) {
      return `the invoice is signed by node ${decoded.payeeNodeKey}, not by payTo ${String(requirement.payTo)}`;
    }
    if (decoded.expirySeconds !== requirement.maxTimeoutSeconds) {
      return 'the invoice expiry is not the offer maxTimeoutSeconds';
    }
    const extra = requirement.extra as { requestHash?: unknown } | undefined;
    if (decoded.descriptionHash === undefined || decoded.descriptionHash !== extra?.requestHash) {
      return "the invoice's description hash is not the offer's request hash: it does not bind this request";
    }
    return undefined;
  }

  /** The invoice of a Lightning offer, decoded and signature-checked, or why not. */
  function invoiceOf(offer: PaymentOffer): DecodedInvoice | string {
    const rail = railOf(offer);
    if (!(LIGHTNING_RAILS as readonly string[]).includes(rail)) {
      return `rail ${rail} is not a Lightning rail`;
    }
    if (offer.protocol === 'x402' && !isLnbtc(offer)) {
      return `network ${offer.network} is not Lightning`;
    }
    const invoice = (offer.raw as { invoice?: unknown } | undefined)?.invoice;
    if (typeof invoice !== 'string') return 'the offer carries no BOLT 11 invoice';
    return decode(invoice);
  }

  const wallet: LightningWallet = {
    id,
    rails: LIGHTNING_RAILS,
    network,
    backend,
    payments: store,

    canPay(offer: PaymentOffer): true | string {
      const checked = check(offer);
      return typeof checked === 'string' ? checked : true;
    },

    async pay(offer: PaymentOffer, ctx: PayContext): Promise<Proof> {
      const checked = check(offer);
      if (typeof checked === 'string') throw refuse(checked);
      const hash = checked.decoded.paymentHash;
      let flight = inFlight.get(hash);
      if (!flight) {
        if (ctx.signal?.aborted) throw aborted(hash, ctx.signal);
        flight = payOnce(offer, checked, ctx).finally(() => inFlight.delete(hash));
        inFlight.set(hash, flight);
      }
      const proof = await flight;
      return proof.offerId === offer.id ? proof : { ...proof, offerId: offer.id };
    },

    payeeOf(offer: PaymentOffer): string {
      // `x402:exact` is shared with EVM wallets, and the core asks the first wallet listing the
      // rail: an EVM offer's payee is the `payTo` its wallet signs, which this wallet leaves as is.
      if (offer.protocol === 'x402' && !isLnbtc(offer)) return offer.payee;
      const decoded = invoiceOf(offer);
      if (typeof decoded === 'string') {
        throw refuse(
          `the invoice's payee cannot be verified: ${decoded}`,
          'LIGHTNING_PAYEE_UNVERIFIED',
        );
      }
      return decoded.payeeNodeKey;
    },

    referenceFor(offer: PaymentOffer): string | undefined {
      const decoded = invoiceOf(offer);
      return typeof decoded === 'string' ? undefined : decoded.paymentHash;
    },

    async recover(reference: string, offer: PaymentOffer): Promise<Proof | undefined> {
      const hash = reference.toLowerCase();
      const decoded = invoiceOf(offer);
      // Only the offer's own payment: never one purchase's proof for another.
      if (!HASH.test(hash) || typeof decoded === 'string' || decoded.paymentHash !== hash) {
        return undefined;
      }
      const record = await store.get(hash);
      if (record?.state === 'succeeded' && record.preimage) return proofOf(offer, record);
      let result: BackendLookup;
      try {
        result = await lookupWithin(hash, LOOKUP_TIMEOUT_MS);
      } catch {
        return undefined;
      }
      if (result.status !== 'succeeded') return undefined;
      if (normalizePreimage(result.preimage, hash) === undefined) return undefined;
      const base: LightningPaymentRecord = record ?? {
        paymentHash: hash,
        invoice: decoded.invoice,
        origin: offer.origin,
        rail: railOf(offer),
        amountMsat: (decoded.amountMsat ?? offer.amount.value).toString(),
        maxFeeMsat: (offer.maxFee?.value ?? 0n).toString(),
        state: 'pending',
        startedAt: now(),
        updatedAt: now(),
      };
      return proofOf(offer, await settled(base, result));
    },

    /** What the node can spend now (`backend.balanceMsat`), for msat offers; else unknown. */
    async balance(offer, { signal }) {
      if (offer.amount.unit.kind !== 'msat' || !options.backend.balanceMsat) return undefined;
      return { value: await options.backend.balanceMsat({ signal }), unit: offer.amount.unit };
    },

    ...(backend.createInvoice && backend.lookupInvoice
      ? invoiceMethods(backend, network, (invoice) => decode(invoice))
      : {}),

    async lookup(reference: string): Promise<PaymentStatus> {
      const record = await store.get(reference);
      if (record?.state === 'succeeded') return 'paid';
      if (record?.state === 'failed') return 'failed';
      if (inFlight.has(reference)) return 'pending';
      if (record) {
        const known = await resolve(record);
        return known.state === 'succeeded'
          ? 'paid'
          : known.state === 'failed'
            ? 'failed'
            : 'pending';
      }
      const result = await lookupWithin(reference, LOOKUP_TIMEOUT_MS);
      if (result.status === 'succeeded') return 'paid';
      if (result.status === 'failed' || result.status === 'not_found') return 'failed';
      return 'pending';
    },
  };
  return wallet;
}

/**
 * The wallet's own invoices (Lightning session return invoices), through the backend: the
 * created invoice is decoded and must carry the hash the backend named, on the wallet's
 * network.
 */
function invoiceMethods(
  backend: LightningBackend,
  network: LightningNetworkName,
  decode: (invoice: string) => DecodedInvoice | string,
): Pick<LightningWallet, 'createInvoice' | 'lookupInvoice'> {
  return {
    async createInvoice(request) {
      const created = await backend.createInvoice!(request);
      const decoded = decode(created.invoice);
      if (typeof decoded === 'string') {
        throw new TypeError(`The ${backend.name} backend created an invalid invoice: ${decoded}`);
      }
      if (
        decoded.paymentHash !== created.paymentHash.toLowerCase() ||
        decoded.network !== network
      ) {
        throw new TypeError(
          `The ${backend.name} backend created an invoice whose hash or network is not the one it named`,
        );
      }
      return { invoice: created.invoice, paymentHash: decoded.paymentHash };
    },
    lookupInvoice(paymentHash) {
      if (!HASH.test(paymentHash)) {
        return Promise.reject(new TypeError('lookupInvoice needs a 64-hex-digit payment hash'));
      }
      return backend.lookupInvoice!(paymentHash);
    },
  };
}

/** Checks the options where the wallet is made, with errors naming the option. */
function validateOptions(options: LightningWalletOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('lightningWallet(options) needs { backend, network }');
  }
  assertBackend(options.backend);
  if (!Object.hasOwn(INVOICE_PREFIXES, options.network)) {
    throw new TypeError(
      `lightningWallet({ network }) must be 'mainnet', 'testnet', 'signet' or 'regtest', not ${JSON.stringify(options.network)}`,
    );
  }
  const cap = options.maxFeeMsat;
  if (cap !== undefined && typeof cap !== 'function' && (typeof cap !== 'bigint' || cap < 0n)) {
    throw new TypeError(
      'lightningWallet({ maxFeeMsat }) must be a bigint >= 0n (msat) or a function of the amount',
    );
  }
}
