import { type Hex, keccak256, parseEventLogs, toHex } from 'viem';
import { readContract, waitForTransactionReceipt, writeContract } from 'viem/actions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAccount } from '../chain/dev-accounts.js';
import { compileChannelEscrow, TIP1034_ESCROW } from './escrow.js';
import { PATH_USD, startTempoNode, type TempoNode } from './node.js';

const payer = devAccount(1);
const payee = devAccount(2);
const stranger = devAccount(3);
const { abi } = compileChannelEscrow();
let node: TempoNode;
let descriptor: {
  payer: Hex;
  payee: Hex;
  operator: Hex;
  token: Hex;
  salt: Hex;
  authorizedSigner: Hex;
  expiringNonceHash: Hex;
};
let channelId: Hex;

async function send(account: typeof payer, functionName: string, args: unknown[]) {
  const hash = await writeContract(node.client(account), {
    account,
    chain: node.chain,
    address: TIP1034_ESCROW,
    abi,
    functionName,
    args,
    feeToken: PATH_USD,
    gas: 400_000n,
  } as never);
  return waitForTransactionReceipt(node.client(), { hash });
}

function voucher(signer: typeof payer, amount: bigint) {
  return signer.signTypedData({
    domain: {
      name: 'TIP20 Channel Reserve',
      version: '1',
      chainId: node.chain.id,
      verifyingContract: TIP1034_ESCROW,
    },
    types: {
      Voucher: [
        { name: 'channelId', type: 'bytes32' },
        { name: 'cumulativeAmount', type: 'uint96' },
      ],
    },
    primaryType: 'Voucher',
    message: { channelId, cumulativeAmount: amount },
  });
}

beforeAll(async () => {
  node = await startTempoNode();
  await node.approveEscrow(payer);
  const salt = keccak256(toHex('escrow-test'));
  const receipt = await send(payer, 'open', [
    payee.address,
    `0x${'0'.repeat(40)}`,
    PATH_USD,
    1_000n,
    salt,
    payer.address,
  ]);
  expect(receipt.status).toBe('success');
  const [opened] = parseEventLogs({
    abi,
    logs: receipt.logs,
    eventName: 'ChannelOpened',
  }) as unknown as {
    args: { channelId: Hex; expiringNonceHash: Hex };
  }[];
  channelId = opened!.args.channelId;
  descriptor = {
    payer: payer.address,
    payee: payee.address,
    operator: `0x${'0'.repeat(40)}`,
    token: PATH_USD,
    salt,
    authorizedSigner: payer.address,
    expiringNonceHash: opened!.args.expiringNonceHash,
  };
});
afterAll(async () => {
  await node?.stop();
});

describe('testkit TIP-1034 escrow', () => {
  it('the channel id binds the transaction context: a non-zero expiring-nonce hash from the transport', () => {
    expect(descriptor.expiringNonceHash).not.toBe(`0x${'0'.repeat(64)}`);
  });

  it("settle: only the payee (or operator) with the payer's voucher; never above the deposit", async () => {
    expect(
      (await send(stranger, 'settle', [descriptor, 300n, await voucher(payer, 300n)])).status,
    ).toBe('reverted');
    expect(
      (await send(payee, 'settle', [descriptor, 300n, await voucher(stranger, 300n)])).status,
    ).toBe('reverted');
    expect(
      (await send(payee, 'settle', [descriptor, 1_001n, await voucher(payer, 1_001n)])).status,
    ).toBe('reverted');
    const before = await node.balanceOf(TIP1034_ESCROW);
    const ok = await send(payee, 'settle', [descriptor, 300n, await voucher(payer, 300n)]);
    expect(ok.status).toBe('success');
    // 300 left the escrow, to the payee (whose own fee is paid in pathUSD too).
    expect(before - (await node.balanceOf(TIP1034_ESCROW))).toBe(300n);
    expect((await node.channelState(channelId)).settled).toBe(300n);
  });

  it('forced close: the payer requests a close, waits the 15-minute grace period, withdraws the rest', async () => {
    expect((await send(payer, 'requestClose', [descriptor])).status).toBe('success');
    expect((await send(payer, 'withdraw', [descriptor])).status).toBe('reverted');
    const client = node.client();
    await client.request({ method: 'evm_increaseTime', params: [901] } as never);
    await client.request({ method: 'evm_mine', params: [] } as never);
    const escrowBefore = await node.balanceOf(TIP1034_ESCROW);
    const done = await send(payer, 'withdraw', [descriptor]);
    expect(done.status).toBe('success');
    expect(escrowBefore - (await node.balanceOf(TIP1034_ESCROW))).toBe(700n);
    expect(
      await readContract(client, {
        address: TIP1034_ESCROW,
        abi,
        functionName: 'getChannelState',
        args: [channelId],
      }),
    ).toEqual({
      settled: 0n,
      deposit: 0n,
      closeRequestedAt: 0,
    });
  });
});
