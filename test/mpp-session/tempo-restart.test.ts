/**
 * MPP `tempo/session` across restarts: what signing needs lives in the session record, so a
 * new paying fetch (a new process: new method, new wallet object, same key) over the same
 * durable stores adopts the open channel and keeps paying on it, and a third one closes it
 * before making any call. Against the REAL mppx 0.11 server on `anvil --network tempo`;
 * money counted on chain, by the client (record, budget) and by the server's receipts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPayingFetch, fixedPriceSource, tempoSessionMethod } from '@stipend/client';
import { createFileStores } from '@stipend/stores/file';
import { devAccount } from '@stipend/testkit/chain';
import {
  type MppxSessionServer,
  startMppxSessionServer,
  startTempoNode,
  type TempoNode,
} from '@stipend/testkit/tempo';
import { tempoSessionWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countingVouchers, credentialSent, tempoPolicy } from './tempo-helpers.js';

const payer = devAccount(1);
const payee = devAccount(6);
let node: TempoNode;
let server: MppxSessionServer;
const sent: { action?: string; cumulative?: bigint; status: number }[] = [];

/** One "process": its own method, wallet object (same key) and store handles on `dir`. */
function processOn(dir: string) {
  const key = countingVouchers(payer);
  const stores = createFileStores({ dir });
  const wallet = tempoSessionWallet({ account: key.account, client: node.client() });
  const payingFetch = createPayingFetch({
    wallets: [wallet],
    policy: tempoPolicy('0.50'),
    prices: fixedPriceSource({}),
    budget: stores.budget,
    ledger: stores.ledger,
    defaultAdapters: false,
    sessions: {
      methods: [tempoSessionMethod()],
      store: stores.sessions,
      idleCloseMs: 0,
      refundWaitMs: 2_000,
    },
  });
  return { payingFetch, stores, wallet, signed: key.signed };
}

async function call(payingFetch: ReturnType<typeof createPayingFetch>) {
  const res = await payingFetch(server.url);
  expect(res.status).toBe(200);
  await res.text();
}

beforeAll(async () => {
  node = await startTempoNode();
  await node.approveEscrow(payer);
  server = await startMppxSessionServer({
    node,
    account: payee,
    amount: '0.01',
    suggestedDeposit: '0.5',
    rewrite(response, request) {
      sent.push({ ...credentialSent(request), status: response.status });
      return response;
    },
  });
});
afterAll(async () => {
  await server?.close();
  await node?.stop();
});

describe('tempo/session survives a restart (Stipend ↔ real mppx server)', () => {
  it('restart_adopts_channel: a second paying fetch over the same stores and key pays on the SAME channel (no second deposit), a third closes it: chain = client = server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-tempo-restart-'));
    const before = {
      payer: await node.balanceOf(payer.address),
      payee: await node.balanceOf(payee.address),
      escrow: await node.balanceOf(node.escrow),
    };

    // Process 1: opens the channel, pays 5 calls, then goes away without closing.
    const first = processOn(dir);
    for (let i = 0; i < 5; i++) await call(first.payingFetch);
    const [opened] = await first.stores.sessions.list();
    const channelId = opened!.methodData.channelId as `0x${string}`;
    expect(opened).toMatchObject({ state: 'open', uses: 5, spentAtomic: 50_000n });
    expect(opened!.depositAtomic).toBe(500_000n);
    expect(first.signed).toEqual([10_000n, 20_000n, 30_000n, 40_000n, 50_000n]);
    await first.stores.close();
    const afterOpen = await node.balanceOf(payer.address);

    // Process 2: same key, new everything else. 5 calls one by one, then 10 at once.
    const second = processOn(dir);
    expect(second.wallet.tempoChannels.channel(channelId)).toBeUndefined();
    for (let i = 0; i < 5; i++) await call(second.payingFetch);
    await Promise.all(Array.from({ length: 10 }, () => call(second.payingFetch)));
    const sessions = await second.stores.sessions.list();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ id: opened!.id, state: 'open', uses: 20 });
    expect(sessions[0]!.spentAtomic).toBe(200_000n);
    // The same channel: adopted from the record, no second opening, nothing more left the payer.
    expect(second.wallet.tempoChannels.channel(channelId)?.signed).toBe(200_000n);
    expect(sent.filter((s) => s.action === 'open')).toHaveLength(1);
    expect((await node.channelState(channelId)).deposit).toBe(500_000n);
    expect(await node.balanceOf(payer.address)).toBe(afterOpen);
    // Process 2 signed from where process 1 stopped, in strictly increasing amounts.
    expect(second.signed[0]).toBe(60_000n);
    expect(second.signed.every((v, i) => i === 0 || v > second.signed[i - 1]!)).toBe(true);
    expect(second.signed.at(-1)).toBe(200_000n);
    await second.stores.close();

    // Process 3: closes it before making any call (the wallet comes from createPayingFetch).
    const third = processOn(dir);
    const closed = await third.payingFetch.sessions.close(opened!.id);
    expect(closed.state).toBe('closed');
    expect(closed.refundedAtomic).toBe(300_000n);
    expect(third.signed).toEqual([200_000n]); // the close voucher, re-signed for the same amount
    const close = sent.find((s) => s.action === 'close');
    expect(close?.cumulative).toBe(200_000n);

    // Chain: the channel is gone; the payee got the 20 units (less its close fee); the escrow
    // keeps nothing; the payer paid 20 units plus its own opening fee.
    expect((await node.channelState(channelId)).deposit).toBe(0n);
    expect((await node.balanceOf(node.escrow)) - before.escrow).toBe(0n);
    const payerDelta = before.payer - (await node.balanceOf(payer.address));
    const payeeDelta = (await node.balanceOf(payee.address)) - before.payee;
    expect(payerDelta - 200_000n).toBeGreaterThanOrEqual(0n);
    expect(payerDelta - 200_000n).toBeLessThan(10_000n);
    expect(200_000n - payeeDelta).toBeGreaterThanOrEqual(0n);
    expect(200_000n - payeeDelta).toBeLessThan(10_000n);
    // Server: it charged 20 units on this channel.
    const receipts = server.receipts.filter(
      (r) => r.channelId.toLowerCase() === channelId.toLowerCase(),
    );
    // 20 served calls and the close.
    expect(receipts).toHaveLength(21);
    expect(receipts.every((r) => r.spent <= 200_000n)).toBe(true);
    expect(receipts.at(-1)?.spent).toBe(200_000n);
    // Budget: nothing held; committed = what was spent plus the opening's fee cap.
    const usage = await third.stores.budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    const feeCap = closed.holds.reduce((sum, hold) => sum + (hold.feeAtomic ?? 0n), 0n);
    expect(usage.heldUsdMicros).toBe(0n);
    expect(usage.committedUsdMicros).toBe(200_000n + feeCap);
    await third.stores.close();
  });
});
