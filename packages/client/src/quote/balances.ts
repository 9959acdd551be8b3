/**
 * Reading what a wallet holds, at the boundary: the wallet's optional `balance` is called with
 * a deadline, and its answer is checked (an `Amount` of a valid unit, a bigint value) before it
 * is believed. Anything else reads as "unknown", never as "funded" or "unfunded".
 *
 * Wallets are read by shape (`Wallet.balance` is optional), so a wallet that has it is asked
 * and one that has not is "unknown".
 *
 * @module
 */
import { withDeadline } from '../internal/deadline.js';
import type { Amount } from '../money/unit.js';
import { amount as checkedAmount } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import type { Wallet } from '../wallet/wallet.js';
import type { BalanceReading } from './funding.js';

/** How long a wallet may take to say what it holds, by default (ms). */
export const DEFAULT_BALANCE_TIMEOUT_MS = 5_000;

/** `Wallet.balance`, as it may be met at run time (a plain value is accepted too). */
type BalanceMethod = (
  offer: PaymentOffer,
  options: { readonly signal: AbortSignal },
) => Promise<Amount | undefined> | Amount | undefined;

/** Options of {@link readBalance}. */
export interface ReadBalanceOptions {
  /** Deadline of the wallet's answer, ms. Default {@link DEFAULT_BALANCE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Aborts the read (the reading is then "unknown"). */
  readonly signal?: AbortSignal;
}

/**
 * Asks one wallet what it holds to pay one offer, under a deadline. Never throws: a wallet
 * without `balance`, one that fails, answers late or answers with something that is not an
 * amount gives a reading without a balance and a secret-free reason.
 *
 * @example
 * ```ts
 * import { readBalance } from './balances.js';
 * import { canFund } from './funding.js';
 *
 * const funding = canFund(offer, await readBalance(wallet, offer, { timeoutMs: 2_000 }));
 * ```
 */
export async function readBalance(
  wallet: Wallet,
  offer: PaymentOffer,
  options: ReadBalanceOptions = {},
): Promise<BalanceReading> {
  const walletId = wallet.id;
  const method = (wallet as { balance?: unknown }).balance;
  if (typeof method !== 'function') {
    return { walletId, why: 'it does not report balances' };
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_BALANCE_TIMEOUT_MS;
  let answer: unknown;
  try {
    answer = await withDeadline(
      async ({ signal }) => (method as BalanceMethod).call(wallet, offer, { signal }),
      timeoutMs,
      `Wallet ${walletId}'s balance`,
      options.signal,
    );
  } catch (error) {
    return { walletId, why: `its balance could not be read (${textOf(error)})` };
  }
  if (answer === undefined) return { walletId, why: 'it does not know its balance for this offer' };
  const value = (answer as { value?: unknown } | null)?.value;
  const unit = (answer as { unit?: unknown } | null)?.unit;
  try {
    return { walletId, balance: checkedAmount(value as bigint, unit as Amount['unit']) };
  } catch (error) {
    return { walletId, why: `its balance is not a valid amount (${textOf(error)})` };
  }
}

function textOf(error: unknown): string {
  const short = (error as { shortMessage?: unknown } | null)?.shortMessage;
  const text = typeof short === 'string' ? short : (error as Error | null)?.message;
  return (typeof text === 'string' ? text : String(error)).slice(0, 200);
}
