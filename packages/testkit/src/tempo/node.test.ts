import { createClient, http } from 'viem';
import { prepareTransactionRequest, sendRawTransaction, signTransaction } from 'viem/actions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAccount } from '../chain/dev-accounts.js';
import { TIP1034_ESCROW } from './escrow.js';
import { PATH_USD, startTempoNode, type TempoNode } from './node.js';

let node: TempoNode;
beforeAll(async () => {
  node = await startTempoNode();
});
afterAll(async () => {
  await node?.stop();
});

/** One signed expiring-nonce (TIP-1009) Tempo transaction from dev account `index`. */
async function expiringTx(index: number) {
  const account = devAccount(index);
  const client = node.client(account);
  const prepared = await prepareTransactionRequest(client, {
    account,
    calls: [{ to: '0x000000000000000000000000000000000000dEaD', data: '0x' }],
    nonceKey: 'expiring',
    feeToken: PATH_USD,
  } as never);
  return signTransaction(client, prepared as never);
}

async function mined(hash: `0x${string}`): Promise<boolean> {
  const receipt = await node
    .client()
    .request({ method: 'eth_getTransactionReceipt', params: [hash] } as never);
  return receipt !== null;
}

describe('startTempoNode', () => {
  it('places the testkit escrow at the TIP-1034 precompile address; pathUSD is served at genesis', async () => {
    const code = (await node
      .client()
      .request({ method: 'eth_getCode', params: [TIP1034_ESCROW, 'latest'] } as never)) as string;
    expect(code.length).toBeGreaterThan(1000);
    expect(await node.balanceOf(devAccount(1).address)).toBeGreaterThan(10n ** 12n);
  });

  it('expiring nonces: through the transport every one is mined; plain JSON-RPC to anvil 1.7.1 drops all but the first', async () => {
    const raw = createClient({ chain: node.chain, transport: http(node.rpcUrl) });
    const first = await sendRawTransaction(raw, {
      serializedTransaction: (await expiringTx(3)) as never,
    });
    const second = await sendRawTransaction(raw, {
      serializedTransaction: (await expiringTx(3)) as never,
    });
    expect(await mined(first)).toBe(true);
    // anvil 1.7.1 keeps nonceKey 2^256-1 as an ordinary lane: nonce 0 again is dropped silently.
    expect(await mined(second)).toBe(false);
    const viaTransport = node.client();
    for (let i = 0; i < 3; i++) {
      const hash = await sendRawTransaction(viaTransport, {
        serializedTransaction: (await expiringTx(3)) as never,
      });
      expect(await mined(hash)).toBe(true);
    }
  });

  it('the transport refuses to broadcast the same transaction twice (the replay protection of expiring nonces)', async () => {
    const signed = await expiringTx(2);
    const client = node.client();
    await sendRawTransaction(client, { serializedTransaction: signed as never });
    await expect(
      sendRawTransaction(client, { serializedTransaction: signed as never }),
    ).rejects.toThrow(/replayed/);
  });
});
