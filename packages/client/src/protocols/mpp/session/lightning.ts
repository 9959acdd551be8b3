/**
 * `lightningSessionMethod()`: MPP `lightning` sessions (draft-lightning-session-00) for the
 * session manager. Open: the wallet pays the deposit invoice (its own checks: amount = what
 * the policy decided, payee from the signature, expiry) and creates the return invoice for the
 * refund on the client's own node; the open credential carries the deposit preimage and the
 * return invoice. Use: a bearer credential (session id + preimage), no payment. Top-up: a
 * fresh deposit invoice paid, a topUp credential. Close: a close credential; the refund is
 * confirmed on the client's own node (the return invoice's state), never taken from the
 * server's receipt.
 *
 * Where the spec is loose (see docs/mpp-sessions.md): bearer and close calls echo the latest
 * challenge the client saw for the session (a stale one is refreshed from the 402 the server
 * answers); a 402 without a problem type on a session call is not paid on.
 *
 * @module
 */
import { StipendError } from '../../../errors/base.js';
import { bytesToHex, hexToBytes } from '../../../internal/codec.js';
import { type FeeCapOptions, feeCapOf } from '../../../money/fee-cap.js';
import { msat } from '../../../money/unit.js';
import { sessionHooks } from '../../../session/manager.js';
import { type PluggedSessionMethod, SESSION_HOOKS } from '../../../session/plug.js';
import type {
  DepositPlan,
  OpenContext,
  OpenResult,
  RefundCheck,
  SessionOffer,
  SessionRecord,
  TopUpContext,
  TopUpResult,
} from '../../../session/types.js';
import type { Proof, Wallet } from '../../../wallet/wallet.js';
import type { ChallengeInput } from '../../adapter.js';
import { readBolt11 } from '../../bolt11.js';
import { type Challenge, parseWwwAuthenticateLenient } from '../../www-authenticate.js';
import { classifyRefusal, readSessionReceipt, readStreamEvent, readTopUpAnswer } from './answer.js';
import { sessionCredentialHeaders } from './credential.js';
import {
  LIGHTNING_SESSION_RAIL,
  type LightningSessionOffer,
  readLightningSessionOffers,
} from './terms.js';

/**
 * What a wallet must offer, beyond paying invoices, to run Lightning sessions: create an
 * amountless invoice on the client's own node (the return invoice the server refunds to) and
 * look it up (to confirm the refund). `@stipend/wallet-lightning`'s wallet has both when its
 * backend can create and look up invoices (`lndRestBackend`, the testkit simulator).
 */
export interface LightningInvoiceWallet {
  createInvoice(request: {
    /** Omitted: an amountless invoice. */
    readonly amountMsat?: bigint;
    readonly memo?: string;
    readonly expirySec: number;
  }): Promise<{ readonly invoice: string; readonly paymentHash: string }>;
  lookupInvoice(paymentHash: string): Promise<{
    readonly state: 'open' | 'settled' | 'canceled';
    /** What was received, msat (settled invoices). */
    readonly amountPaidMsat?: bigint;
    /** When an open invoice stops being payable (ms since epoch), when known. */
    readonly expiresAt?: number;
  }>;
}

/** Options of {@link lightningSessionMethod}. */
export interface LightningSessionOptions {
  /** Safety margin on challenge and invoice expiry, ms. Default 30 000. */
  readonly clockSkewMs?: number;
  /** The routing-fee cap of deposits and top-ups (reserved with them). Default 1% + 10 sat. */
  readonly lightning?: FeeCapOptions;
  /**
   * Expiry of the return invoice, seconds. Default 30 days (the spec's SHOULD): a refund can
   * come as late as the server's idle close.
   */
  readonly returnInvoiceExpirySec?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The wallet's return-invoice support, when it has it. */
function invoicesOf(wallet: Wallet): LightningInvoiceWallet | undefined {
  const candidate = wallet as Partial<LightningInvoiceWallet>;
  return typeof candidate.createInvoice === 'function' &&
    typeof candidate.lookupInvoice === 'function'
    ? (candidate as LightningInvoiceWallet)
    : undefined;
}

/** The preimage (lower-case hex) of a wallet's proof, checked against the payment hash. */
async function preimageOf(proof: Proof, paymentHash: string): Promise<string> {
  const secret = proof.secret as { payload?: { preimage?: unknown } } | undefined;
  const preimage = secret?.payload?.preimage;
  if (typeof preimage !== 'string' || !HEX64.test(preimage.toLowerCase())) {
    throw new StipendError(
      'PROOF_INVALID',
      'The wallet paid the session deposit but returned no preimage (Proof.secret.payload.preimage, 64 hex digits).',
      { details: { reference: paymentHash } },
    );
  }
  const bytes = hexToBytes(preimage.toLowerCase());
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  if (bytesToHex(digest) !== paymentHash) {
    throw new StipendError(
      'LIGHTNING_PREIMAGE_INVALID',
      `The wallet's preimage for deposit ${paymentHash} does not hash to it.`,
      { details: { reference: paymentHash } },
    );
  }
  return preimage.toLowerCase();
}

/** The `Payment` challenges of a 402, with mppx's `\uXXXX` escapes decoded when present. */
function paymentChallenges(input: ChallengeInput): readonly Challenge[] {
  const header = input.headers.get('www-authenticate');
  if (header?.includes('\\u')) {
    return parseWwwAuthenticateLenient(header, { decodeUnicodeEscapes: true }).challenges;
  }
  return input.challenges;
}

/**
 * Creates the `lightning` session method.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { lightningSessionMethod } from '@stipend/client/sessions';
 * import { lightningWallet, lndRestBackend } from '@stipend/wallet-lightning';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [lightningWallet({ network: 'mainnet', backend: lndRestBackend({ url, macaroon }) })],
 *   sessions: { methods: [lightningSessionMethod()] },
 *   policy: { hosts: { 'api.example.com': { maxDeposit: { usd: '0.50' } } } },
 * });
 * ```
 */
export function lightningSessionMethod(
  options: LightningSessionOptions = {},
): PluggedSessionMethod {
  const clockSkewMs = options.clockSkewMs ?? 30_000;
  const returnExpirySec = options.returnInvoiceExpirySec ?? 30 * 24 * 3600;
  if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new StipendError(
      'CONFIG_INVALID',
      'lightningSessionMethod({ clockSkewMs }) must be a non-negative number of milliseconds.',
    );
  }
  if (!Number.isInteger(returnExpirySec) || returnExpirySec < 60) {
    throw new StipendError(
      'CONFIG_INVALID',
      'lightningSessionMethod({ returnInvoiceExpirySec }) must be a whole number of seconds ≥ 60.',
    );
  }
  let feeCap: ReturnType<typeof feeCapOf>;
  try {
    feeCap = feeCapOf(options.lightning, 'lightningSessionMethod lightning');
  } catch (error) {
    throw new StipendError('CONFIG_INVALID', (error as Error).message, { cause: error });
  }
  /** Bearer credentials per session and echoed challenge (the same for every use). */
  const bearers = new Map<string, Readonly<Record<string, string>>>();

  function read(input: ChallengeInput) {
    return readLightningSessionOffers(paymentChallenges(input), input.url, input.now, {
      clockSkewMs,
      feeCap,
    });
  }

  function firstFresh(input: ChallengeInput | undefined): LightningSessionOffer | undefined {
    if (!input) return undefined;
    try {
      return read(input).offers[0];
    } catch {
      return undefined;
    }
  }

  return {
    [SESSION_HOOKS]: sessionHooks,
    method: 'lightning',
    rail: LIGHTNING_SESSION_RAIL,

    offers(input) {
      return read(input);
    },

    deposit(offer: SessionOffer, cap): DepositPlan | string {
      const lightning = offer as LightningSessionOffer;
      const fixed = lightning.fixedDeposit;
      const pay = lightning.depositOffer;
      if (!fixed || !pay) {
        return 'the challenge carries no deposit invoice (it is for bearer or close calls only)';
      }
      if (cap !== undefined && fixed.value > cap.value) {
        return (
          `the deposit invoice is for ${fixed.value / 1000n} sat, above maxDeposit ` +
          `(${cap.value / 1000n} sat): a Lightning invoice fixes the deposit, so the session is ` +
          'not opened (raise maxDeposit in the host rule to allow it)'
        );
      }
      return {
        amount: fixed,
        ...(pay.maxFee !== undefined ? { maxFee: pay.maxFee } : {}),
        pay,
        reference: (pay.raw as { paymentHash: string }).paymentHash,
      };
    },

    supports(wallet: Wallet) {
      if (!wallet.rails.includes(LIGHTNING_SESSION_RAIL)) {
        return `wallet ${wallet.id} does not pay ${LIGHTNING_SESSION_RAIL}`;
      }
      if (!invoicesOf(wallet)) {
        return (
          `wallet ${wallet.id} cannot create and look up invoices, and a Lightning session needs ` +
          'a return invoice on your own node for the refund (the spec requires it); use a ' +
          'backend with createInvoice and lookupInvoice (lndRestBackend, the testkit simulator)'
        );
      }
      return true;
    },

    async open(ctx: OpenContext): Promise<OpenResult> {
      const offer = ctx.offer as LightningSessionOffer;
      const invoices = invoicesOf(ctx.wallet);
      if (!invoices) throw new StipendError('CONFIG_INVALID', this.supports(ctx.wallet) as string);
      const paymentHash = ctx.plan.reference!;
      const deposit = readBolt11((ctx.plan.pay.raw as { invoice: string }).invoice);
      const created = await invoices.createInvoice({
        memo: 'stipend session refund',
        expirySec: returnExpirySec,
      });
      let returned: ReturnType<typeof readBolt11>;
      try {
        returned = readBolt11(created.invoice);
      } catch (error) {
        throw new StipendError(
          'WALLET_ERROR',
          `The wallet's return invoice is not valid BOLT11: ${(error as Error).message}`,
        );
      }
      if ((returned.amountMsat ?? 0n) !== 0n || returned.network !== deposit.network) {
        throw new StipendError(
          'WALLET_ERROR',
          `The wallet's return invoice must be amountless and on ${deposit.network}; it is not, so the session is not opened.`,
        );
      }
      const proof = await ctx.wallet.pay(ctx.plan.pay, ctx.pay);
      const preimage = await preimageOf(proof, paymentHash);
      return {
        headers: sessionCredentialHeaders(offer.challenge, {
          action: 'open',
          preimage,
          returnInvoice: created.invoice,
        }),
        proof,
        methodData: {
          sessionId: paymentHash,
          returnHash: returned.paymentHash,
          challenge: offer.challenge,
        },
        secret: { bearer: preimage },
      };
    },

    use(session: SessionRecord) {
      const challenge = session.methodData.challenge as Record<string, string>;
      const key = `${session.id} ${challenge.id}`;
      let headers = bearers.get(key);
      if (!headers) {
        headers = Object.freeze(
          sessionCredentialHeaders(challenge, {
            action: 'bearer',
            sessionId: session.methodData.sessionId as string,
            preimage: session.secret?.bearer ?? '',
          }),
        );
        if (bearers.size >= 1024) bearers.delete(bearers.keys().next().value!);
        bearers.set(key, headers);
      }
      return headers;
    },

    async topUp(ctx: TopUpContext): Promise<TopUpResult> {
      const offer = ctx.offer as LightningSessionOffer;
      const paymentHash = ctx.plan.reference!;
      const proof = await ctx.wallet.pay(ctx.plan.pay, ctx.pay);
      const preimage = await preimageOf(proof, paymentHash);
      return {
        headers: sessionCredentialHeaders(offer.challenge, {
          action: 'topUp',
          sessionId: ctx.session.methodData.sessionId as string,
          topUpPreimage: preimage,
        }),
        proof,
        methodData: { challenge: offer.challenge },
      };
    },

    topUpAnswer(response) {
      return readTopUpAnswer(response, undefined);
    },

    closeRequest(session: SessionRecord) {
      // Without the deposit's preimage there is no credential to close with.
      const bearer = session.secret?.bearer;
      if (bearer === undefined) return undefined;
      const challenge = session.methodData.challenge as Record<string, string>;
      return {
        url: session.resource,
        method: 'GET',
        headers: sessionCredentialHeaders(challenge, {
          action: 'close',
          sessionId: session.methodData.sessionId as string,
          preimage: bearer,
        }),
      };
    },

    async refund(session: SessionRecord, wallet: Wallet): Promise<RefundCheck> {
      const invoices = invoicesOf(wallet);
      const hash = session.methodData.returnHash;
      if (!invoices || typeof hash !== 'string') return { state: 'pending' };
      const found = await invoices.lookupInvoice(hash);
      if (found.state === 'settled') {
        return { state: 'confirmed', amount: msat(found.amountPaidMsat ?? 0n) };
      }
      if (found.state === 'canceled') return { state: 'none' };
      if (found.expiresAt !== undefined && found.expiresAt <= Date.now()) return { state: 'none' };
      return { state: 'pending' };
    },

    refusal(response, input) {
      return classifyRefusal(response, firstFresh(input));
    },

    receipt(response, session) {
      return readSessionReceipt(
        response,
        session,
        session.methodData.sessionId as string | undefined,
      );
    },

    streamEvent(event, session) {
      return readStreamEvent(event, session.methodData.sessionId as string | undefined);
    },
  };
}
