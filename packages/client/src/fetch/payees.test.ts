import { describe, expect, it } from 'vitest';
import { createMemoryBudgetStore } from '../budget/index.js';
import { WalletError } from '../errors/wallet.js';
import { chainPriceSources, fixedPriceSource, msat, pegPriceSource } from '../money/index.js';
import { freezeOffer, type PaymentOffer } from '../offer.js';
import { createPolicyEngine } from '../policy/engine.js';
import type { SpendPolicy } from '../policy/types.js';
import type { Wallet } from '../wallet/wallet.js';
import { isPayeeVerified, verifyPayees } from './payees.js';

const SIGNER = `02${'aa'.repeat(32)}`;
const CLAIMED = `03${'bb'.repeat(32)}`;
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const prices = chainPriceSources(pegPriceSource(), fixedPriceSource({ btcUsd: '100000' }));

let seq = 0;
function lightningOffer(over: Partial<PaymentOffer> = {}): PaymentOffer {
  seq += 1;
  return freezeOffer({
    id: `l402:${seq}`,
    protocol: 'l402',
    scheme: 'bolt11',
    amount: msat(1_000n),
    maxFee: msat(100n),
    payee: 'unverified',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/quote',
    reusable: true,
    raw: { invoice: `lnbcrt${seq}` },
    ...over,
  });
}

function wallet(over: Partial<Wallet> = {}): Wallet {
  return {
    id: 'lightning-test',
    rails: ['l402:bolt11', 'mpp:lightning.charge'],
    canPay: () => true,
    pay: async () => {
      throw new Error('not in this test');
    },
    payeeOf: () => SIGNER,
    ...over,
  };
}

function engine(policy: SpendPolicy) {
  return createPolicyEngine({
    policy,
    budget: createMemoryBudgetStore(),
    prices,
    now: () => NOW,
  });
}

async function evaluate(policy: SpendPolicy, offer: PaymentOffer) {
  const [evaluation] = await engine(policy).evaluate([offer], {
    url: new URL('https://api.example.com/quote'),
    canPay: async () => true as const,
  });
  return evaluation!;
}

describe('verifyPayees', () => {
  it('replaces a Lightning offer by a frozen copy (same id) whose payee is the one the wallet verified', async () => {
    const offer = lightningOffer({ payee: CLAIMED });
    const { offers, refused } = await verifyPayees([offer], [wallet()]);
    expect(refused).toEqual([]);
    const [copy] = offers;
    expect(copy).not.toBe(offer);
    expect(copy).toMatchObject({ id: offer.id, payee: SIGNER, amount: offer.amount });
    expect(copy!.raw).toBe(offer.raw);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(isPayeeVerified(copy!)).toBe(true);
    expect(isPayeeVerified(offer)).toBe(false);
  });

  it('drops an offer whose payee cannot be verified, with the reason', async () => {
    const offer = lightningOffer();
    const refusing = wallet({
      payeeOf: () => {
        throw new WalletError({
          walletId: 'lightning-test',
          message: 'the invoice signature does not match its n tag',
          paid: false,
        });
      },
    });
    const { offers, refused } = await verifyPayees([offer], [refusing]);
    expect(offers).toEqual([]);
    expect(refused).toEqual([
      {
        offerId: offer.id,
        reason: expect.stringMatching(/lightning-test: the invoice signature does not match/),
      },
    ]);
  });

  it('asks the first wallet of the rail that verifies, and passes other rails unchanged', async () => {
    const x402 = freezeOffer({ ...lightningOffer(), protocol: 'x402', scheme: 'exact' });
    const mpp = lightningOffer({ protocol: 'mpp', scheme: 'lightning.charge' });
    const asked: string[] = [];
    const noVerifier: Wallet = { ...wallet({ id: 'plain', rails: ['l402:bolt11'] }) };
    delete (noVerifier as { payeeOf?: unknown }).payeeOf;
    const verifier = wallet({
      payeeOf: (o) => {
        asked.push(o.id);
        return SIGNER;
      },
    });
    const { offers } = await verifyPayees([x402, mpp], [noVerifier, verifier]);
    expect(offers[0]).toBe(x402);
    expect(isPayeeVerified(x402)).toBe(false);
    expect(offers[1]).toMatchObject({ id: mpp.id, payee: SIGNER });
    expect(asked).toEqual([mpp.id]);
  });
});

describe('policy: payee lists apply to verified Lightning payees only', () => {
  const denyList: SpendPolicy = { global: { payees: { deny: [SIGNER] } } };
  const allowList: SpendPolicy = { global: { payees: { allow: [SIGNER] } } };

  it('an L402 offer without a verified payee is refused when a payee deny list applies', async () => {
    // The old placeholder 'unverified' matched no deny entry, so it was paid.
    const evaluation = await evaluate(denyList, lightningOffer());
    expect(evaluation).toMatchObject({ ok: false, code: 'payee_not_allowed' });
    expect((evaluation as { reason: string }).reason).toMatch(
      /payee could not be verified.*policy\.global\.payees\.deny.*lightningWallet/,
    );
  });

  it('an MPP lightning.charge offer claiming an allowed payee is refused until verified', async () => {
    const claimed = lightningOffer({ protocol: 'mpp', scheme: 'lightning.charge', payee: SIGNER });
    expect(await evaluate(allowList, claimed)).toMatchObject({
      ok: false,
      code: 'payee_not_allowed',
    });
    const { offers } = await verifyPayees([claimed], [wallet()]);
    expect(await evaluate(allowList, offers[0]!)).toMatchObject({ ok: true });
  });

  it('the verified payee is what the lists judge: a denied signer is refused', async () => {
    const { offers } = await verifyPayees([lightningOffer({ payee: CLAIMED })], [wallet()]);
    const evaluation = await evaluate(denyList, offers[0]!);
    expect(evaluation).toMatchObject({ ok: false, code: 'payee_not_allowed' });
    expect((evaluation as { reason: string }).reason).toMatch(/deny list/);
  });

  it('without payee lists, unverified Lightning offers are judged as before', async () => {
    expect(await evaluate({ global: {} }, lightningOffer())).toMatchObject({ ok: true });
  });
});
