import { describe, expect, it } from 'vitest';
import { amount, fiatUnit, msat, msatUnit, type TokenUnit } from '../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../offer.js';
import type { OfferEvaluation } from '../policy/checks.js';
import type { Wallet } from '../wallet/wallet.js';
import { readBalance } from './balances.js';
import { canFund, fundingOf, skipUnfunded } from './funding.js';
import { chooseWallet } from './wallet-choice.js';

const USDC: TokenUnit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};

function offer(value: bigint, extra: Partial<PaymentOffer> = {}): PaymentOffer {
  return freezeOffer({
    id: `o${value}`,
    protocol: 'x402',
    scheme: 'exact',
    amount: amount(value, USDC),
    payee: '0xpayee',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/x',
    reusable: false,
    raw: {},
    ...extra,
  });
}

function wallet(id: string, balance: unknown, extra: Partial<Wallet> = {}): Wallet {
  return {
    id,
    rails: ['x402:exact', 'l402:bolt11'],
    canPay: () => true,
    pay: () => {
      throw new Error('a funding check must never pay');
    },
    ...(balance === 'none' ? {} : { balance: async () => balance }),
    ...extra,
  } as Wallet;
}

describe('canFund', () => {
  it('a balance below the amount is unfunded, with both amounts in the reason', () => {
    const result = canFund(offer(1_000n), { walletId: 'w', balance: amount(999n, USDC) });
    expect(result.verdict).toBe('unfunded');
    expect(result.reason).toBe(
      'wallet w holds 0.000999 USDC, the offer needs 0.001 USDC; fund the wallet or choose another offer',
    );
    expect(canFund(offer(1_000n), { walletId: 'w', balance: amount(1_000n, USDC) }).verdict).toBe(
      'funded',
    );
  });

  it('the maximum fee in the same unit counts toward what is needed', () => {
    const lightning = offer(0n, { amount: msat(100_000n), maxFee: msat(11_000n) });
    expect(canFund(lightning, { walletId: 'ln', balance: msat(110_000n) }).verdict).toBe(
      'unfunded',
    );
    expect(canFund(lightning, { walletId: 'ln', balance: msat(111_000n) }).verdict).toBe('funded');
  });

  it('a balance in another unit is never compared (unknown, not unfunded)', () => {
    const sixDecimals = canFund(offer(1_000n), {
      walletId: 'w',
      balance: amount(5n, { ...USDC, decimals: 18 }),
    });
    expect(sixDecimals.verdict).toBe('unknown');
    expect(
      canFund(offer(1_000n), { walletId: 'w', balance: amount(1n, fiatUnit('USD')) }).verdict,
    ).toBe('unknown');
  });

  it('no balance reads as unknown, never as unfunded', () => {
    expect(canFund(offer(1n), { walletId: 'w', why: 'it does not report balances' }).verdict).toBe(
      'unknown',
    );
  });
});

describe('fundingOf', () => {
  const o = offer(1_000n);
  it('funded when one wallet has enough; unfunded only when every wallet is short', () => {
    const short = canFund(o, { walletId: 'a', balance: amount(1n, USDC) });
    const rich = canFund(o, { walletId: 'b', balance: amount(5_000n, USDC) });
    const unknown = canFund(o, { walletId: 'c', why: 'offline' });
    expect(fundingOf(o, [short, rich]).verdict).toBe('funded');
    expect(fundingOf(o, [short, unknown]).verdict).toBe('unknown');
    expect(fundingOf(o, [short]).verdict).toBe('unfunded');
    expect(fundingOf(o, []).verdict).toBe('unknown');
  });
});

describe('skipUnfunded', () => {
  it('turns allowed offers no wallet can fund into no_wallet refusals, and nothing else', () => {
    const cheap = offer(1_000n);
    const dear = offer(2_000n);
    const evaluations: OfferEvaluation[] = [
      { offer: cheap, index: 0, usdMicros: 1_000n, ok: true },
      { offer: dear, index: 1, usdMicros: 2_000n, ok: true },
    ];
    const funding = new Map([
      [cheap.id, fundingOf(cheap, [canFund(cheap, { walletId: 'w', balance: amount(10n, USDC) })])],
      [dear.id, fundingOf(dear, [canFund(dear, { walletId: 'w', why: 'offline' })])],
    ]);
    const out = skipUnfunded(evaluations, funding);
    expect(out[0]).toMatchObject({ ok: false, code: 'no_wallet', usdMicros: 1_000n });
    expect((out[0] as { reason: string }).reason).toMatch(/holds 0\.00001 USDC/);
    expect(out[1]).toBe(evaluations[1]);
    expect(evaluations[0]!.ok).toBe(true);
  });
});

describe('readBalance (the boundary)', () => {
  const o = offer(1_000n);
  it('a balance that is not an Amount (a JS number, a string, a bad unit) reads as unknown', async () => {
    for (const lie of [
      { value: 1e30, unit: USDC },
      { value: '100000000', unit: USDC },
      { value: -5n, unit: USDC },
      { value: 10n, unit: { kind: 'token', network: 'bad', asset: 'x', decimals: 6 } },
      'lots',
      null,
    ]) {
      const reading = await readBalance(wallet('liar', lie), o);
      expect(reading.balance).toBeUndefined();
      expect(canFund(o, reading).verdict).toBe('unknown');
    }
  });

  it('a wallet whose balance hangs is given up on at its deadline', async () => {
    const hanging = wallet('slow', 'none', {
      balance: () => new Promise(() => {}),
    } as Partial<Wallet>);
    const started = Date.now();
    const reading = await readBalance(hanging, o, { timeoutMs: 50 });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(reading.balance).toBeUndefined();
    expect('why' in reading && reading.why).toMatch(/did not answer within 50 ms/);
  });

  it('a wallet whose balance throws is unknown with its message', async () => {
    const failing = wallet('f', 'none', {
      balance: async () => {
        throw new Error('rpc down');
      },
    } as Partial<Wallet>);
    const reading = await readBalance(failing, o);
    expect('why' in reading && reading.why).toMatch(/rpc down/);
  });
});

describe('chooseWallet', () => {
  it('skips a wallet that is short and chooses the next that can fund the offer', async () => {
    const o = offer(1_000n);
    const poor = wallet('poor', amount(1n, USDC));
    const rich = wallet('rich', amount(1_000_000n, USDC));
    const choice = await chooseWallet([poor, rich], o);
    expect(choice.wallet?.id).toBe('rich');
    expect(choice.funding.wallets.map((funding) => funding.verdict)).toEqual([
      'unfunded',
      'funded',
    ]);
  });

  it('chooses no wallet when every accepting wallet is short, and says what each holds', async () => {
    const o = offer(1_000n);
    const choice = await chooseWallet(
      [wallet('a', amount(1n, USDC)), wallet('b', amount(2n, USDC))],
      o,
    );
    expect(choice.wallet).toBeUndefined();
    expect(choice.reason).toMatch(/wallet a holds 0\.000001 USDC.*wallet b holds 0\.000002 USDC/);
  });

  it('a wallet without balance support is still chosen (unknown is not unfunded)', async () => {
    const choice = await chooseWallet([wallet('plain', 'none')], offer(1_000n));
    expect(choice.wallet?.id).toBe('plain');
    expect(choice.funding.verdict).toBe('unknown');
  });

  it('asks only wallets of the rail, and only after canPay accepts', async () => {
    let balanceAsked = 0;
    const refusing = wallet('no', 'none', {
      canPay: () => 'not this one',
      balance: async () => {
        balanceAsked++;
        return amount(10n ** 9n, USDC);
      },
    } as Partial<Wallet>);
    const lightningOnly = wallet('ln', amount(10n ** 9n, USDC), { rails: ['l402:bolt11'] });
    const choice = await chooseWallet([refusing, lightningOnly], offer(1n));
    expect(choice.wallet).toBeUndefined();
    expect(balanceAsked).toBe(0);
    expect(choice.reason).toBe('no: not this one');
    expect(msatUnit.kind).toBe('msat');
  });
});
