import { WalletError } from '@stipend/client';
import {
  getAddress,
  type Hex,
  hexToBigInt,
  keccak256,
  recoverTypedDataAddress,
  stringToHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  EXACT_PERMIT2_TYPES,
  PERMIT2_ADDRESS,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  UPTO_PERMIT2_TYPES,
  X402_EXACT_PERMIT2_PROXY,
  X402_UPTO_PERMIT2_PROXY,
} from './constants.js';
import {
  FACILITATOR,
  mppChargeOffer,
  PAY_TO,
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

async function refusal(promise: Promise<unknown>): Promise<WalletError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WalletError) return error;
    throw error;
  }
  throw new Error('expected the wallet to refuse');
}

/** A viem account that records every signature request. */
function recording() {
  const requests: unknown[] = [];
  const signer = {
    address: account.address,
    signTypedData: (async (parameters: unknown) => {
      requests.push(parameters);
      return account.signTypedData(parameters as never);
    }) as typeof account.signTypedData,
  };
  return { signer, requests };
}

describe('the x402 spec vector', () => {
  it('our EIP-3009 types and domain recover the spec example signature to its payer', async () => {
    const signer = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: TOKEN },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: {
        from: '0x857b06519E91e3A54538791bDbb0E22373e36b66',
        to: PAY_TO,
        value: 10000n,
        validAfter: 1740672089n,
        validBefore: 1740672154n,
        nonce: '0xf3746613c2d920b5fdabc0856f2aeb2d4f88ee6037b8cc5d04a71a4462f13480',
      },
      signature:
        '0x2d6a7588d6acca505cbf0d9a4a227e0c52c6c34008c8e8986a1283259764173608a2ce6496642e377d6da8dbbf5836e9bd15092f9ecab05ded3d6293af148b571c',
    });
    expect(signer).toBe('0x857b06519E91e3A54538791bDbb0E22373e36b66');
  });
});

describe('evmWallet: x402 exact (EIP-3009)', () => {
  const wallet = evmWallet({ account });

  it('advertises its rails and pays well-formed offers', async () => {
    expect(wallet.rails).toEqual(['x402:exact', 'x402:upto', 'mpp:evm.charge']);
    expect(wallet.id).toBe(`evm:${account.address}`);
    expect(await wallet.canPay(x402Offer())).toBe(true);
  });

  it('signs exactly the offer: domain from extra, chain id from CAIP-2, the purchase nonce, v2 validAfter 0', async () => {
    const offer = x402Offer({ maxTimeoutSeconds: 60 });
    const proof = await wallet.pay(offer, payContext({ now: NOW }));
    const { payload } = proof.secret as { payload: SignedEip3009 };
    expect(payload.authorization).toMatchObject({
      from: account.address,
      to: PAY_TO,
      value: '10000',
      validAfter: '0',
      validBefore: (NOW_SEC + 60n).toString(),
    });
    expect(payload.authorization.nonce).toMatch(/^0x[0-9a-f]{64}$/);
    const recovered = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: TOKEN },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: {
        ...payload.authorization,
        value: 10000n,
        validAfter: 0n,
        validBefore: NOW_SEC + 60n,
      },
      signature: payload.signature,
    });
    expect(recovered).toBe(account.address);
    expect(proof).toMatchObject({
      offerId: offer.id,
      settlement: 'authorization',
      validUntil: Number(NOW_SEC + 60n) * 1000,
    });
    expect(parseReference(proof.reference)).toEqual({
      kind: 'eip3009',
      chainId: 84532,
      token: getAddress(TOKEN),
      from: account.address,
      nonce: payload.authorization.nonce,
      deadline: NOW_SEC + 60n,
    });
  });

  it('uses a new nonce for every purchase (idempotency key)', async () => {
    const a = await wallet.pay(x402Offer(), payContext({ idempotencyKey: 'purchase-a' }));
    const b = await wallet.pay(x402Offer(), payContext({ idempotencyKey: 'purchase-b' }));
    expect((a.secret as { payload: SignedEip3009 }).payload.authorization.nonce).not.toBe(
      (b.secret as { payload: SignedEip3009 }).payload.authorization.nonce,
    );
  });

  it('never signs longer than the policy allows, however long the server asks', async () => {
    const offer = x402Offer({ maxTimeoutSeconds: 10 ** 9 });
    const proof = await wallet.pay(offer, payContext({ now: NOW, maxAuthorizationTtlSec: 120 }));
    const { authorization } = (proof.secret as { payload: SignedEip3009 }).payload;
    expect(BigInt(authorization.validBefore)).toBe(NOW_SEC + 120n);
  });

  it('v1: back-dates validAfter by ten minutes, like the reference v1 client', async () => {
    const proof = await wallet.pay(x402Offer({ version: 1 }), payContext({ now: NOW }));
    const { authorization } = (proof.secret as { payload: SignedEip3009 }).payload;
    expect(authorization.validAfter).toBe((NOW_SEC - 600n).toString());
  });

  it.each([
    ['a different amount', { overrides: { amount: '10001' } }, /amount to sign \(10001\)/],
    ['a different recipient', { overrides: { payTo: FACILITATOR } }, /recipient to sign/],
    ['a different token', { overrides: { asset: PAY_TO } }, /token to sign/],
    ['a different scheme', { overrides: { scheme: 'upto' } }, /different schemes/],
    ['no EIP-712 domain', { extra: {} }, /EIP-712 domain/],
    ['a non-EVM network', { network: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp' }, /not an EVM/],
    [
      'a recipient that is no address',
      { payTo: 'alice', overrides: { payTo: 'alice' } },
      /not an EVM address/,
    ],
    ['a zero timeout', { maxTimeoutSeconds: 0 }, /maxTimeoutSeconds/],
  ])('refuses to sign when the requirement has %s', async (_name, options, message) => {
    const { signer, requests } = recording();
    const guarded = evmWallet({ account: signer });
    const offer = x402Offer(options as Parameters<typeof x402Offer>[0]);
    expect(await guarded.canPay(offer)).toMatch(message);
    const error = await refusal(guarded.pay(offer, payContext()));
    expect(error.paid).toBe(false);
    expect(error.code).toBe('OFFER_MISMATCH');
    expect(requests).toEqual([]);
  });

  it('refuses an aborted payment before signing', async () => {
    const { signer, requests } = recording();
    const controller = new AbortController();
    controller.abort();
    const error = await refusal(
      evmWallet({ account: signer }).pay(x402Offer(), payContext({ signal: controller.signal })),
    );
    expect(error.code).toBe('ABORTED');
    expect(requests).toEqual([]);
  });

  it('turns a signer failure into a WalletError saying nothing was paid', async () => {
    const failing = evmWallet({
      account: {
        address: account.address,
        signTypedData: (async () => {
          throw new Error('user rejected');
        }) as never,
      },
    });
    const error = await refusal(failing.pay(x402Offer(), payContext()));
    expect(error).toMatchObject({ code: 'SIGNING_FAILED', paid: false });
    expect(error.message).toMatch(/user rejected/);
  });
});

describe('evmWallet: Permit2 (x402 exact and upto)', () => {
  const wallet = evmWallet({ account });

  it('exact with assetTransferMethod permit2: witness transfer to the exact proxy, decimal nonce', async () => {
    const offer = x402Offer({
      transfer: 'permit2',
      extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2' },
    });
    const proof = await wallet.pay(offer, payContext({ now: NOW }));
    const { payload } = proof.secret as { payload: SignedPermit2 };
    const auth = payload.permit2Authorization;
    expect(auth).toMatchObject({
      from: account.address,
      permitted: { token: getAddress(TOKEN), amount: '10000' },
      spender: X402_EXACT_PERMIT2_PROXY,
      deadline: (NOW_SEC + 60n).toString(),
      witness: { to: PAY_TO, validAfter: '0' },
    });
    expect(auth.nonce).toMatch(/^[0-9]+$/);
    const recovered = await recoverTypedDataAddress({
      domain: { name: 'Permit2', chainId: 84532, verifyingContract: PERMIT2_ADDRESS },
      types: EXACT_PERMIT2_TYPES,
      primaryType: 'PermitWitnessTransferFrom',
      message: {
        permitted: { token: getAddress(TOKEN), amount: 10000n },
        spender: X402_EXACT_PERMIT2_PROXY,
        nonce: BigInt(auth.nonce),
        deadline: NOW_SEC + 60n,
        witness: { to: PAY_TO, validAfter: 0n },
      },
      signature: payload.signature,
    });
    expect(recovered).toBe(account.address);
    expect(parseReference(proof.reference)).toMatchObject({
      kind: 'permit2',
      nonce: BigInt(auth.nonce),
    });
  });

  it('upto: the maximum, the upto proxy, and the facilitator in the witness', async () => {
    const offer = x402Offer({
      scheme: 'upto',
      value: 50_000n,
      extra: { facilitatorAddress: FACILITATOR },
    });
    const proof = await wallet.pay(offer, payContext({ now: NOW }));
    const { payload } = proof.secret as { payload: SignedPermit2 };
    const auth = payload.permit2Authorization;
    expect(auth.spender).toBe(X402_UPTO_PERMIT2_PROXY);
    expect(auth.witness).toEqual({
      to: PAY_TO,
      facilitator: getAddress(FACILITATOR),
      validAfter: '0',
    });
    const recovered = await recoverTypedDataAddress({
      domain: { name: 'Permit2', chainId: 84532, verifyingContract: PERMIT2_ADDRESS },
      types: UPTO_PERMIT2_TYPES,
      primaryType: 'PermitWitnessTransferFrom',
      message: {
        permitted: { token: getAddress(TOKEN), amount: 50_000n },
        spender: X402_UPTO_PERMIT2_PROXY,
        nonce: BigInt(auth.nonce),
        deadline: BigInt(auth.deadline),
        witness: { to: PAY_TO, facilitator: getAddress(FACILITATOR), validAfter: 0n },
      },
      signature: payload.signature,
    });
    expect(recovered).toBe(account.address);
  });

  it('upto without a facilitator address is refused', async () => {
    expect(await wallet.canPay(x402Offer({ scheme: 'upto', extra: {} }))).toMatch(
      /facilitatorAddress/,
    );
  });

  it('a 412 (approval missing) is not paid when the wallet cannot see an approval', async () => {
    const offer = x402Offer({
      transfer: 'permit2',
      approvalRequired: true,
      extra: { assetTransferMethod: 'permit2' },
    });
    expect(await wallet.canPay(offer)).toMatch(/has not approved Permit2/);
    expect((await refusal(wallet.pay(offer, payContext()))).code).toBe('PERMIT2_APPROVAL_REQUIRED');
  });
});

describe('evmWallet: MPP evm.charge', () => {
  const domains = [{ network: 'eip155:84532', address: TOKEN, name: 'USDC', version: '2' }];

  it('signs EIP-3009 bound to the challenge: nonce = keccak256(id ‖ realm), validBefore ≤ expires', async () => {
    const wallet = evmWallet({ account, domains });
    const expires = new Date(NOW + 120_000).toISOString();
    const offer = mppChargeOffer({ expires });
    expect(await wallet.canPay(offer)).toBe(true);
    const proof = await wallet.pay(offer, payContext({ now: NOW }));
    const secret = proof.secret as { payload: Record<string, string>; source: string };
    const nonce = keccak256(stringToHex('challenge-id-123api.example.com'));
    expect(secret.source).toBe(`did:pkh:eip155:84532:${account.address}`);
    expect(secret.payload).toEqual({
      from: account.address,
      to: PAY_TO,
      value: '250000',
      validAfter: '0',
      validBefore: (NOW_SEC + 120n).toString(),
      nonce,
      signature: secret.payload.signature,
      type: 'authorization',
    });
    const recovered = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: TOKEN },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: {
        from: account.address,
        to: PAY_TO,
        value: 250_000n,
        validAfter: 0n,
        validBefore: NOW_SEC + 120n,
        nonce: nonce as Hex,
      },
      signature: secret.payload.signature as Hex,
    });
    expect(recovered).toBe(account.address);
    expect(hexToBigInt(nonce)).toBeGreaterThan(0n);
  });

  it('refuses when the token domain is unknown, when split, or when the challenge expired', async () => {
    expect(await evmWallet({ account }).canPay(mppChargeOffer())).toMatch(/EIP-712 domain/);
    const wallet = evmWallet({ account, domains });
    expect(
      await wallet.canPay(
        mppChargeOffer({
          request: {
            methodDetails: { chainId: 84532, splits: [{ amount: '1', recipient: PAY_TO }] },
          },
        }),
      ),
    ).toMatch(/split/);
    expect(await wallet.canPay(mppChargeOffer({ request: { amount: '1' } }))).toMatch(
      /amount to sign/,
    );
    const expired = mppChargeOffer({ expires: new Date(NOW - 1000).toISOString() });
    expect((await refusal(wallet.pay(expired, payContext({ now: NOW })))).code).toBe('EXPIRED');
  });
});

describe('evmWallet.lookup of a Permit2 nonce', () => {
  function reader(bitmap: bigint, timestamp: bigint) {
    const reads: unknown[] = [];
    const publicClient = {
      getChainId: async () => 84532,
      getBlock: async () => ({ number: 7n, timestamp }),
      readContract: async (request: unknown) => {
        reads.push(request);
        return bitmap;
      },
    } as unknown as Parameters<typeof evmWallet>[0]['publicClient'];
    return { publicClient, reads };
  }
  const offer = x402Offer({ transfer: 'permit2', extra: { assetTransferMethod: 'permit2' } });

  it('reads the bit of the nonce in Permit2.nonceBitmap(owner, nonce >> 8) at one block', async () => {
    const proof = await evmWallet({ account }).pay(offer, payContext({ now: NOW }));
    const nonce = BigInt(
      (proof.secret as { payload: SignedPermit2 }).payload.permit2Authorization.nonce,
    );
    const used = reader(1n << (nonce & 255n), NOW_SEC);
    expect(
      await evmWallet({ account, publicClient: used.publicClient }).lookup!(proof.reference, offer),
    ).toBe('paid');
    expect(used.reads).toEqual([
      expect.objectContaining({
        address: PERMIT2_ADDRESS,
        functionName: 'nonceBitmap',
        args: [account.address, nonce >> 8n],
        blockNumber: 7n,
      }),
    ]);
    const otherBit = reader(1n << ((nonce + 1n) & 255n), NOW_SEC);
    expect(
      await evmWallet({ account, publicClient: otherBit.publicClient }).lookup!(
        proof.reference,
        offer,
      ),
    ).toBe('pending');
    const late = reader(0n, NOW_SEC + 61n);
    expect(
      await evmWallet({ account, publicClient: late.publicClient }).lookup!(proof.reference, offer),
    ).toBe('failed');
  });
});

describe('how the account is asked to sign', () => {
  it('a local private-key account signs the EIP-712 digest with sign({ hash }); others get the typed data', async () => {
    const calls: string[] = [];
    const local = Object.assign(Object.create(null), account, {
      sign: async (input: { hash: Hex }) => {
        calls.push('sign');
        return account.sign(input);
      },
      signTypedData: async (input: unknown) => {
        calls.push('signTypedData');
        return account.signTypedData(input as never);
      },
    });
    const fromLocal = await evmWallet({ account: local }).pay(
      x402Offer(),
      payContext({ now: NOW }),
    );
    expect(calls).toEqual(['sign']);
    const remote = recording();
    const fromRemote = await evmWallet({ account: remote.signer }).pay(
      x402Offer(),
      payContext({ now: NOW }),
    );
    expect(remote.requests).toHaveLength(1);
    // Both recover to the payer.
    for (const proof of [fromLocal, fromRemote]) {
      const { payload } = proof.secret as { payload: SignedEip3009 };
      const recovered = await recoverTypedDataAddress({
        domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: TOKEN },
        types: TRANSFER_WITH_AUTHORIZATION_TYPES,
        primaryType: 'TransferWithAuthorization',
        message: {
          ...payload.authorization,
          value: BigInt(payload.authorization.value),
          validAfter: BigInt(payload.authorization.validAfter),
          validBefore: BigInt(payload.authorization.validBefore),
        },
        signature: payload.signature,
      });
      expect(recovered).toBe(account.address);
    }
  });
});
