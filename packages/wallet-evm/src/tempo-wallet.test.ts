import { isStipendError, type PaymentOffer } from '@stipend/client';
import { createClient, http, keccak256, toHex, verifyTypedData } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { tempoLocalnet } from 'viem/chains';
import { describe, expect, it } from 'vitest';
import {
  TEMPO_CHANNEL_ESCROW,
  TEMPO_VOUCHER_TYPES,
  tempoChannelId,
  tempoVoucherDomain,
} from './tempo-channel.js';
import { isTempoChannelWallet, type TempoChannel, tempoSessionWallet } from './tempo-wallet.js';

// Public anvil test keys (never used outside tests).
const account = privateKeyToAccount(
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
);
const other = privateKeyToAccount(
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
);
const chain = { ...tempoLocalnet, id: 31337 };
// No request reaches this URL in these tests (nothing is prepared or read).
const client = createClient({ chain, transport: http('http://127.0.0.1:9') });
const PATH_USD = '0x20c0000000000000000000000000000000000000';
const PAYEE = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

function channelOf(signer = account, deposit = 1_000_000n): TempoChannel {
  const descriptor = {
    payer: signer.address,
    payee: PAYEE,
    operator: '0x0000000000000000000000000000000000000000',
    token: PATH_USD,
    salt: keccak256(toHex(`salt-${deposit}`)),
    authorizedSigner: signer.address,
    expiringNonceHash: keccak256(toHex('tx')),
  } as const;
  return {
    channelId: tempoChannelId(descriptor, chain.id, TEMPO_CHANNEL_ESCROW),
    chainId: chain.id,
    escrow: TEMPO_CHANNEL_ESCROW,
    descriptor,
    deposit,
    signed: 0n,
  };
}

function offer(
  tempo: Record<string, unknown>,
  value = 1_000_000n,
  patch: Partial<PaymentOffer> = {},
): PaymentOffer {
  return {
    id: 'o1',
    protocol: 'mpp',
    scheme: 'tempo.session',
    amount: {
      value,
      unit: { kind: 'token', network: `eip155:${chain.id}`, asset: PATH_USD, decimals: 6 },
    } as never,
    payee: PAYEE,
    network: `eip155:${chain.id}`,
    asset: PATH_USD,
    origin: 'http://127.0.0.1:1',
    resource: 'http://127.0.0.1:1/metered',
    reusable: false,
    raw: {
      tempo: {
        action: 'open',
        chainId: chain.id,
        escrow: TEMPO_CHANNEL_ESCROW,
        token: PATH_USD,
        payee: PAYEE,
        feeToken: PATH_USD,
        ...tempo,
      },
    },
    ...patch,
  };
}

describe('tempoSessionWallet vouchers', () => {
  it('signs a cumulative voucher that viem verifies for the channel signer', async () => {
    const wallet = tempoSessionWallet({ account, client });
    const ch = channelOf();
    wallet.tempoChannels.adopt(ch);
    const signature = await wallet.tempoChannels.voucher(ch.channelId, 30_000n);
    expect(
      await verifyTypedData({
        address: account.address,
        domain: tempoVoucherDomain(chain.id, TEMPO_CHANNEL_ESCROW),
        types: TEMPO_VOUCHER_TYPES,
        primaryType: 'Voucher',
        message: { channelId: ch.channelId, cumulativeAmount: 30_000n },
        signature,
      }),
    ).toBe(true);
  });

  it('voucher_never_above_deposit: a voucher past the channel deposit is refused', async () => {
    const wallet = tempoSessionWallet({ account, client });
    const ch = channelOf(account, 100n);
    wallet.tempoChannels.adopt(ch);
    await expect(wallet.tempoChannels.voucher(ch.channelId, 100n)).resolves.toMatch(/^0x/);
    const error = await wallet.tempoChannels.voucher(ch.channelId, 101n).catch((e) => e);
    expect(isStipendError(error) && error.code).toBe('OFFER_MISMATCH');
  });

  it('voucher_monotonic: a lower amount than one already signed is refused, equal is re-signed', async () => {
    const wallet = tempoSessionWallet({ account, client });
    const ch = channelOf();
    wallet.tempoChannels.adopt(ch);
    await wallet.tempoChannels.voucher(ch.channelId, 50n);
    await expect(wallet.tempoChannels.voucher(ch.channelId, 50n)).resolves.toMatch(/^0x/);
    await expect(wallet.tempoChannels.voucher(ch.channelId, 49n)).rejects.toThrow(/never go down/);
    expect(wallet.tempoChannels.channel(ch.channelId)?.signed).toBe(50n);
  });

  it('voucher_monotonic under concurrency: the highest signed is the highest asked, whatever the order', async () => {
    const wallet = tempoSessionWallet({ account, client });
    const ch = channelOf();
    wallet.tempoChannels.adopt(ch);
    const results = await Promise.allSettled(
      [30n, 10n, 20n, 40n].map((n) => wallet.tempoChannels.voucher(ch.channelId, n)),
    );
    // Serialised in call order: 30 ok, 10 refused, 20 refused, 40 ok.
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(wallet.tempoChannels.channel(ch.channelId)?.signed).toBe(40n);
  });

  it('voucher_never_below_one_sent: voucherAtLeast answers the highest of the count and every voucher signed, re-using its signature, under concurrency', async () => {
    const ch = channelOf();
    const signSpy: bigint[] = [];
    const original = account.signTypedData;
    const spied = {
      ...account,
      signTypedData: (async (p: { message: { cumulativeAmount: bigint } }) => {
        signSpy.push(p.message.cumulativeAmount);
        return original(p as never);
      }) as unknown as typeof account.signTypedData,
    };
    const spiedWallet = tempoSessionWallet({ account: spied, client });
    spiedWallet.tempoChannels.adopt(ch);
    const answers = await Promise.all(
      [30n, 10n, 20n, 40n, 40n].map((n) =>
        spiedWallet.tempoChannels.voucherAtLeast(ch.channelId, n),
      ),
    );
    // Serialised in call order: 30, then 30 again (not 10 or 20), then 40, then 40 again.
    expect(answers.map((a) => a.cumulativeAmount)).toEqual([30n, 30n, 30n, 40n, 40n]);
    expect(signSpy).toEqual([30n, 40n]);
    expect(answers[1]!.signature).toBe(answers[0]!.signature);
    expect(
      await verifyTypedData({
        address: account.address,
        domain: tempoVoucherDomain(chain.id, TEMPO_CHANNEL_ESCROW),
        types: TEMPO_VOUCHER_TYPES,
        primaryType: 'Voucher',
        message: { channelId: ch.channelId, cumulativeAmount: 30n },
        signature: answers[2]!.signature,
      }),
    ).toBe(true);
    const above = await spiedWallet.tempoChannels
      .voucherAtLeast(ch.channelId, ch.deposit + 1n)
      .catch((e: unknown) => e);
    expect(isStipendError(above) && above.code).toBe('OFFER_MISMATCH');
    expect(spiedWallet.tempoChannels.channel(ch.channelId)?.signed).toBe(40n);
  });

  it('adopt_keeps_what_was_signed: adopting a known channel again never lowers its highest voucher nor changes its deposit; a highest voucher past the deposit or an unpinned escrow is refused', async () => {
    const wallet = tempoSessionWallet({ account, client });
    const ch = channelOf(account, 1_000n);
    wallet.tempoChannels.adopt({ ...ch, signed: 500n });
    wallet.tempoChannels.adopt({ ...ch, deposit: 9_000n, signed: 100n });
    expect(wallet.tempoChannels.channel(ch.channelId)).toMatchObject({
      deposit: 1_000n,
      signed: 500n,
    });
    const answer = await wallet.tempoChannels.voucherAtLeast(ch.channelId, 200n);
    expect(answer.cumulativeAmount).toBe(500n);
    const fresh = tempoSessionWallet({ account, client });
    expect(() => fresh.tempoChannels.adopt({ ...ch, signed: 1_001n })).toThrow(/not within/);
    const custom = '0x00000000000000000000000000000000000e5c20';
    const elsewhere = { ...ch, escrow: custom as `0x${string}` };
    const onCustom = {
      ...elsewhere,
      channelId: tempoChannelId(ch.descriptor, chain.id, custom),
    };
    expect(() => fresh.tempoChannels.adopt(onCustom)).toThrow(/does not use/);
    const pinned = tempoSessionWallet({ account, client, escrows: [custom] });
    expect(() => pinned.tempoChannels.adopt(onCustom)).not.toThrow();
  });

  it("one_signer_per_channel: no voucher for a channel this wallet did not open, no adopting another signer's channel", async () => {
    const wallet = tempoSessionWallet({ account, client });
    await expect(wallet.tempoChannels.voucher(channelOf().channelId, 1n)).rejects.toThrow(
      /did not open/,
    );
    expect(() => wallet.tempoChannels.adopt(channelOf(other))).toThrow(/not signed by/);
    const forged = { ...channelOf(), channelId: keccak256(toHex('forged')) };
    expect(() => wallet.tempoChannels.adopt(forged)).toThrow(/does not match/);
  });
});

describe('tempoSessionWallet deposits', () => {
  it('is recognised as a tempo channel wallet and lists the tempo session rail only', () => {
    const wallet = tempoSessionWallet({ account, client });
    expect(isTempoChannelWallet(wallet)).toBe(true);
    expect(isTempoChannelWallet({ rails: [] })).toBe(false);
    expect(wallet.rails).toEqual(['mpp:tempo.session']);
  });

  it('escrow_pinned: refuses to open on an escrow that is not the canonical one unless pinned', async () => {
    const custom = '0x1111111111111111111111111111111111111111';
    const wallet = tempoSessionWallet({ account, client });
    expect(await wallet.canPay(offer({ escrow: custom }))).toMatch(/escrows/);
    const error = await wallet
      .pay(offer({ escrow: custom }), {
        request: { method: 'GET', url: 'x' },
        idempotencyKey: 'k',
        maxAuthorizationTtlSec: 60,
        reservationId: 'r',
        now: 0,
      })
      .catch((e) => e);
    expect(isStipendError(error) && error.code).toBe('OFFER_MISMATCH');
    const pinned = tempoSessionWallet({ account, client, escrows: [custom] });
    expect(await pinned.canPay(offer({ escrow: custom }))).toBe(true);
  });

  it('refuses terms that disagree with the priced offer (payee, token, chain) and top-ups of unknown channels', async () => {
    const wallet = tempoSessionWallet({ account, client });
    expect(
      await wallet.canPay(offer({ payee: '0x2222222222222222222222222222222222222222' })),
    ).toMatch(/payee/);
    expect(
      await wallet.canPay(offer({ token: '0x20c0000000000000000000000000000000000001' })),
    ).toMatch(/asset/);
    expect(await wallet.canPay(offer({ chainId: 4217 }))).toMatch(/chain/);
    expect(
      await wallet.canPay(offer({ action: 'topUp', channelId: channelOf().channelId })),
    ).toMatch(/not opened/);
    expect(await wallet.canPay(offer({}, 2n ** 96n))).toMatch(/2\^96/);
  });
});
