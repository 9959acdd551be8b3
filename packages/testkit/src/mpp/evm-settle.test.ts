import { Errors } from 'mppx';
import type { Address, Hex, Log } from 'viem';
import { encodeAbiParameters, encodeEventTopics, parseAbiItem, parseSignature } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../chain/eip3009.js';
import type { Eip3009Chain } from './evm-settle.js';
import { createEip3009Settler } from './evm-settle.js';

const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3' as Address;
const to = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC' as Address;
const payer = privateKeyToAccount(
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
);
const transferEvent = parseAbiItem(
  'event Transfer(address indexed from, address indexed to, uint256 value)',
);
const txHash = `0x${'12'.repeat(32)}` as Hex;

function transferLog(address: Address, from: Address, value: bigint): Log {
  return {
    address,
    topics: encodeEventTopics({ abi: [transferEvent], args: { from, to } }) as [Hex, ...Hex[]],
    data: encodeAbiParameters([{ type: 'uint256' }], [value]),
    blockHash: `0x${'00'.repeat(32)}`,
    blockNumber: 1n,
    logIndex: 0,
    transactionHash: txHash,
    transactionIndex: 0,
    removed: false,
  };
}

async function authorization() {
  const nonce = `0x${'07'.repeat(32)}` as Hex;
  const message = {
    from: payer.address,
    to,
    value: 250000n,
    validAfter: 0n,
    validBefore: 2_000_000_000n,
    nonce,
  };
  const signature = await payer.signTypedData({
    domain: { name: 'USDC', version: '2', chainId: 31337, verifyingContract: token },
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message,
  });
  return {
    payload: {
      from: payer.address,
      to,
      value: '250000',
      validAfter: '0',
      validBefore: '2000000000',
      nonce,
      signature,
    },
    request: { currency: token },
  };
}

function fakeChain(options: { code?: Hex; status?: 'success' | 'reverted'; logs?: Log[] }) {
  const calls: Parameters<Eip3009Chain['transferWithAuthorization']>[0][] = [];
  const chain: Eip3009Chain = {
    getCode: async () => options.code,
    transferWithAuthorization: async (call) => {
      calls.push(call);
      return txHash;
    },
    waitForReceipt: async () => ({ status: options.status ?? 'success', logs: options.logs ?? [] }),
  };
  return { chain, calls };
}

describe('createEip3009Settler', () => {
  it('submits transferWithAuthorization with the split signature and returns the tx hash', async () => {
    const input = await authorization();
    const { chain, calls } = fakeChain({
      code: '0x6080',
      logs: [transferLog(token, payer.address, 250000n)],
    });
    const result = await createEip3009Settler(chain)(input);
    expect(result).toEqual({ reference: txHash });
    const { r, s, yParity } = parseSignature(input.payload.signature);
    expect(calls).toEqual([
      {
        token,
        from: payer.address,
        to,
        value: 250000n,
        validAfter: 0n,
        validBefore: 2_000_000_000n,
        nonce: input.payload.nonce,
        v: yParity + 27,
        r,
        s,
      },
    ]);
  });

  it('refuses when the token has no code, the tx reverts, or no matching Transfer is logged', async () => {
    const input = await authorization();
    const noCode = fakeChain({ code: undefined });
    await expect(createEip3009Settler(noCode.chain)(input)).rejects.toThrow(/no contract at token/);
    expect(noCode.calls).toHaveLength(0);

    const reverted = fakeChain({ code: '0x6080', status: 'reverted' });
    await expect(createEip3009Settler(reverted.chain)(input)).rejects.toBeInstanceOf(
      Errors.VerificationFailedError,
    );

    const wrongAmount = fakeChain({
      code: '0x6080',
      logs: [transferLog(token, payer.address, 1n)],
    });
    await expect(createEip3009Settler(wrongAmount.chain)(input)).rejects.toThrow(/no Transfer/);

    const otherToken = fakeChain({
      code: '0x6080',
      logs: [transferLog(to, payer.address, 250000n)],
    });
    await expect(createEip3009Settler(otherToken.chain)(input)).rejects.toThrow(/no Transfer/);
  });
});
