/**
 * TIP-1034 payment channels (MPP `tempo/session`, `sessionProtocol: "v2"`): the channel
 * descriptor and id, the cumulative EIP-712 voucher, and the signed Tempo (type 0x76)
 * transactions that open and top up a channel. Facts from the tempo-session spec and the
 * TIP-1034 interface (escrow ABI as viem ships it, `Abis.tip20ChannelReserve`); our own code.
 *
 * - Voucher domain: `{ name: "TIP20 Channel Reserve", version: "1", chainId, verifyingContract:
 *   escrow }`, type `Voucher(bytes32 channelId,uint96 cumulativeAmount)`.
 * - Channel id: `keccak256(abi.encode(payer, payee, operator, token, salt, authorizedSigner,
 *   expiringNonceHash, escrow, chainId))`; the expiring-nonce hash is
 *   `keccak256(encodeForSigning(openTx) || payer)`, so the id is known once the open
 *   transaction is signed, before it is broadcast.
 *
 * @module
 */
import {
  type Address,
  type Client,
  concat,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  type LocalAccount,
} from 'viem';
import { prepareTransactionRequest, signTransaction } from 'viem/actions';
import { Abis, Transaction } from 'viem/tempo';

/** The canonical TIP-1034 escrow (a Tempo precompile). */
export const TEMPO_CHANNEL_ESCROW = '0x4d50500000000000000000000000000000000000' as const;

/** The largest amount a TIP-1034 channel holds (`uint96`). */
export const UINT96_MAX = 2n ** 96n - 1n;

/** EIP-712 types of a TIP-1034 voucher. */
export const TEMPO_VOUCHER_TYPES = Object.freeze({
  Voucher: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'cumulativeAmount', type: 'uint96' },
  ],
} as const);

/** A TIP-1034 channel descriptor (what the escrow's calls take). */
export interface TempoChannelDescriptor {
  readonly payer: Address;
  readonly payee: Address;
  readonly operator: Address;
  readonly token: Address;
  readonly salt: Hex;
  readonly authorizedSigner: Address;
  readonly expiringNonceHash: Hex;
}

/**
 * The EIP-712 domain of vouchers for `escrow` on `chainId`.
 *
 * @example
 * ```ts
 * import { tempoVoucherDomain, TEMPO_CHANNEL_ESCROW } from '@stipend/wallet-evm';
 * const domain = tempoVoucherDomain(4217, TEMPO_CHANNEL_ESCROW);
 * ```
 */
export function tempoVoucherDomain(chainId: number, escrow: Address) {
  return {
    name: 'TIP20 Channel Reserve',
    version: '1',
    chainId,
    verifyingContract: getAddress(escrow),
  } as const;
}

/**
 * The id of a channel (TIP-1034 `computeChannelId`).
 *
 * @example
 * ```ts
 * import { tempoChannelId } from '@stipend/wallet-evm';
 * const id = tempoChannelId(descriptor, 4217, '0x4d50500000000000000000000000000000000000');
 * ```
 */
export function tempoChannelId(d: TempoChannelDescriptor, chainId: number, escrow: Address): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'address' },
        { type: 'address' },
        { type: 'address' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'address' },
        { type: 'bytes32' },
        { type: 'address' },
        { type: 'uint256' },
      ],
      [
        d.payer,
        d.payee,
        d.operator,
        d.token,
        d.salt,
        d.authorizedSigner,
        d.expiringNonceHash,
        escrow,
        BigInt(chainId),
      ],
    ),
  );
}

/** What opening or topping up signs. */
export interface SignedChannelTransaction {
  /** The signed Tempo transaction (0x76…), for the server to broadcast. */
  readonly transaction: Hex;
  /** Its hash: the reference a chain lookup finds it by. */
  readonly hash: Hex;
  /** The most the transaction can cost in fees, in fee-token base units (rounded up). */
  readonly maxFee: bigint;
  /** Unix seconds after which the transaction can never be mined (its expiring nonce), when set. */
  readonly validBefore?: number;
}

/** A signed channel opening. */
export interface SignedChannelOpen extends SignedChannelTransaction {
  readonly descriptor: TempoChannelDescriptor;
  readonly channelId: Hex;
}

/** The fee cap of a prepared Tempo transaction: gas × maxFeePerGas, attodollars → 6 decimals. */
function maxFeeOf(prepared: { gas?: bigint; maxFeePerGas?: bigint }): bigint {
  const atto = (prepared.gas ?? 0n) * (prepared.maxFeePerGas ?? 0n);
  return (atto + 10n ** 12n - 1n) / 10n ** 12n;
}

async function signCall(
  client: Client,
  account: LocalAccount,
  call: { to: Address; data: Hex },
  feeToken: Address,
): Promise<{ transaction: Hex; maxFee: bigint; validBefore?: number }> {
  // Session management transactions use TIP-1009 expiring nonces (as the spec's clients do):
  // independent, short-lived, replay-protected by hash.
  const prepared = await prepareTransactionRequest(client, {
    account,
    calls: [call],
    nonceKey: 'expiring',
    feeToken,
  } as never);
  const transaction = (await signTransaction(client, prepared as never)) as Hex;
  const validBefore = (prepared as { validBefore?: unknown }).validBefore;
  return {
    transaction,
    maxFee: maxFeeOf(prepared as { gas?: bigint; maxFeePerGas?: bigint }),
    ...(typeof validBefore === 'number' ? { validBefore } : {}),
  };
}

/**
 * `keccak256(encodeForSigning(tx) || sender)`: TIP-1034's expiring-nonce hash of a signed Tempo
 * `transaction` (a fee payer's co-signature is left out, as the node does).
 *
 * @example
 * ```ts
 * import { expiringNonceHashOf } from '@stipend/wallet-evm';
 * const hash = await expiringNonceHashOf(signedOpenTx, payerAddress);
 * ```
 */
export async function expiringNonceHashOf(transaction: Hex, sender: Address): Promise<Hex> {
  const tx = Transaction.deserialize(transaction as never) as Record<string, unknown>;
  const unsigned = (await Transaction.serialize({
    ...tx,
    signature: undefined,
    ...(tx.feePayerSignature !== undefined ? { feePayerSignature: null } : {}),
  } as never)) as Hex;
  return keccak256(concat([unsigned, sender]));
}

/**
 * Signs a channel opening: `escrow.open(payee, operator, token, deposit, salt, signer)` in a
 * Tempo transaction from `account`, fees paid in `feeToken`. Nothing is broadcast.
 *
 * @example
 * ```ts
 * import { signTempoChannelOpen } from '@stipend/wallet-evm';
 * const opened = await signTempoChannelOpen(client, account, {
 *   chainId: 4217, escrow, payee, token, deposit: 1_000_000n, feeToken: token,
 * });
 * ```
 */
export async function signTempoChannelOpen(
  client: Client,
  account: LocalAccount,
  p: {
    readonly chainId: number;
    readonly escrow: Address;
    readonly payee: Address;
    readonly token: Address;
    readonly deposit: bigint;
    readonly feeToken: Address;
    readonly operator?: Address;
    readonly salt: Hex;
  },
): Promise<SignedChannelOpen> {
  if (p.deposit <= 0n || p.deposit > UINT96_MAX) {
    throw new RangeError(`deposit ${p.deposit} is outside 1..2^96-1`);
  }
  const operator = p.operator ?? '0x0000000000000000000000000000000000000000';
  const data = encodeFunctionData({
    abi: Abis.tip20ChannelReserve,
    functionName: 'open',
    args: [p.payee, operator, p.token, p.deposit, p.salt, account.address],
  } as never);
  const { transaction, maxFee, validBefore } = await signCall(
    client,
    account,
    { to: p.escrow, data },
    p.feeToken,
  );
  const descriptor: TempoChannelDescriptor = {
    payer: getAddress(account.address),
    payee: getAddress(p.payee),
    operator: getAddress(operator),
    token: getAddress(p.token),
    salt: p.salt,
    authorizedSigner: getAddress(account.address),
    expiringNonceHash: await expiringNonceHashOf(transaction, account.address),
  };
  return {
    transaction,
    hash: keccak256(transaction),
    maxFee,
    ...(validBefore !== undefined ? { validBefore } : {}),
    descriptor,
    channelId: tempoChannelId(descriptor, p.chainId, p.escrow),
  };
}

/**
 * Signs a top-up: `escrow.topUp(descriptor, additionalDeposit)` in a Tempo transaction.
 *
 * @example
 * ```ts
 * import { signTempoChannelTopUp } from '@stipend/wallet-evm';
 * const signed = await signTempoChannelTopUp(client, account, { escrow, descriptor, additionalDeposit: 500_000n, feeToken });
 * ```
 */
export async function signTempoChannelTopUp(
  client: Client,
  account: LocalAccount,
  p: {
    readonly escrow: Address;
    readonly descriptor: TempoChannelDescriptor;
    readonly additionalDeposit: bigint;
    readonly feeToken: Address;
  },
): Promise<SignedChannelTransaction> {
  if (p.additionalDeposit <= 0n || p.additionalDeposit > UINT96_MAX) {
    throw new RangeError(`top-up ${p.additionalDeposit} is outside 1..2^96-1`);
  }
  const data = encodeFunctionData({
    abi: Abis.tip20ChannelReserve,
    functionName: 'topUp',
    args: [p.descriptor, p.additionalDeposit],
  } as never);
  const { transaction, maxFee, validBefore } = await signCall(
    client,
    account,
    { to: p.escrow, data },
    p.feeToken,
  );
  return {
    transaction,
    hash: keccak256(transaction),
    maxFee,
    ...(validBefore !== undefined ? { validBefore } : {}),
  };
}

/**
 * Signs one cumulative voucher (EIP-712). Low level: {@link tempoChannelSigner} adds the rules
 * (monotonic, within the deposit, one signer per channel).
 *
 * @example
 * ```ts
 * import { signTempoVoucher } from '@stipend/wallet-evm';
 * const signature = await signTempoVoucher(account, { chainId, escrow, channelId, cumulativeAmount: 20_000n });
 * ```
 */
export async function signTempoVoucher(
  account: Pick<LocalAccount, 'signTypedData'>,
  v: {
    readonly chainId: number;
    readonly escrow: Address;
    readonly channelId: Hex;
    readonly cumulativeAmount: bigint;
  },
): Promise<Hex> {
  if (v.cumulativeAmount < 0n || v.cumulativeAmount > UINT96_MAX) {
    throw new RangeError(`voucher amount ${v.cumulativeAmount} is outside 0..2^96-1`);
  }
  return account.signTypedData({
    domain: tempoVoucherDomain(v.chainId, v.escrow),
    types: TEMPO_VOUCHER_TYPES,
    primaryType: 'Voucher',
    message: { channelId: v.channelId, cumulativeAmount: v.cumulativeAmount },
  });
}
