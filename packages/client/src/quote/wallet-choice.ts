/**
 * Which wallet would pay an offer, balance-aware: the first wallet whose rails include the
 * offer's rail, whose `canPay` accepts it, and that is not provably short of funds. Check-only:
 * it asks `canPay` and `balance`, never `pay`. Meant as the one wallet finder for both a quote
 * and the paying path (`fetch/purchase.ts` `findWallet` can delegate to it).
 *
 * @module
 */
import { type PaymentOffer, railOf } from '../offer.js';
import type { Wallet } from '../wallet/wallet.js';
import { type ReadBalanceOptions, readBalance } from './balances.js';
import { canFund, type Funding, fundingOf, type OfferFunding } from './funding.js';

/** What {@link chooseWallet} found. */
export interface WalletChoice {
  /** The wallet that would pay; absent when none can. */
  readonly wallet?: Wallet;
  /** Why no wallet can pay (every wallet's reason), or why the chosen one can. */
  readonly reason: string;
  /** What the wallets that accepted the offer said about their funds. */
  readonly funding: OfferFunding;
}

/**
 * Finds the wallet that would pay `offer`. A wallet that accepts the offer but is provably
 * short of funds is skipped (the next wallet is asked); when every accepting wallet is short,
 * none is chosen and the reason says what each holds. A wallet whose `canPay` throws is
 * skipped with its message.
 *
 * @example
 * ```ts
 * import { chooseWallet } from './wallet-choice.js';
 *
 * const { wallet, reason } = await chooseWallet(wallets, offer, { timeoutMs: 2_000 });
 * if (!wallet) console.warn(`nothing would pay ${offer.id}: ${reason}`);
 * ```
 */
export async function chooseWallet(
  wallets: readonly Wallet[],
  offer: PaymentOffer,
  options: ReadBalanceOptions & {
    /**
     * Ask `balance` (default true). The paying path turns it off when the reading could not
     * change the choice (one offer, one wallet for its rail): the wallet refuses cleanly when
     * short, and a balance read costs a request to the node or chain on every purchase.
     */
    readonly balances?: boolean;
  } = {},
): Promise<WalletChoice> {
  const rail = railOf(offer);
  const reasons: string[] = [];
  const funding: Funding[] = [];
  for (const wallet of wallets) {
    if (!wallet.rails.includes(rail)) continue;
    let verdict: true | string;
    try {
      const answer = await wallet.canPay(offer);
      verdict = answer === true ? true : String(answer || 'it gave no reason');
    } catch (error) {
      verdict = `it failed its check: ${(error as Error | null)?.message ?? String(error)}`;
    }
    if (verdict !== true) {
      reasons.push(`${wallet.id}: ${verdict}`);
      continue;
    }
    if (options.balances === false) {
      return { wallet, reason: `${wallet.id} accepts it`, funding: fundingOf(offer, funding) };
    }
    const funds = canFund(offer, await readBalance(wallet, offer, options));
    funding.push(funds);
    if (funds.verdict === 'unfunded') {
      reasons.push(funds.reason);
      continue;
    }
    return { wallet, reason: funds.reason, funding: fundingOf(offer, funding) };
  }
  const reason = reasons.length > 0 ? reasons.join('; ') : `no wallet pays ${rail}`;
  return { reason, funding: fundingOf(offer, funding) };
}
