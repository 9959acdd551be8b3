/**
 * `tempoSessionWallet`: the wallet side of MPP `tempo/session` (TIP-1034 channels). It signs
 * the Tempo transactions that open and top up a channel (the server broadcasts them: that is
 * when the deposit moves), and the cumulative vouchers each call carries. It reads the escrow
 * to confirm what a close refunded (chain facts, never the server's receipt).
 *
 * Voucher rules, per channel, enforced here whatever the caller asks: a voucher is signed only
 * for a channel this wallet opened (or adopted after a restart) with this account as its one
 * signer; amounts never go down (monotonic) and never pass the channel's deposit.
 *
 * @module
 */
import {
  type Amount,
  type PayContext,
  type PaymentOffer,
  type Proof,
  type StipendErrorCode,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { type Address, type Client, getAddress, type Hex, type LocalAccount } from 'viem';
import { getContractEvents, readContract } from 'viem/actions';
import { Abis } from 'viem/tempo';
import {
  type SignedChannelOpen,
  signTempoChannelOpen,
  signTempoChannelTopUp,
  signTempoVoucher,
  TEMPO_CHANNEL_ESCROW,
  type TempoChannelDescriptor,
  tempoChannelId,
  UINT96_MAX,
} from './tempo-channel.js';

/** The rail of MPP `tempo` sessions. */
export const TEMPO_SESSION_RAIL = 'mpp:tempo.session';

/**
 * What a session deposit offer carries in `raw.tempo` (built by `@stipend/client/mpp`'s
 * `tempoSessionMethod`): the channel terms the wallet signs, checked against the offer.
 */
export interface TempoDepositTerms {
  readonly action: 'open' | 'topUp';
  readonly chainId: number;
  readonly escrow: string;
  readonly token: string;
  readonly payee: string;
  readonly feeToken: string;
  /** For a top-up: the channel. */
  readonly channelId?: string;
}

/** A channel as this wallet knows it (secret-free; a restart re-adopts it from the session store). */
export interface TempoChannel {
  readonly channelId: Hex;
  readonly chainId: number;
  readonly escrow: Address;
  readonly descriptor: TempoChannelDescriptor;
  /** Every deposit this wallet signed for the channel (opening + top-ups). */
  readonly deposit: bigint;
  /** The highest voucher amount signed. */
  readonly signed: bigint;
}

/** The channel operations a `tempoSessionWallet` offers beyond `pay`. */
export interface TempoChannelSigner {
  /** The payer and voucher signer. */
  readonly address: Address;
  /** Signs the cumulative voucher `cumulativeAmount` for `channelId` (rules in the module doc). */
  voucher(channelId: string, cumulativeAmount: bigint): Promise<Hex>;
  /**
   * The voucher to send for a use counted at `cumulativeAmount`: the highest of that amount and
   * every voucher already signed for the channel, so concurrent callers never send a lower
   * amount than one already sent. A new signature only when the amount is higher than the
   * highest signed; otherwise the highest voucher again (its signature reused, or re-signed
   * after a restart: EIP-712 signatures of a local account are deterministic). Never above the
   * channel's deposit.
   */
  voucherAtLeast(
    channelId: string,
    cumulativeAmount: bigint,
  ): Promise<{ readonly cumulativeAmount: bigint; readonly signature: Hex }>;
  /** The channel as known here, or undefined. */
  channel(channelId: string): TempoChannel | undefined;
  /**
   * Takes back a channel after a restart (its descriptor must name this signer and hash to its
   * id). A channel already known here keeps its own deposit (what this wallet signed) and the
   * higher of the two highest vouchers.
   */
  adopt(channel: TempoChannel): void;
  /** The escrow's state of a channel (zeros once closed). */
  state(channelId: string): Promise<{ settled: bigint; deposit: bigint; closeRequestedAt: number }>;
  /** What a close paid back to the payer, read from the escrow's `ChannelClosed` event. */
  closedRefund(channelId: string): Promise<{ refunded: bigint; settled: bigint } | undefined>;
}

/** Options of {@link tempoSessionWallet}. */
export interface TempoSessionWalletOptions {
  /** The payer: a viem local account (it signs Tempo transactions and vouchers). */
  readonly account: LocalAccount;
  /** A viem client on the Tempo chain (it prepares transactions and reads the escrow). */
  readonly client: Client;
  /**
   * Escrows this wallet opens channels on. Default: only the canonical TIP-1034 precompile
   * `0x4d50500000000000000000000000000000000000`.
   */
  readonly escrows?: readonly string[];
  /** The most one open or top-up may cost in fees, fee-token base units. Default 50 000 ($0.05). */
  readonly maxNetworkFee?: bigint;
  /** The wallet's id in records. Default `tempo:<address>`. */
  readonly id?: string;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/**
 * Creates the wallet that pays MPP `tempo` sessions (rail `mpp:tempo.session`).
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { tempoSessionMethod } from '@stipend/client/sessions';
 * import { tempoSessionWallet } from '@stipend/wallet-evm';
 * import { createClient, http } from 'viem';
 * import { privateKeyToAccount } from 'viem/accounts';
 * import { tempo } from 'viem/chains';
 *
 * const wallet = tempoSessionWallet({
 *   account: privateKeyToAccount(process.env.PAYER_KEY as `0x${string}`),
 *   client: createClient({ chain: tempo, transport: http() }),
 * });
 * const payingFetch = createPayingFetch({ wallets: [wallet], sessions: { methods: [tempoSessionMethod()] } });
 * ```
 */
export function tempoSessionWallet(
  options: TempoSessionWalletOptions,
): Wallet & { readonly tempoChannels: TempoChannelSigner } {
  const { account, client } = options;
  const address = getAddress(account.address);
  const id = options.id ?? `tempo:${address}`;
  const escrows = new Set(
    (options.escrows ?? [TEMPO_CHANNEL_ESCROW]).map((e) => getAddress(e).toLowerCase()),
  );
  const maxNetworkFee = options.maxNetworkFee ?? 50_000n;
  const channels = new Map<string, TempoChannel>();
  /** Signed open/top-up transactions by hash: until when each could still be mined (s). */
  const validBefore = new Map<string, number | undefined>();
  /** Voucher signing per channel is serialised so "monotonic" holds under concurrency. */
  const chains = new Map<string, Promise<unknown>>();
  /** The signature of each channel's highest voucher (memory only: never in a record). */
  const highest = new Map<string, { readonly amount: bigint; readonly signature: Hex }>();

  const fail = (message: string, code: StipendErrorCode, paid = false) =>
    new WalletError({ walletId: id, message, paid, code });

  function termsOf(offer: PaymentOffer): TempoDepositTerms | string {
    if (`${offer.protocol}:${offer.scheme}` !== TEMPO_SESSION_RAIL) {
      return `this wallet pays ${TEMPO_SESSION_RAIL} only, not ${offer.protocol}:${offer.scheme}`;
    }
    const t = (offer.raw as { tempo?: TempoDepositTerms } | undefined)?.tempo;
    if (!t || (t.action !== 'open' && t.action !== 'topUp')) {
      return 'the offer carries no tempo channel terms (raw.tempo)';
    }
    for (const key of ['escrow', 'token', 'payee', 'feeToken'] as const) {
      if (typeof t[key] !== 'string' || !ADDRESS.test(t[key]))
        return `raw.tempo.${key} is not an address`;
    }
    if (!Number.isSafeInteger(t.chainId) || t.chainId <= 0)
      return 'raw.tempo.chainId is not a chain id';
    if (client.chain?.id !== t.chainId) {
      return `the offer is on chain ${t.chainId}, this wallet's client is on ${client.chain?.id ?? 'no chain'}`;
    }
    if (!escrows.has(t.escrow.toLowerCase())) {
      return (
        `escrow ${t.escrow} is not one this wallet opens channels on (only the canonical ` +
        'TIP-1034 escrow by default: pass tempoSessionWallet({ escrows }) to pin another)'
      );
    }
    if (offer.network !== `eip155:${t.chainId}`)
      return `offer network ${offer.network} is not eip155:${t.chainId}`;
    if (offer.asset?.toLowerCase() !== t.token.toLowerCase())
      return 'offer asset and raw.tempo.token differ';
    if (offer.payee.toLowerCase() !== t.payee.toLowerCase())
      return 'offer payee and raw.tempo.payee differ';
    if (offer.amount.value <= 0n || offer.amount.value > UINT96_MAX)
      return 'the deposit is outside 1..2^96-1';
    if (t.action === 'topUp') {
      const known =
        typeof t.channelId === 'string' ? channels.get(t.channelId.toLowerCase()) : undefined;
      if (!known) return `channel ${t.channelId} was not opened by this wallet`;
      if (known.escrow.toLowerCase() !== t.escrow.toLowerCase() || known.chainId !== t.chainId) {
        return 'the top-up names another escrow or chain than the channel';
      }
      if (known.deposit + offer.amount.value > UINT96_MAX) return 'the top-up would pass 2^96-1';
    }
    return t;
  }

  function feeAmount(offer: PaymentOffer, fee: bigint): Amount {
    return { value: fee, unit: offer.amount.unit };
  }

  async function openChannel(offer: PaymentOffer, t: TempoDepositTerms): Promise<Proof> {
    const salt = `0x${[...crypto.getRandomValues(new Uint8Array(32))]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')}` as Hex;
    let signed: SignedChannelOpen;
    try {
      signed = await signTempoChannelOpen(client, account, {
        chainId: t.chainId,
        escrow: getAddress(t.escrow),
        payee: getAddress(t.payee),
        token: getAddress(t.token),
        deposit: offer.amount.value,
        feeToken: getAddress(t.feeToken),
        salt,
      });
    } catch (error) {
      throw fail(
        `Could not sign the channel opening: ${(error as Error).message}`,
        'SIGNING_FAILED',
      );
    }
    if (signed.maxFee > maxNetworkFee) {
      throw fail(
        `The opening could cost ${signed.maxFee} in fees, above maxNetworkFee ${maxNetworkFee}; nothing was sent (raise tempoSessionWallet({ maxNetworkFee }) to allow it).`,
        'OFFER_MISMATCH',
      );
    }
    channels.set(signed.channelId.toLowerCase(), {
      channelId: signed.channelId,
      chainId: t.chainId,
      escrow: getAddress(t.escrow),
      descriptor: signed.descriptor,
      deposit: offer.amount.value,
      signed: 0n,
    });
    validBefore.set(signed.hash, signed.validBefore);
    return {
      offerId: offer.id,
      reference: signed.hash,
      settlement: 'authorization',
      ...(signed.validBefore !== undefined ? { validUntil: signed.validBefore * 1000 } : {}),
      paid: offer.amount,
      fee: feeAmount(offer, signed.maxFee),
      secret: {
        payload: {
          transaction: signed.transaction,
          descriptor: signed.descriptor,
          channelId: signed.channelId,
        },
      },
    };
  }

  async function topUpChannel(offer: PaymentOffer, t: TempoDepositTerms): Promise<Proof> {
    const known = channels.get(String(t.channelId).toLowerCase())!;
    let signed: Awaited<ReturnType<typeof signTempoChannelTopUp>>;
    try {
      signed = await signTempoChannelTopUp(client, account, {
        escrow: known.escrow,
        descriptor: known.descriptor,
        additionalDeposit: offer.amount.value,
        feeToken: getAddress(t.feeToken),
      });
    } catch (error) {
      throw fail(`Could not sign the top-up: ${(error as Error).message}`, 'SIGNING_FAILED');
    }
    if (signed.maxFee > maxNetworkFee) {
      throw fail(
        `The top-up could cost ${signed.maxFee} in fees, above maxNetworkFee ${maxNetworkFee}; nothing was sent.`,
        'OFFER_MISMATCH',
      );
    }
    // The deposit bound grows with what was signed: a voucher can never move more than the
    // escrow holds on chain, and the top-up can land as soon as the server broadcasts it.
    channels.set(known.channelId.toLowerCase(), {
      ...known,
      deposit: known.deposit + offer.amount.value,
    });
    validBefore.set(signed.hash, signed.validBefore);
    return {
      offerId: offer.id,
      reference: signed.hash,
      settlement: 'authorization',
      ...(signed.validBefore !== undefined ? { validUntil: signed.validBefore * 1000 } : {}),
      paid: offer.amount,
      fee: feeAmount(offer, signed.maxFee),
      secret: { payload: { transaction: signed.transaction, channelId: known.channelId } },
    };
  }

  /** Runs `run` after every earlier voucher request of the channel (call order). */
  function serialised<T>(channelId: string, run: (key: string) => Promise<T>): Promise<T> {
    const key = channelId.toLowerCase();
    const go = () => run(key);
    const next = (chains.get(key) ?? Promise.resolve()).then(go, go);
    chains.set(
      key,
      next.catch(() => {}),
    );
    return next;
  }

  /** The channel a voucher is asked for, refused when unknown or when `amount` passes its deposit. */
  function knownFor(key: string, channelId: string, amount: bigint): TempoChannel {
    const known = channels.get(key);
    if (!known) {
      throw fail(
        `No voucher for channel ${channelId}: this wallet did not open it (nor adopt it after a restart).`,
        'OFFER_MISMATCH',
      );
    }
    if (amount > known.deposit) {
      throw fail(
        `Refusing a voucher for ${amount}: the channel's deposit is ${known.deposit}.`,
        'OFFER_MISMATCH',
      );
    }
    return known;
  }

  /** Signs `amount` (≥ the highest signed, ≤ the deposit: checked by the callers) and records it. */
  async function sign(key: string, known: TempoChannel, amount: bigint): Promise<Hex> {
    const signature = await signTempoVoucher(account, {
      chainId: known.chainId,
      escrow: known.escrow,
      channelId: known.channelId,
      cumulativeAmount: amount,
    });
    const now = channels.get(key)!;
    if (amount >= now.signed) {
      channels.set(key, { ...now, signed: amount });
      highest.set(key, { amount, signature });
    }
    return signature;
  }

  const signer: TempoChannelSigner = {
    address,
    channel: (channelId) => channels.get(channelId.toLowerCase()),
    adopt(channel) {
      if (
        getAddress(channel.descriptor.authorizedSigner) !== address ||
        getAddress(channel.descriptor.payer) !== address
      ) {
        throw fail(
          `Channel ${channel.channelId} is not signed by ${address}; not adopted.`,
          'CONFIG_INVALID',
        );
      }
      if (
        tempoChannelId(channel.descriptor, channel.chainId, channel.escrow).toLowerCase() !==
        channel.channelId.toLowerCase()
      ) {
        throw fail(
          `Channel ${channel.channelId} does not match its descriptor; not adopted.`,
          'CONFIG_INVALID',
        );
      }
      if (!escrows.has(channel.escrow.toLowerCase())) {
        throw fail(
          `Channel ${channel.channelId} is on escrow ${channel.escrow}, which this wallet does not use (pin it with tempoSessionWallet({ escrows })); not adopted.`,
          'CONFIG_INVALID',
        );
      }
      if (channel.signed < 0n || channel.signed > channel.deposit || channel.deposit > UINT96_MAX) {
        throw fail(
          `Channel ${channel.channelId}: its highest voucher ${channel.signed} is not within its deposit ${channel.deposit}; not adopted.`,
          'CONFIG_INVALID',
        );
      }
      const key = channel.channelId.toLowerCase();
      const known = channels.get(key);
      channels.set(key, {
        ...(known ?? channel),
        signed: known && known.signed > channel.signed ? known.signed : channel.signed,
      });
    },
    voucher(channelId, cumulativeAmount) {
      return serialised(channelId, async (key) => {
        const known = knownFor(key, channelId, cumulativeAmount);
        if (cumulativeAmount < known.signed) {
          throw fail(
            `Refusing a voucher for ${cumulativeAmount}: ${known.signed} was already signed (vouchers are cumulative and never go down).`,
            'OFFER_MISMATCH',
          );
        }
        return sign(key, known, cumulativeAmount);
      });
    },
    voucherAtLeast(channelId, cumulativeAmount) {
      return serialised(channelId, async (key) => {
        const known = knownFor(key, channelId, cumulativeAmount);
        // Never below a voucher already signed (bigint: no Math.max).
        let target = known.signed;
        if (cumulativeAmount > target) target = cumulativeAmount;
        const last = highest.get(key);
        const signature =
          last && last.amount === target ? last.signature : await sign(key, known, target);
        return { cumulativeAmount: target, signature };
      });
    },
    async state(channelId) {
      const known = channels.get(channelId.toLowerCase());
      const escrow = known?.escrow ?? TEMPO_CHANNEL_ESCROW;
      const state = (await readContract(client, {
        address: escrow,
        abi: Abis.tip20ChannelReserve,
        functionName: 'getChannelState',
        args: [channelId as Hex],
      } as never)) as { settled: bigint; deposit: bigint; closeRequestedAt: number };
      return {
        settled: state.settled,
        deposit: state.deposit,
        closeRequestedAt: Number(state.closeRequestedAt),
      };
    },
    async closedRefund(channelId) {
      const known = channels.get(channelId.toLowerCase());
      const escrow = known?.escrow ?? TEMPO_CHANNEL_ESCROW;
      const events = (await getContractEvents(client, {
        address: escrow,
        abi: Abis.tip20ChannelReserve,
        eventName: 'ChannelClosed',
        args: { channelId: channelId as Hex },
        fromBlock: 0n,
      } as never)) as unknown as {
        args: { payer: string; settledToPayee: bigint; refundedToPayer: bigint };
      }[];
      const mine = events.filter((e) => getAddress(e.args.payer) === address);
      if (mine.length !== 1) return undefined;
      return { refunded: mine[0]!.args.refundedToPayer, settled: mine[0]!.args.settledToPayee };
    },
  };

  return {
    id,
    rails: [TEMPO_SESSION_RAIL],
    tempoChannels: signer,
    canPay(offer) {
      const t = termsOf(offer);
      return typeof t === 'string' ? t : true;
    },
    payeeOf(offer) {
      const t = termsOf(offer);
      return typeof t === 'string' ? offer.payee : getAddress(t.payee);
    },
    /**
     * Whether a signed opening or top-up (by transaction hash) moved the deposit: mined and
     * successful = paid; reverted, or never mined before its expiring nonce ran out (chain
     * time) = failed; otherwise pending.
     */
    async lookup(reference) {
      if (!/^0x[0-9a-fA-F]{64}$/.test(reference)) return 'pending';
      const receipt = (await client.request({
        method: 'eth_getTransactionReceipt',
        params: [reference as Hex],
      } as never)) as { status?: string } | null;
      if (receipt) return receipt.status === '0x1' ? 'paid' : 'failed';
      const until = validBefore.get(reference.toLowerCase()) ?? validBefore.get(reference);
      if (until === undefined) return 'pending';
      const block = (await client.request({
        method: 'eth_getBlockByNumber',
        params: ['latest', false],
      } as never)) as {
        timestamp?: string;
      } | null;
      const chainNow = block?.timestamp ? Number(BigInt(block.timestamp)) : undefined;
      return chainNow !== undefined && chainNow >= until ? 'failed' : 'pending';
    },

    async pay(offer: PaymentOffer, context: PayContext): Promise<Proof> {
      if (context.signal?.aborted) {
        throw fail('The payment was aborted before signing; nothing was signed.', 'ABORTED');
      }
      const t = termsOf(offer);
      if (typeof t === 'string') throw fail(`Refusing to sign: ${t}.`, 'OFFER_MISMATCH');
      return t.action === 'open' ? openChannel(offer, t) : topUpChannel(offer, t);
    },
  };
}

/**
 * Whether a value is a wallet with tempo channel operations (`tempoSessionWallet`): decided on
 * shape, never `instanceof`.
 *
 * @example
 * ```ts
 * import { isTempoChannelWallet } from '@stipend/wallet-evm';
 * if (isTempoChannelWallet(wallet)) await wallet.tempoChannels.state(channelId);
 * ```
 */
export function isTempoChannelWallet(
  wallet: unknown,
): wallet is { readonly tempoChannels: TempoChannelSigner } {
  const s = (wallet as { tempoChannels?: Partial<TempoChannelSigner> } | undefined)?.tempoChannels;
  return (
    typeof s?.voucher === 'function' &&
    typeof s.voucherAtLeast === 'function' &&
    typeof s.adopt === 'function' &&
    typeof s.state === 'function'
  );
}
