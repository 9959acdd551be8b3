/**
 * `tempoSessionMethod()`: MPP `tempo` sessions (draft-tempo-session-00, TIP-1034 payment
 * channels, `sessionProtocol: "v2"`) for the session manager. Open: the wallet signs a Tempo
 * transaction that opens a channel with the deposit (the server broadcasts it; that is when
 * the deposit moves) and the first cumulative voucher. Use: a voucher for the client's own
 * count (`spentAtomic`), never the server's. Top-up: a signed `topUp` transaction. Close: a
 * close credential with the last voucher; the refund is read from the escrow on chain (the
 * wallet's `closedRefund`), never from the server's receipt.
 *
 * Vouchers are signed ahead in a small window (the manager's `use` is synchronous): every
 * pre-signed voucher stays in this process, is at most the deposit, and only the one for the
 * counted amount is sent.
 *
 * @module
 */
import { StipendError } from '../../../errors/base.js';
import { amount, type Unit } from '../../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../../offer.js';
import { sessionHooks } from '../../../session/manager.js';
import { type PluggedSessionMethod, SESSION_HOOKS } from '../../../session/plug.js';
import type {
  DepositPlan,
  OpenContext,
  OpenResult,
  RefundCheck,
  SessionOffer,
  SessionRecord,
  SessionRefusal,
  TopUpContext,
  TopUpResult,
} from '../../../session/types.js';
import type { Wallet } from '../../../wallet/wallet.js';
import type { ChallengeInput } from '../../adapter.js';
import { buildCredential } from '../credential.js';
import { parseReceipt } from '../settle.js';
import type { KnownToken } from '../terms.js';
import { problemName } from './answer.js';
import {
  readTempoSessionOffers,
  TEMPO_SESSION_RAIL,
  type TempoSessionOffer,
  TIP1034_ESCROW,
} from './tempo-terms.js';

/**
 * What a wallet must offer, beyond `pay` (which signs the open and top-up transactions), to run
 * Tempo sessions: cumulative vouchers and reading the escrow. `@stipend/wallet-evm`'s
 * `tempoSessionWallet` has them.
 */
export interface TempoChannelWallet {
  readonly tempoChannels: {
    readonly address: string;
    voucher(channelId: string, cumulativeAmount: bigint): Promise<string>;
    closedRefund(channelId: string): Promise<{ refunded: bigint; settled: bigint } | undefined>;
    state(
      channelId: string,
    ): Promise<{ settled: bigint; deposit: bigint; closeRequestedAt: number }>;
  };
}

/** Options of {@link tempoSessionMethod}. */
export interface TempoSessionOptions {
  /** Safety margin on challenge expiry, ms. Default 30 000. */
  readonly clockSkewMs?: number;
  /**
   * Escrows to accept besides none: default only the canonical TIP-1034 escrow
   * `0x4d50500000000000000000000000000000000000`. A server naming any other is refused.
   */
  readonly escrows?: readonly string[];
  /** Tokens the client knows, keyed `eip155:<chain>/<address>` (as `mppAdapter({ tokens })`). */
  readonly tokens?: Readonly<Record<string, KnownToken>>;
  /** The most one open or top-up may cost in fees (token base units), reserved with it. Default 50 000. */
  readonly maxNetworkFee?: bigint;
  /** Deposit when the server suggests none: this many units. Default 20. */
  readonly defaultUnits?: bigint;
  /** Vouchers signed ahead of use. Default 64. */
  readonly window?: number;
}

/** The voucher cache of one session (this process only). */
interface Vouchers {
  readonly wallet: TempoChannelWallet;
  readonly channelId: string;
  readonly signed: Map<bigint, string>;
  /** The next cumulative amount to sign. */
  next: bigint;
  deposit: bigint;
  filling?: Promise<void>;
}

const HEX = /^0x[0-9a-fA-F]+$/;

function channelWalletOf(wallet: Wallet): TempoChannelWallet | undefined {
  const c = (wallet as Partial<TempoChannelWallet>).tempoChannels;
  return c &&
    typeof c.voucher === 'function' &&
    typeof c.closedRefund === 'function' &&
    typeof c.state === 'function'
    ? (wallet as unknown as TempoChannelWallet)
    : undefined;
}

/**
 * Creates the `tempo` session method.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { tempoSessionMethod } from '@stipend/client/mpp';
 * import { tempoSessionWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [tempoSessionWallet({ account, client })],
 *   sessions: { methods: [tempoSessionMethod()] },
 *   policy: { hosts: { 'api.example.com': { maxDeposit: { usd: '5.00' } } } },
 * });
 * ```
 */
export function tempoSessionMethod(options: TempoSessionOptions = {}): PluggedSessionMethod {
  const clockSkewMs = options.clockSkewMs ?? 30_000;
  const maxNetworkFee = options.maxNetworkFee ?? 50_000n;
  const defaultUnits = options.defaultUnits ?? 20n;
  const window = BigInt(options.window ?? 64);
  if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new StipendError(
      'CONFIG_INVALID',
      'tempoSessionMethod({ clockSkewMs }) must be ≥ 0 milliseconds.',
    );
  }
  if (maxNetworkFee < 0n || defaultUnits < 1n || window < 1n) {
    throw new StipendError(
      'CONFIG_INVALID',
      'tempoSessionMethod({ maxNetworkFee, defaultUnits, window }): maxNetworkFee ≥ 0, defaultUnits ≥ 1, window ≥ 1.',
    );
  }
  const escrows = new Set([TIP1034_ESCROW, ...(options.escrows ?? [])].map((e) => e.toLowerCase()));
  const tokens = new Map(Object.entries(options.tokens ?? {}));
  const caches = new Map<string, Vouchers>();

  function read(input: ChallengeInput) {
    return readTempoSessionOffers(input.challenges, input.url, input.now, {
      clockSkewMs,
      escrows,
      tokens,
    });
  }

  /** Signs vouchers ahead, ascending (the wallet refuses to go down), up to the deposit. */
  function fill(cache: Vouchers, spent: bigint, price: bigint): Promise<void> {
    if (cache.filling) return cache.filling;
    const target = spent + window * price < cache.deposit ? spent + window * price : cache.deposit;
    if (cache.next > target) return Promise.resolve();
    cache.filling = (async () => {
      try {
        while (cache.next <= target && cache.next <= cache.deposit) {
          const at = cache.next;
          cache.signed.set(at, await cache.wallet.tempoChannels.voucher(cache.channelId, at));
          cache.next = at + price;
        }
        for (const key of cache.signed.keys())
          if (key + 2n * price < spent) cache.signed.delete(key);
      } finally {
        cache.filling = undefined;
      }
    })();
    cache.filling.catch(() => {});
    return cache.filling;
  }

  function voucherFor(session: SessionRecord, cumulative: bigint): string {
    const cache = caches.get(session.id);
    if (!cache) {
      throw new StipendError(
        'SIGNING_FAILED',
        `Tempo session ${session.id} has no voucher signer in this process (it was opened by another process or before a restart); close it with payingFetch.sessions.close.`,
      );
    }
    if (session.depositAtomic > cache.deposit) cache.deposit = session.depositAtomic;
    if (cumulative > cache.deposit) {
      throw new StipendError(
        'OFFER_MISMATCH',
        `No voucher above the deposit (${cumulative} > ${cache.deposit}).`,
      );
    }
    const signature = cache.signed.get(cumulative);
    void fill(cache, cumulative, session.unitPriceAtomic);
    if (!signature) {
      throw new StipendError(
        'SIGNING_FAILED',
        `The voucher for ${cumulative} is not signed yet (more than ${window} calls at once); send the call again.`,
      );
    }
    return signature;
  }

  function headers(
    challenge: Readonly<Record<string, string>>,
    payload: unknown,
    session: { methodData: Readonly<Record<string, unknown>> },
  ) {
    const source = `did:pkh:eip155:${session.methodData.chainId as number}:${session.methodData.payer as string}`;
    const value = buildCredential(
      { challenge, request: {} },
      { payload: payload as Record<string, unknown>, source },
    );
    return { [(challenge.header ?? 'authorization').toLowerCase()]: value };
  }

  function classify(response: Response, fresh: SessionOffer | undefined): Promise<SessionRefusal> {
    return problemName(response).then((problem) => {
      const said = problem?.detail ? ` (server said: "${problem.detail}")` : '';
      const withOffer = fresh ? { offer: fresh } : {};
      switch (problem?.name) {
        case 'session/insufficient-balance':
          return {
            kind: 'topup' as const,
            ...withOffer,
            message: `the channel balance is used up${said}`,
          };
        case 'session/channel-not-found':
        case 'session/channel-finalized':
          return { kind: 'closed' as const, message: `the server says the channel is over${said}` };
        case 'invalid-challenge':
        case 'payment-expired':
          return {
            kind: 'challenge' as const,
            ...withOffer,
            message: `the echoed challenge is stale${said}`,
          };
        default:
          return {
            kind: 'other' as const,
            message: `the server answered ${response.status}${problem?.name ? ` ${problem.name}` : ''} to a session call${said}`,
          };
      }
    });
  }

  return {
    [SESSION_HOOKS]: sessionHooks,
    method: 'tempo',
    rail: TEMPO_SESSION_RAIL,

    offers(input) {
      return read(input);
    },

    deposit(offer: SessionOffer, cap): DepositPlan | string {
      const tempo = offer as TempoSessionOffer;
      const price = offer.offer.amount.value;
      const unit = offer.offer.amount.unit;
      let want = offer.suggestedDeposit?.value ?? price * defaultUnits;
      if (cap !== undefined && cap.value < want) want = cap.value;
      if (want < price) {
        return `maxDeposit leaves ${cap?.value ?? 0n} base units, less than one unit (${price}): the channel is not opened or topped up (raise maxDeposit in the host rule)`;
      }
      const pay = freezeOffer({
        ...offer.offer,
        id: `${offer.offer.id}:deposit`,
        amount: amount(want, unit),
        maxFee: amount(maxNetworkFee, unit),
        reusable: false,
        raw: { challenge: tempo.challenge, request: tempo.request, tempo: tempo.terms },
      } satisfies PaymentOffer);
      return { amount: pay.amount, maxFee: pay.maxFee!, pay };
    },

    supports(wallet: Wallet) {
      if (!wallet.rails.includes(TEMPO_SESSION_RAIL))
        return `wallet ${wallet.id} does not pay ${TEMPO_SESSION_RAIL}`;
      if (!channelWalletOf(wallet)) {
        return `wallet ${wallet.id} cannot sign Tempo vouchers (use tempoSessionWallet from @stipend/wallet-evm)`;
      }
      return true;
    },

    async open(ctx: OpenContext): Promise<OpenResult> {
      const offer = ctx.offer as TempoSessionOffer;
      const wallet = channelWalletOf(ctx.wallet);
      if (!wallet) throw new StipendError('CONFIG_INVALID', this.supports(ctx.wallet) as string);
      const proof = await ctx.wallet.pay(ctx.plan.pay, ctx.pay);
      const payload = (
        proof.secret as {
          payload?: { transaction?: unknown; descriptor?: unknown; channelId?: unknown };
        }
      )?.payload;
      const channelId = payload?.channelId;
      if (
        typeof payload?.transaction !== 'string' ||
        !HEX.test(payload.transaction) ||
        typeof channelId !== 'string'
      ) {
        throw new StipendError(
          'PROOF_INVALID',
          'The wallet returned no signed channel opening (Proof.secret.payload).',
        );
      }
      const price = ctx.session.unitPriceAtomic;
      const deposit = ctx.plan.amount.value;
      // The opening request is the first use: its voucher covers one unit.
      const first = await wallet.tempoChannels.voucher(channelId, price);
      const cache: Vouchers = {
        wallet,
        channelId,
        signed: new Map([[price, first]]),
        next: price * 2n,
        deposit,
      };
      caches.set(ctx.session.id, cache);
      void fill(cache, price, price);
      const methodData = {
        challenge: offer.challenge,
        channelId,
        chainId: offer.terms.chainId,
        escrow: offer.terms.escrow,
        payer: wallet.tempoChannels.address,
        descriptor: payload.descriptor as Record<string, string>,
        unit: ctx.plan.amount.unit as unknown as Record<string, unknown>,
      };
      return {
        headers: headers(
          offer.challenge,
          {
            action: 'open',
            type: 'transaction',
            channelId,
            transaction: payload.transaction,
            signature: first,
            descriptor: payload.descriptor,
            cumulativeAmount: price.toString(),
            authorizedSigner: wallet.tempoChannels.address,
          },
          { methodData },
        ),
        proof,
        methodData,
      };
    },

    use(session: SessionRecord) {
      const cumulative = session.spentAtomic;
      const signature = voucherFor(session, cumulative);
      return headers(
        session.methodData.challenge as Record<string, string>,
        {
          action: 'voucher',
          channelId: session.methodData.channelId,
          descriptor: session.methodData.descriptor,
          cumulativeAmount: cumulative.toString(),
          signature,
        },
        session,
      );
    },

    async topUp(ctx: TopUpContext): Promise<TopUpResult> {
      const offer = ctx.offer as TempoSessionOffer;
      const channelId = ctx.session.methodData.channelId as string;
      const pay = freezeOffer({
        ...ctx.plan.pay,
        raw: {
          ...(ctx.plan.pay.raw as object),
          tempo: { ...offer.terms, action: 'topUp', channelId },
        },
      } satisfies PaymentOffer);
      const proof = await ctx.wallet.pay(pay, ctx.pay);
      const transaction = (proof.secret as { payload?: { transaction?: unknown } })?.payload
        ?.transaction;
      if (typeof transaction !== 'string' || !HEX.test(transaction)) {
        throw new StipendError(
          'PROOF_INVALID',
          'The wallet returned no signed top-up (Proof.secret.payload.transaction).',
        );
      }
      const cache = caches.get(ctx.session.id);
      if (cache) cache.deposit += ctx.plan.amount.value;
      return {
        headers: headers(
          offer.challenge,
          {
            action: 'topUp',
            type: 'transaction',
            channelId,
            transaction,
            descriptor: ctx.session.methodData.descriptor,
            additionalDeposit: ctx.plan.amount.value.toString(),
          },
          ctx.session,
        ),
        proof,
        methodData: { challenge: offer.challenge },
      };
    },

    async topUpAnswer(response) {
      if (response.status >= 200 && response.status < 300) {
        response.body?.cancel().catch(() => {});
        return { kind: 'credited' };
      }
      return { kind: 'refused', refusal: await classify(response, undefined) };
    },

    closeRequest(session: SessionRecord) {
      const cumulative = session.spentAtomic;
      const signature = voucherFor(session, cumulative);
      return {
        url: session.resource,
        method: 'GET',
        headers: headers(
          session.methodData.challenge as Record<string, string>,
          {
            action: 'close',
            channelId: session.methodData.channelId,
            descriptor: session.methodData.descriptor,
            cumulativeAmount: cumulative.toString(),
            signature,
          },
          session,
        ),
      };
    },

    async refund(session: SessionRecord, wallet: Wallet): Promise<RefundCheck> {
      const channels = channelWalletOf(wallet);
      const channelId = session.methodData.channelId;
      if (!channels || typeof channelId !== 'string') return { state: 'pending' };
      const closed = await channels.tempoChannels.closedRefund(channelId);
      if (!closed) return { state: 'pending' };
      caches.delete(session.id);
      return {
        state: 'confirmed',
        amount: amount(closed.refunded, session.methodData.unit as unknown as Unit),
      };
    },

    async refusal(response, input) {
      let fresh: SessionOffer | undefined;
      try {
        fresh = input ? read(input).offers[0] : undefined;
      } catch {
        fresh = undefined;
      }
      return classify(response, fresh);
    },

    receipt(response, session) {
      const receipt = parseReceipt(response.headers.get('payment-receipt'));
      const channelId = session.methodData.channelId;
      if (!receipt?.reference || typeof channelId !== 'string') return undefined;
      if (receipt.reference.toLowerCase() !== channelId.toLowerCase()) return undefined;
      // A claim (spent, acceptedCumulative): never used for money.
      return Object.freeze({ reference: receipt.reference, raw: receipt.raw });
    },
  };
}
