/**
 * The REAL mppx 0.11 `tempo/session` client pays the REAL mppx `tempo/session` server (v2,
 * TIP-1034), on `anvil --network tempo` with the testkit's escrow at the precompile address.
 * Money is counted on chain: the payer's, the payee's and the escrow's pathUSD balances.
 * This proves the harness (not Stipend): the peer pair runs here.
 */
import { devAccount } from '@stipend/testkit/chain';
import {
  type MppxSessionServer,
  startMppxSessionServer,
  startTempoNode,
  type TempoNode,
} from '@stipend/testkit/tempo';
import { tempo as clientTempo } from 'mppx/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const payer = devAccount(5);
const payee = devAccount(6);

let node: TempoNode;
let server: MppxSessionServer;

beforeAll(async () => {
  node = await startTempoNode();
  await node.approveEscrow(payer);
  server = await startMppxSessionServer({
    node,
    account: payee,
    amount: '0.01',
    suggestedDeposit: '1',
  });
});

afterAll(async () => {
  await server?.close();
  await node?.stop();
});

describe('mppx client ↔ mppx server, tempo/session v2 on anvil --network tempo', () => {
  it('opens a channel, pays 8 calls with vouchers, tops up, closes: chain = server accounting', async () => {
    const before = {
      payer: await node.balanceOf(payer.address),
      payee: await node.balanceOf(payee.address),
      escrow: await node.balanceOf(node.escrow),
    };
    const manager = clientTempo.session.manager({
      account: payer,
      maxDeposit: '2',
      getClient: () => node.client() as never,
    });
    for (let i = 0; i < 5; i++) {
      const res = await manager.fetch(server.url);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const channelId = manager.channelId!;
    expect(channelId).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await node.channelState(channelId)).deposit).toBe(1_000_000n);
    expect((await node.balanceOf(node.escrow)) - before.escrow).toBe(1_000_000n);

    await manager.topUp('0.5');
    expect((await node.channelState(channelId)).deposit).toBe(1_500_000n);

    for (let i = 0; i < 3; i++) {
      const res = await manager.fetch(server.url);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const closed = await manager.close();
    expect(closed?.spent).toBe('80000');

    // On chain: the channel is gone, the escrow holds nothing of it, the payee got 8 × 0.01.
    expect((await node.channelState(channelId)).deposit).toBe(0n);
    expect((await node.balanceOf(node.escrow)) - before.escrow).toBe(0n);
    const payerDelta = before.payer - (await node.balanceOf(payer.address));
    const payeeDelta = (await node.balanceOf(payee.address)) - before.payee;
    // Fees are paid in pathUSD too (the payer's open and top-up, the payee's close): bounded.
    expect(payerDelta).toBeGreaterThanOrEqual(80_000n);
    expect(payerDelta - 80_000n).toBeLessThan(10_000n);
    expect(payeeDelta).toBeLessThanOrEqual(80_000n);
    expect(80_000n - payeeDelta).toBeLessThan(10_000n);
    // The server's own accounting agrees.
    expect(server.accounting(channelId)?.spent).toBe(80_000n);
    expect(server.served()).toBeGreaterThanOrEqual(8);
  });

  it('with a fee payer: the client signs type 0x78, the server co-signs and broadcasts; anvil takes it', async () => {
    const sponsor = devAccount(7);
    const sponsored = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '0.1',
      feePayer: sponsor,
    });
    const sent: string[] = [];
    try {
      const payer8 = devAccount(8);
      await node.approveEscrow(payer8);
      const before = {
        payer: await node.balanceOf(payer8.address),
        sponsor: await node.balanceOf(sponsor.address),
      };
      const manager = clientTempo.session.manager({
        account: payer8,
        maxDeposit: '1',
        getClient: () => node.client() as never,
        fetch: async (input, init) => {
          const auth = new Headers(init?.headers).get('authorization');
          if (auth) {
            const credential = JSON.parse(Buffer.from(auth.slice(8), 'base64url').toString('utf8'));
            if (typeof credential.payload?.transaction === 'string')
              sent.push(credential.payload.transaction.slice(0, 4));
          }
          return fetch(input, init);
        },
      });
      const res = await manager.fetch(sponsored.url);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(sent).toEqual(['0x78']);
      const channelId = manager.channelId!;
      expect((await node.channelState(channelId)).deposit).toBe(100_000n);
      // The payer moved exactly the deposit: the sponsor paid the fee.
      expect(before.payer - (await node.balanceOf(payer8.address))).toBe(100_000n);
      expect(await node.balanceOf(sponsor.address)).toBeLessThan(before.sponsor);
    } finally {
      await sponsored.close();
    }
  });
});
