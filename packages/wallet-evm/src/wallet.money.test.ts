/**
 * The money-safety rules of the EVM wallet (issue 11, findings 2, 3 and 9, wallet side), each
 * test named for the rule it pins: one purchase never has two live authorizations, the
 * reference is known before signing, `upto` never claims less than it signed, and an abort is
 * honoured until the signature exists.
 */
import { WalletError } from '@stipend/client';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { purchaseNonce } from './nonce.js';
import {
  FACILITATOR,
  mppChargeOffer,
  payContext,
  TOKEN,
  x402Offer,
} from './offers.test-helpers.js';
import { parseReference } from './reference.js';
import type { SignedEip3009, SignedPermit2 } from './sign.js';
import { evmWallet } from './wallet.js';

// anvil dev account 4 (a public test key).
const account = privateKeyToAccount(
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
);
const NOW = 1_740_672_089_000;
const NOW_SEC = 1_740_672_089n;

const eip3009Nonce = (proof: { secret: unknown }) =>
  (proof.secret as { payload: SignedEip3009 }).payload.authorization.nonce;
const permit2Nonce = (proof: { secret: unknown }) =>
  (proof.secret as { payload: SignedPermit2 }).payload.permit2Authorization.nonce;
const permit2Offer = (options: Parameters<typeof x402Offer>[0] = {}) =>
  x402Offer({
    transfer: 'permit2',
    extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' },
    ...options,
  });

async function refusal(promise: Promise<unknown>): Promise<WalletError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WalletError) return error;
    throw error;
  }
  throw new Error('expected the wallet to refuse');
}

describe('one purchase never has two live authorizations', () => {
  const wallet = evmWallet({ account });

  it('signing the same purchase twice (EIP-3009) gives the same nonce, whatever the offer id, price or time', async () => {
    const context = payContext({ idempotencyKey: 'order-42', now: NOW });
    const preAuthorized = await wallet.pay(x402Offer({ id: 'x402_pre-v2_a' }), context);
    const after402 = await wallet.pay(
      x402Offer({ id: 'x402_v2_b', value: 12_000n }),
      payContext({ idempotencyKey: 'order-42', now: NOW + 5_000 }),
    );
    expect(eip3009Nonce(after402)).toBe(eip3009Nonce(preAuthorized));
    expect(eip3009Nonce(preAuthorized)).toBe(
      purchaseNonce({ idempotencyKey: 'order-42', payer: account.address, chainId: 84532 }),
    );
  });

  it('signing the same purchase twice (Permit2, exact and upto) gives the same nonce', async () => {
    const a = await wallet.pay(permit2Offer(), payContext({ idempotencyKey: 'order-7' }));
    const b = await wallet.pay(
      permit2Offer({ value: 20_000n }),
      payContext({ idempotencyKey: 'order-7', now: NOW + 1_000 }),
    );
    const upto = await wallet.pay(
      x402Offer({ scheme: 'upto', value: 50_000n, extra: { facilitatorAddress: FACILITATOR } }),
      payContext({ idempotencyKey: 'order-7' }),
    );
    expect(permit2Nonce(b)).toBe(permit2Nonce(a));
    expect(permit2Nonce(upto)).toBe(permit2Nonce(a));
    expect(BigInt(permit2Nonce(a))).toBe(
      BigInt(purchaseNonce({ idempotencyKey: 'order-7', payer: account.address, chainId: 84532 })),
    );
  });

  it('a purchase nonce depends on the key, the payer and the chain', () => {
    const base = { idempotencyKey: 'k', payer: account.address, chainId: 8453 } as const;
    const nonce = purchaseNonce(base);
    expect(nonce).toMatch(/^0x[0-9a-f]{64}$/);
    expect(purchaseNonce({ ...base, idempotencyKey: 'k2' })).not.toBe(nonce);
    expect(purchaseNonce({ ...base, payer: getAddress(FACILITATOR) })).not.toBe(nonce);
    expect(purchaseNonce({ ...base, chainId: 84532 })).not.toBe(nonce);
    expect(purchaseNonce({ ...base, payer: account.address.toLowerCase() as Hex })).toBe(nonce);
  });

  it('a payment without an idempotency key is refused, never signed with a nonce nobody can find again', async () => {
    const context = { ...payContext(), idempotencyKey: '' };
    expect(wallet.referenceFor!(x402Offer(), context)).toBeUndefined();
    const error = await refusal(wallet.pay(x402Offer(), context));
    expect(error).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING', paid: false });
  });

  it('lookup of an older reference is not "failed" while a newer signature of the same nonce can still settle', async () => {
    const publicClient = {
      getChainId: async () => 84532,
      // Chain time: past the first deadline, before the second.
      getBlock: async () => ({ number: 9n, timestamp: NOW_SEC + 90n }),
      readContract: async () => false,
    } as unknown as Parameters<typeof evmWallet>[0]['publicClient'];
    const watched = evmWallet({ account, publicClient, checkBalance: false });
    const offer = x402Offer({ maxTimeoutSeconds: 60 });
    const first = await watched.pay(offer, payContext({ idempotencyKey: 'order-9', now: NOW }));
    expect(await watched.lookup!(first.reference, offer)).toBe('failed');
    const second = await watched.pay(
      offer,
      payContext({ idempotencyKey: 'order-9', now: NOW + 60_000 }),
    );
    expect(eip3009Nonce(second)).toBe(eip3009Nonce(first));
    expect(await watched.lookup!(first.reference, offer)).toBe('pending');
    expect(await watched.lookup!(second.reference, offer)).toBe('pending');
  });
});

describe('the reference is known before signing', () => {
  it('referenceFor gives exactly the reference pay returns (EIP-3009, Permit2, upto, MPP)', async () => {
    const signatures: unknown[] = [];
    const wallet = evmWallet({
      account: {
        address: account.address,
        signTypedData: (async (parameters: unknown) => {
          signatures.push(parameters);
          return account.signTypedData(parameters as never);
        }) as typeof account.signTypedData,
      },
      domains: [{ network: 'eip155:84532', address: TOKEN, name: 'USDC', version: '2' }],
    });
    const offers = [
      x402Offer(),
      x402Offer({ version: 1 }),
      permit2Offer(),
      x402Offer({ scheme: 'upto', value: 50_000n, extra: { facilitatorAddress: FACILITATOR } }),
      mppChargeOffer({ expires: new Date(NOW + 120_000).toISOString() }),
    ];
    for (const offer of offers) {
      const context = payContext({ idempotencyKey: `ref-${offer.id}`, now: NOW });
      const before = wallet.referenceFor!(offer, context);
      expect(before).toBeDefined();
      expect(signatures).toHaveLength(offers.indexOf(offer));
      const proof = await wallet.pay(offer, context);
      expect(proof.reference).toBe(before);
      expect(parseReference(before!)).toBeDefined();
    }
  });

  it('referenceFor is undefined for an offer the wallet would not sign', () => {
    const wallet = evmWallet({ account });
    expect(
      wallet.referenceFor!(x402Offer({ overrides: { amount: '1' } }), payContext()),
    ).toBeUndefined();
    expect(wallet.referenceFor!(x402Offer({ maxTimeoutSeconds: 0 }), payContext())).toBeUndefined();
  });

  it('validUntil is the first moment the authorization provably cannot be used (EIP-3009 validBefore, Permit2 deadline + 1 s)', async () => {
    const wallet = evmWallet({ account });
    const eip3009 = await wallet.pay(
      x402Offer({ maxTimeoutSeconds: 60 }),
      payContext({ now: NOW }),
    );
    expect(eip3009.validUntil).toBe(Number(NOW_SEC + 60n) * 1000);
    const permit2 = await wallet.pay(
      permit2Offer({ maxTimeoutSeconds: 60 }),
      payContext({ now: NOW }),
    );
    const signed = (permit2.secret as { payload: SignedPermit2 }).payload.permit2Authorization;
    expect(signed.deadline).toBe((NOW_SEC + 60n).toString());
    expect(permit2.validUntil).toBe(Number(NOW_SEC + 61n) * 1000);
  });
});

describe('upto never claims less than it signed', () => {
  it('an upto proof claims the signed maximum as paid (the wallet has not verified what settled)', async () => {
    const offer = x402Offer({
      scheme: 'upto',
      value: 50_000n,
      extra: { facilitatorAddress: FACILITATOR },
    });
    const proof = await evmWallet({ account }).pay(offer, payContext({ now: NOW }));
    const signed = (proof.secret as { payload: SignedPermit2 }).payload.permit2Authorization;
    expect(signed.permitted.amount).toBe('50000');
    expect(proof.paid).toEqual(offer.amount);
    expect(proof.paid?.value).toBe(50_000n);
  });

  it('an exact proof claims the exact amount signed', async () => {
    const offer = x402Offer({ value: 12_345n });
    const proof = await evmWallet({ account }).pay(offer, payContext({ now: NOW }));
    const signed = (proof.secret as { payload: SignedEip3009 }).payload.authorization;
    expect(proof.paid?.value).toBe(BigInt(signed.value));
    expect(proof.paid).toEqual(offer.amount);
  });
});

describe('pay honours its abort signal until the signature exists', () => {
  /** A chain whose reads wait until `release` is called. */
  function slowChain() {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const publicClient = {
      getChainId: async () => 84532,
      getBlock: async () => ({ number: 1n, timestamp: NOW_SEC }),
      readContract: async () => {
        await gate;
        return 10n ** 18n;
      },
    } as unknown as Parameters<typeof evmWallet>[0]['publicClient'];
    return { publicClient, release: () => release() };
  }

  it('an abort during the chain reads before signing ends pay at once with paid: false, and nothing is signed', async () => {
    const chain = slowChain();
    const signed: unknown[] = [];
    const wallet = evmWallet({
      account: {
        address: account.address,
        signTypedData: (async (parameters: unknown) => {
          signed.push(parameters);
          return account.signTypedData(parameters as never);
        }) as typeof account.signTypedData,
      },
      publicClient: chain.publicClient,
    });
    const controller = new AbortController();
    const paying = wallet.pay(x402Offer(), payContext({ signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await refusal(paying);
    expect(error).toMatchObject({ code: 'ABORTED', paid: false });
    chain.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(signed).toEqual([]);
  });

  it('an abort while the account signs returns the signature (it exists, and the core books it)', async () => {
    const controller = new AbortController();
    const wallet = evmWallet({
      account: {
        address: account.address,
        signTypedData: (async (parameters: unknown) => {
          controller.abort();
          return account.signTypedData(parameters as never);
        }) as typeof account.signTypedData,
      },
    });
    const proof = await wallet.pay(x402Offer(), payContext({ signal: controller.signal }));
    expect(controller.signal.aborted).toBe(true);
    expect(proof.settlement).toBe('authorization');
    expect(eip3009Nonce(proof)).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
