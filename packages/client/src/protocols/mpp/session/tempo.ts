/**
 * `tempoSessionMethod()`: MPP `tempo` sessions (draft-tempo-session-00, TIP-1034 payment
 * channels, `sessionProtocol: "v2"`) for the session manager. Open: the wallet signs a Tempo
 * transaction that opens a channel with the deposit (the server broadcasts it; that is when
 * the deposit moves) and the first cumulative voucher. Use: a voucher for the client's own
 * count (`spentAtomic`), never the server's. Top-up: a signed `topUp` transaction. Close: a
 * close credential with the last voucher; the refund is read from the escrow on chain (the
 * wallet's `closedRefund`), never from the server's receipt.
 *
 * Each use (and the close) signs its one voucher when it is sent, through the wallet, for the
 * session's count (`spentAtomic`, which already counts the use) or the highest voucher already
 * signed for the channel when that is higher (concurrent uses: the wallet serialises, so no
 * voucher sent is lower than one sent before it, and none passes the deposit).
 *
 * Restart survival: what signing needs (channel id, descriptor, escrow, chain, the highest
 * voucher known when the record was last written) is in the session's `methodData`, which the
 * durable stores keep; a new process with the same wallet key adopts the channel from it
 * (`tempoChannels.adopt`: the descriptor must name that key and hash to the channel id) and
 * keeps paying on it, or closes it.
 *
 * @module
 */
import { StipendError } from '../../../errors/base.js';
import type { Core } from '../../../fetch/core.js';
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
  SessionsConfig,
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
    /**
     * Signs (or repeats) the voucher for max(`cumulativeAmount`, the highest already signed for
     * the channel), serialised per channel; refuses past the deposit.
     */
    voucherAtLeast(
      channelId: string,
      cumulativeAmount: bigint,
    ): Promise<{ readonly cumulativeAmount: bigint; readonly signature: string }>;
    /** The channel as this wallet knows it (undefined in a new process until adopted). */
    channel(channelId: string): { readonly signed: bigint } | undefined;
    /** Takes a channel back after a restart (the wallet checks it names its own key). */
    adopt(channel: TempoChannelAdoption): void;
    closedRefund(channelId: string): Promise<{ refunded: bigint; settled: bigint } | undefined>;
    state(
      channelId: string,
    ): Promise<{ settled: bigint; deposit: bigint; closeRequestedAt: number }>;
  };
}

/** What a new process hands the wallet to adopt a stored channel (from the session record). */
export interface TempoChannelAdoption {
  readonly channelId: `0x${string}`;
  readonly chainId: number;
  readonly escrow: `0x${string}`;
  readonly descriptor: Readonly<Record<string, `0x${string}`>>;
  /** The deposit the client paid into it (the record's `depositAtomic`). */
  readonly deposit: bigint;
  /** The highest voucher known to be signed (the record's `methodData.voucherAtomic`). */
  readonly signed: bigint;
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
}

const HEX = /^0x[0-9a-fA-F]+$/;
/** mppx's words for a voucher below the highest it accepted (a concurrent one overtook it). */
const OVERTAKEN = /highest accepted voucher/i;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const DESCRIPTOR_FIELDS = [
  'payer',
  'payee',
  'operator',
  'token',
  'salt',
  'authorizedSigner',
  'expiringNonceHash',
] as const;

function channelWalletOf(wallet: Wallet): TempoChannelWallet | undefined {
  const c = (wallet as Partial<TempoChannelWallet>).tempoChannels;
  return c &&
    typeof c.voucherAtLeast === 'function' &&
    typeof c.channel === 'function' &&
    typeof c.adopt === 'function' &&
    typeof c.closedRefund === 'function' &&
    typeof c.state === 'function'
    ? (wallet as unknown as TempoChannelWallet)
    : undefined;
}

/** The channel a session names in its `methodData`, checked (a store is read back, not trusted blindly). */
function channelOf(session: SessionRecord): TempoChannelAdoption | string {
  const d = session.methodData;
  const descriptor = d.descriptor as Record<string, unknown> | undefined;
  if (typeof d.channelId !== 'string' || !BYTES32.test(d.channelId))
    return 'it names no channel id';
  if (typeof d.chainId !== 'number' || !Number.isSafeInteger(d.chainId) || d.chainId <= 0)
    return 'it names no chain id';
  if (typeof d.escrow !== 'string' || !ADDRESS.test(d.escrow)) return 'it names no escrow';
  if (typeof descriptor !== 'object' || descriptor === null) return 'it has no channel descriptor';
  for (const key of DESCRIPTOR_FIELDS) {
    const value = descriptor[key];
    if (typeof value !== 'string' || !HEX.test(value))
      return `its channel descriptor has no ${key}`;
  }
  const voucher = d.voucherAtomic;
  const signed =
    typeof voucher === 'string' && /^[0-9]{1,29}$/.test(voucher) ? BigInt(voucher) : 0n;
  return {
    channelId: d.channelId as `0x${string}`,
    chainId: d.chainId,
    escrow: d.escrow as `0x${string}`,
    descriptor: descriptor as Record<string, `0x${string}`>,
    deposit: session.depositAtomic,
    signed: signed <= session.depositAtomic ? signed : 0n,
  };
}

/**
 * Creates the `tempo` session method.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { tempoSessionMethod } from '@stipend/client/sessions';
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
  if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new StipendError(
      'CONFIG_INVALID',
      'tempoSessionMethod({ clockSkewMs }) must be ≥ 0 milliseconds.',
    );
  }
  if (maxNetworkFee < 0n || defaultUnits < 1n) {
    throw new StipendError(
      'CONFIG_INVALID',
      'tempoSessionMethod({ maxNetworkFee, defaultUnits }): maxNetworkFee ≥ 0, defaultUnits ≥ 1.',
    );
  }
  const escrows = new Set([TIP1034_ESCROW, ...(options.escrows ?? [])].map((e) => e.toLowerCase()));
  const tokens = new Map(Object.entries(options.tokens ?? {}));
  /**
   * The Tempo wallets this method has seen (the paying fetch's wallets, and any wallet it was
   * asked about), by id: a session names its wallet by id, and after a restart that is how the
   * method finds the signer of a stored channel.
   */
  const wallets = new Map<string, TempoChannelWallet>();

  function remember(wallet: Wallet): TempoChannelWallet | undefined {
    const channels = channelWalletOf(wallet);
    if (channels) wallets.set(wallet.id, channels);
    return channels;
  }

  function read(input: ChallengeInput) {
    return readTempoSessionOffers(input.challenges, input.url, input.now, {
      clockSkewMs,
      escrows,
      tokens,
    });
  }

  /**
   * The signer of a session's channel: its wallet (by id), which adopts the channel from the
   * record when it does not know it (a new process, or a restart).
   */
  function signerOf(
    session: SessionRecord,
    given?: TempoChannelWallet,
  ): { channels: TempoChannelWallet['tempoChannels']; channelId: string } {
    const wallet = given ?? wallets.get(session.walletId);
    if (!wallet) {
      throw new StipendError(
        'SIGNING_FAILED',
        `Tempo session ${session.id} was opened by wallet ${session.walletId}, which this paying fetch does not have: add that wallet (tempoSessionWallet with the same account) to createPayingFetch({ wallets }).`,
      );
    }
    const channel = channelOf(session);
    if (typeof channel === 'string') {
      throw new StipendError(
        'SIGNING_FAILED',
        `Tempo session ${session.id} cannot be signed for: its stored record is damaged (${channel}).`,
      );
    }
    if (!escrows.has(channel.escrow.toLowerCase())) {
      throw new StipendError(
        'SIGNING_FAILED',
        `Tempo session ${session.id} names escrow ${channel.escrow}, which is not pinned: pin it with tempoSessionMethod({ escrows: [...] }) to keep using it.`,
      );
    }
    if (!wallet.tempoChannels.channel(channel.channelId)) wallet.tempoChannels.adopt(channel);
    return { channels: wallet.tempoChannels, channelId: channel.channelId };
  }

  /** The voucher for a session's count (or the highest already signed), within its deposit. */
  async function voucherOf(session: SessionRecord) {
    const { channels, channelId } = signerOf(session);
    const counted = session.spentAtomic;
    if (counted > session.depositAtomic) {
      throw new StipendError(
        'OFFER_MISMATCH',
        `No voucher above the deposit (${counted} > ${session.depositAtomic}).`,
      );
    }
    const voucher = await channels.voucherAtLeast(channelId, counted);
    if (voucher.cumulativeAmount < counted || voucher.cumulativeAmount > session.depositAtomic) {
      throw new StipendError(
        'SIGNING_FAILED',
        `The wallet answered a voucher for ${voucher.cumulativeAmount}, outside ${counted}..${session.depositAtomic}; not sent.`,
      );
    }
    return { channelId, ...voucher };
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
        case 'verification-failed':
          // Concurrent uses: a higher voucher sent at the same time reached the server first
          // (mppx refuses a voucher below its highest). Sent again, the use carries a voucher
          // at least as high as every one signed so far; nothing beyond the count is signed.
          if (problem.detail && OVERTAKEN.test(problem.detail)) {
            return {
              kind: 'challenge' as const,
              ...withOffer,
              message: `a higher voucher sent at the same time reached the server first${said}`,
            };
          }
          return {
            kind: 'other' as const,
            message: `the server answered ${response.status} ${problem.name} to a session call${said}`,
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
    // The paying fetch's wallets are remembered when it is built, so a session stored before a
    // restart can be closed before any call (`payingFetch.sessions.close`).
    [SESSION_HOOKS]: (core: Core, config: SessionsConfig) => {
      for (const wallet of core.wallets) remember(wallet);
      return sessionHooks(core, config);
    },
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
      if (!remember(wallet)) {
        return `wallet ${wallet.id} cannot sign Tempo vouchers (use tempoSessionWallet from @stipend/wallet-evm)`;
      }
      return true;
    },

    async open(ctx: OpenContext): Promise<OpenResult> {
      const offer = ctx.offer as TempoSessionOffer;
      const wallet = remember(ctx.wallet);
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
      if (price > ctx.plan.amount.value) {
        throw new StipendError(
          'OFFER_MISMATCH',
          `The deposit ${ctx.plan.amount.value} is less than one unit (${price}).`,
        );
      }
      // The opening request is the first use: its voucher covers one unit.
      const first = await wallet.tempoChannels.voucherAtLeast(channelId, price);
      if (first.cumulativeAmount !== price) {
        throw new StipendError(
          'SIGNING_FAILED',
          `The wallet answered a first voucher for ${first.cumulativeAmount}, not one unit (${price}).`,
        );
      }
      const methodData = {
        challenge: offer.challenge,
        channelId,
        chainId: offer.terms.chainId,
        escrow: offer.terms.escrow,
        payer: wallet.tempoChannels.address,
        descriptor: payload.descriptor as Record<string, string>,
        unit: ctx.plan.amount.unit as unknown as Record<string, unknown>,
        voucherAtomic: price.toString(),
      };
      return {
        headers: headers(
          offer.challenge,
          {
            action: 'open',
            type: 'transaction',
            channelId,
            transaction: payload.transaction,
            signature: first.signature,
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

    async use(session: SessionRecord) {
      const voucher = await voucherOf(session);
      return headers(
        session.methodData.challenge as Record<string, string>,
        {
          action: 'voucher',
          channelId: voucher.channelId,
          descriptor: session.methodData.descriptor,
          cumulativeAmount: voucher.cumulativeAmount.toString(),
          signature: voucher.signature,
        },
        session,
      );
    },

    async topUp(ctx: TopUpContext): Promise<TopUpResult> {
      const offer = ctx.offer as TempoSessionOffer;
      const wallet = remember(ctx.wallet);
      if (!wallet) throw new StipendError('CONFIG_INVALID', this.supports(ctx.wallet) as string);
      // A channel opened before a restart is adopted first: the wallet tops up only its own.
      const { channels, channelId } = signerOf(ctx.session, wallet);
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
      const signed = channels.channel(channelId)?.signed;
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
        methodData: {
          challenge: offer.challenge,
          ...(signed !== undefined ? { voucherAtomic: signed.toString() } : {}),
        },
      };
    },

    async topUpAnswer(response) {
      if (response.status >= 200 && response.status < 300) {
        response.body?.cancel().catch(() => {});
        return { kind: 'credited' };
      }
      return { kind: 'refused', refusal: await classify(response, undefined) };
    },

    async closeRequest(session: SessionRecord) {
      // The close voucher: the count, or the highest voucher already sent when that is higher
      // (the server must be able to capture everything it accepted).
      const voucher = await voucherOf(session);
      return {
        url: session.resource,
        method: 'GET',
        headers: headers(
          session.methodData.challenge as Record<string, string>,
          {
            action: 'close',
            channelId: voucher.channelId,
            descriptor: session.methodData.descriptor,
            cumulativeAmount: voucher.cumulativeAmount.toString(),
            signature: voucher.signature,
          },
          session,
        ),
      };
    },

    async refund(session: SessionRecord, wallet: Wallet): Promise<RefundCheck> {
      const channels = remember(wallet);
      const channelId = session.methodData.channelId;
      if (!channels || typeof channelId !== 'string') return { state: 'pending' };
      // Adopted so the wallet reads the channel's own escrow (a pinned one), also after a restart.
      try {
        signerOf(session, channels);
      } catch {
        // A damaged record: the canonical escrow is read.
      }
      const closed = await channels.tempoChannels.closedRefund(channelId);
      if (!closed) return { state: 'pending' };
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
