/**
 * The EVM wallet against a real local chain (anvil + the testkit's EIP-3009 token): balance
 * checks, Permit2 allowance checks, EIP-712 domains read from the token, and `lookup` of an
 * authorization before settlement, after it, and after it expired unused. This chain is the
 * file's own, so it may move its clock forward (no x402 facilitator watches it).
 */
import { WalletError } from '@stipend/client';
import { devAccount, eip3009TokenAbi, type LocalChain, startChain } from '@stipend/testkit/chain';
import { parseSignature } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMIT2_ADDRESS } from './constants.js';
import { mppChargeOffer, payContext, x402Offer } from './offers.test-helpers.js';
import type { SignedEip3009 } from './sign.js';
import { evmWallet } from './wallet.js';

let chain: LocalChain;
const payer = devAccount(5);
const broke = devAccount(8);
const payee = devAccount(2).address;

beforeAll(async () => {
  chain = await startChain();
  await chain.mint(payer.address, 1_000_000n);
});
afterAll(async () => {
  await chain?.stop();
});

const offerOnChain = (value = 1000n, extra?: Record<string, unknown>) =>
  x402Offer({
    network: chain.network,
    asset: chain.token.address,
    payTo: payee,
    value,
    ...(extra ? { extra } : {}),
  });

async function blockTime(): Promise<number> {
  return Number((await chain.publicClient.getBlock()).timestamp) * 1000;
}

/** Submits a signed authorization the way a facilitator does. */
async function settle(payload: SignedEip3009): Promise<void> {
  const { authorization: a, signature } = payload;
  const { v, r, s } = parseSignature(signature);
  const hash = await chain.walletClient.writeContract({
    address: chain.token.address,
    abi: eip3009TokenAbi,
    functionName: 'transferWithAuthorization',
    args: [
      a.from,
      a.to,
      BigInt(a.value),
      BigInt(a.validAfter),
      BigInt(a.validBefore),
      a.nonce,
      Number(v),
      r,
      s,
    ],
  });
  expect((await chain.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
}

describe('evmWallet on a local chain', () => {
  it('refuses, before signing, an account that cannot cover the price', async () => {
    const wallet = evmWallet({ account: broke, publicClient: chain.publicClient });
    let caught: unknown;
    try {
      await wallet.pay(offerOnChain(), payContext({ now: Date.now() }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WalletError);
    expect(caught).toMatchObject({ code: 'INSUFFICIENT_FUNDS', paid: false });
    expect((caught as WalletError).message).toMatch(
      new RegExp(
        `${broke.address} holds 0 USDC on ${chain.network}, and this payment needs 0.001 USDC`,
      ),
    );
  });

  it('skips the balance check for offers on another chain than the public client', async () => {
    const wallet = evmWallet({ account: broke, publicClient: chain.publicClient });
    const proof = await wallet.pay(x402Offer(), payContext());
    expect(proof.settlement).toBe('authorization');
  });

  it("balance: what the payer holds of the offer's token, read on chain; unknown elsewhere", async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const offer = offerOnChain();
    const held = await wallet.balance!(offer, { signal: new AbortController().signal });
    expect(held?.value).toBe(await chain.balanceOf(payer.address));
    expect(held?.unit).toEqual(offer.amount.unit);
    expect(await wallet.balance!(x402Offer(), { signal: new AbortController().signal })).toBe(
      undefined,
    );
  });

  it('an offer the payer cannot fund is skipped for one it can (balance-aware choice)', async () => {
    const { chooseWallet } = await import('../../client/src/quote/wallet-choice.js');
    const poor = evmWallet({ account: broke, publicClient: chain.publicClient });
    const rich = evmWallet({ account: payer, publicClient: chain.publicClient });
    const found = await chooseWallet([poor, rich], offerOnChain(1000n));
    expect(found.wallet).toBe(rich);
  });

  it('lookup: pending before settlement, paid once the authorization was used', async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const offer = offerOnChain();
    const proof = await wallet.pay(offer, payContext({ now: await blockTime() }));
    expect(await wallet.lookup!(proof.reference, offer)).toBe('pending');
    const before = await chain.balanceOf(payee);
    await settle((proof.secret as { payload: SignedEip3009 }).payload);
    expect(await chain.balanceOf(payee)).toBe(before + 1000n);
    expect(await wallet.lookup!(proof.reference, offer)).toBe('paid');
  });

  it('lookup: failed once validBefore passed with the authorization unused', async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const offer = offerOnChain();
    const proof = await wallet.pay(
      offer,
      payContext({ now: await blockTime(), maxAuthorizationTtlSec: 30 }),
    );
    expect(await wallet.lookup!(proof.reference, offer)).toBe('pending');
    await chain.testClient.increaseTime({ seconds: 31 });
    await chain.testClient.mine({ blocks: 1 });
    expect(await wallet.lookup!(proof.reference, offer)).toBe('failed');
  });

  it('one purchase never has two live authorizations: a second signature for the same key has the same nonce, and only one transfer settles', async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const key = `chain-purchase-${Date.now()}`;
    const now = await blockTime();
    // A pre-authorized offer, then the 402's offer with other terms: one purchase.
    const first = await wallet.pay(offerOnChain(1000n), payContext({ now, idempotencyKey: key }));
    const second = await wallet.pay(
      offerOnChain(1500n),
      payContext({ now: now + 2000, idempotencyKey: key }),
    );
    const a = (first.secret as { payload: SignedEip3009 }).payload;
    const b = (second.secret as { payload: SignedEip3009 }).payload;
    expect(b.authorization.nonce).toBe(a.authorization.nonce);
    expect(b.signature).not.toBe(a.signature);

    const before = await chain.balanceOf(payee);
    await settle(b);
    expect(await chain.balanceOf(payee)).toBe(before + 1500n);
    // The other signature can no longer move money: the token refuses the used nonce.
    await expect(settle(a)).rejects.toThrow(/authorization is used or canceled|revert/i);
    expect(await chain.balanceOf(payee)).toBe(before + 1500n);
    expect(await wallet.lookup!(first.reference, offerOnChain(1000n))).toBe('paid');
    expect(await wallet.lookup!(second.reference, offerOnChain(1500n))).toBe('paid');
  });

  it('lookup without a public client on that chain cannot tell: pending', async () => {
    const proof = await evmWallet({ account: payer }).pay(offerOnChain(), payContext());
    expect(await evmWallet({ account: payer }).lookup!(proof.reference, offerOnChain())).toBe(
      'pending',
    );
  });

  it("reads an MPP charge token's EIP-712 domain from the chain", async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const offer = mppChargeOffer({
      chainId: chain.chainId,
      asset: chain.token.address,
      value: 1000n,
    });
    expect(await wallet.canPay(offer)).toBe(true);
    expect(await evmWallet({ account: payer }).canPay(offer)).toMatch(/EIP-712 domain/);
  });

  it('a 412 offer is paid only once the payer approved Permit2 for the amount', async () => {
    const wallet = evmWallet({ account: payer, publicClient: chain.publicClient });
    const offer = x402Offer({
      network: chain.network,
      asset: chain.token.address,
      payTo: payee,
      value: 1000n,
      transfer: 'permit2',
      approvalRequired: true,
      extra: { assetTransferMethod: 'permit2' },
    });
    expect(await wallet.canPay(offer)).toMatch(/approved Permit2 .* for only 0/);
    const hash = await chain.walletFor(payer).writeContract({
      address: chain.token.address,
      abi: eip3009TokenAbi,
      functionName: 'approve',
      args: [PERMIT2_ADDRESS, 10n ** 12n],
    });
    await chain.publicClient.waitForTransactionReceipt({ hash });
    expect(await wallet.canPay(offer)).toBe(true);
  });
});
