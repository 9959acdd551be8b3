import {
  encodeAbiParameters,
  type Hex,
  hashTypedData,
  keccak256,
  recoverTypedDataAddress,
  toHex,
  verifyTypedData,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  signTempoVoucher,
  TEMPO_CHANNEL_ESCROW,
  TEMPO_VOUCHER_TYPES,
  tempoChannelId,
  tempoVoucherDomain,
  UINT96_MAX,
} from './tempo-channel.js';

// Public anvil test key #5 (never used outside tests).
const account = privateKeyToAccount(
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
);
const channelId = keccak256(toHex('channel'));

describe('TIP-1034 vouchers', () => {
  it('a voucher is EIP-712 over the "TIP20 Channel Reserve" v1 domain with uint96 cumulativeAmount (viem verifyTypedData)', async () => {
    const signature = await signTempoVoucher(account, {
      chainId: 4217,
      escrow: TEMPO_CHANNEL_ESCROW,
      channelId,
      cumulativeAmount: 250_000n,
    });
    const ok = await verifyTypedData({
      address: account.address,
      domain: {
        name: 'TIP20 Channel Reserve',
        version: '1',
        chainId: 4217,
        verifyingContract: TEMPO_CHANNEL_ESCROW,
      },
      types: {
        Voucher: [
          { name: 'channelId', type: 'bytes32' },
          { name: 'cumulativeAmount', type: 'uint96' },
        ],
      },
      primaryType: 'Voucher',
      message: { channelId, cumulativeAmount: 250_000n },
      signature,
    });
    expect(ok).toBe(true);
  });

  it('the voucher digest equals the TIP-1034 formula computed by hand (domain separator, typehash)', () => {
    const domainTypehash = keccak256(
      toHex('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
    );
    const separator = keccak256(
      encodeAbiParameters(
        [
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'bytes32' },
          { type: 'uint256' },
          { type: 'address' },
        ],
        [
          domainTypehash,
          keccak256(toHex('TIP20 Channel Reserve')),
          keccak256(toHex('1')),
          42431n,
          TEMPO_CHANNEL_ESCROW,
        ],
      ),
    );
    const structHash = keccak256(
      encodeAbiParameters(
        [{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint96' }],
        [keccak256(toHex('Voucher(bytes32 channelId,uint96 cumulativeAmount)')), channelId, 7n],
      ),
    );
    const manual = keccak256(`0x1901${separator.slice(2)}${structHash.slice(2)}` as Hex);
    const viaTypes = hashTypedData({
      domain: tempoVoucherDomain(42431, TEMPO_CHANNEL_ESCROW),
      types: TEMPO_VOUCHER_TYPES,
      primaryType: 'Voucher',
      message: { channelId, cumulativeAmount: 7n },
    });
    expect(viaTypes).toBe(manual);
  });

  it('a voucher binds chain and escrow: the same signature recovers another address under another domain', async () => {
    const signature = await signTempoVoucher(account, {
      chainId: 4217,
      escrow: TEMPO_CHANNEL_ESCROW,
      channelId,
      cumulativeAmount: 1n,
    });
    const other = await recoverTypedDataAddress({
      domain: tempoVoucherDomain(4218, TEMPO_CHANNEL_ESCROW),
      types: TEMPO_VOUCHER_TYPES,
      primaryType: 'Voucher',
      message: { channelId, cumulativeAmount: 1n },
      signature,
    });
    expect(other).not.toBe(account.address);
  });

  it('refuses amounts outside uint96 (no silent truncation)', async () => {
    await expect(
      signTempoVoucher(account, {
        chainId: 1,
        escrow: TEMPO_CHANNEL_ESCROW,
        channelId,
        cumulativeAmount: UINT96_MAX + 1n,
      }),
    ).rejects.toThrow(/outside/);
    await expect(
      signTempoVoucher(account, {
        chainId: 1,
        escrow: TEMPO_CHANNEL_ESCROW,
        channelId,
        cumulativeAmount: -1n,
      }),
    ).rejects.toThrow(/outside/);
  });
});

describe('TIP-1034 channel id', () => {
  it('is keccak256(abi.encode(descriptor…, escrow, chainId)) and changes with each field', () => {
    const d = {
      payer: account.address,
      payee: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      operator: '0x0000000000000000000000000000000000000000',
      token: '0x20c0000000000000000000000000000000000000',
      salt: keccak256(toHex('salt')),
      authorizedSigner: account.address,
      expiringNonceHash: keccak256(toHex('nonce')),
    } as const;
    const id = tempoChannelId(d, 4217, TEMPO_CHANNEL_ESCROW);
    const manual = keccak256(
      encodeAbiParameters(
        [
          'address',
          'address',
          'address',
          'address',
          'bytes32',
          'address',
          'bytes32',
          'address',
          'uint256',
        ].map((type) => ({ type })),
        [
          d.payer,
          d.payee,
          d.operator,
          d.token,
          d.salt,
          d.authorizedSigner,
          d.expiringNonceHash,
          TEMPO_CHANNEL_ESCROW,
          4217n,
        ],
      ),
    );
    expect(id).toBe(manual);
    expect(tempoChannelId(d, 4218, TEMPO_CHANNEL_ESCROW)).not.toBe(id);
    expect(
      tempoChannelId({ ...d, salt: keccak256(toHex('other')) }, 4217, TEMPO_CHANNEL_ESCROW),
    ).not.toBe(id);
  });
});
