/**
 * MPP `tempo/session` under load: 200 calls, 50 at a time, on one channel. Each use signs its
 * own voucher when it is sent (no window signed ahead); the vouchers signed rise strictly, every
 * voucher the REAL mppx 0.11 server was sent is accepted, and neither the vouchers nor the
 * server's spend pass the deposit. Counted on chain, by the client and by the server.
 */
import {
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemorySessionStore,
  createPayingFetch,
  fixedPriceSource,
  tempoSessionMethod,
} from '@stipend/client';
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

const payer = devAccount(2);
const payee = devAccount(6);
let node: TempoNode;
let server: MppxSessionServer;
const sent: { action?: string; cumulative?: bigint; status: number; problem?: string }[] = [];

beforeAll(async () => {
  node = await startTempoNode();
  await node.approveEscrow(payer);
  server = await startMppxSessionServer({
    node,
    account: payee,
    amount: '0.01',
    suggestedDeposit: '2.5',
    async rewrite(response, request) {
      const credential = credentialSent(request);
      const problem =
        credential.action && response.status === 402
          ? await response
              .clone()
              .json()
              .then((body: { detail?: string }) => body.detail)
              .catch(() => undefined)
          : undefined;
      sent.push({ ...credential, status: response.status, ...(problem ? { problem } : {}) });
      return response;
    },
  });
});
afterAll(async () => {
  await server?.close();
  await node?.stop();
});

describe('tempo/session under concurrency (Stipend ↔ real mppx server)', () => {
  it('voucher_monotonic_under_load: 200 calls, 50 concurrent, one channel: vouchers signed strictly increasing, every call served (an overtaken voucher is sent again, higher), spend ≤ deposit at the server', async () => {
    const key = countingVouchers(payer);
    const store = createMemorySessionStore();
    const budget = createMemoryBudgetStore();
    const payingFetch = createPayingFetch({
      wallets: [tempoSessionWallet({ account: key.account, client: node.client() })],
      policy: tempoPolicy('2.50'),
      prices: fixedPriceSource({}),
      budget,
      ledger: createMemoryLedger(),
      defaultAdapters: false,
      sessions: {
        methods: [tempoSessionMethod()],
        store,
        idleCloseMs: 0,
        refundWaitMs: 2_000,
      },
    });
    const before = await node.balanceOf(payer.address);
    let next = 0;
    const statuses: number[] = [];
    const worker = async () => {
      while (next < 200) {
        next++;
        const res = await payingFetch(server.url);
        statuses.push(res.status);
        await res.text();
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    expect(statuses).toHaveLength(200);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const sessions = await store.list();
    expect(sessions).toHaveLength(1);
    const session = sessions[0]!;
    const channelId = session.methodData.channelId as `0x${string}`;
    expect(session.uses).toBe(200);
    expect(session.spentAtomic).toBe(2_000_000n);
    expect(session.depositAtomic).toBe(2_500_000n);

    // Client: every voucher signed is higher than the one before; none passes the deposit.
    expect(key.signed.length).toBeGreaterThan(0);
    expect(key.signed.length).toBeLessThanOrEqual(200);
    expect(key.signed.every((v, i) => i === 0 || v > key.signed[i - 1]!)).toBe(true);
    expect(key.signed.at(-1)).toBe(2_000_000n);
    // Server: one opening; every voucher it refused was one a higher voucher sent at the same
    // time overtook (mppx refuses a voucher below its highest), and that call was sent again
    // with a voucher at least as high as every one signed before; no other refusal.
    const credentials = sent.filter((s) => s.action !== undefined);
    const refused = credentials.filter((s) => s.status !== 200);
    expect(credentials.filter((s) => s.action === 'open')).toHaveLength(1);
    expect(refused.every((s) => /highest accepted voucher/.test(s.problem ?? ''))).toBe(true);
    expect(credentials.filter((s) => s.action === 'voucher')).toHaveLength(199 + refused.length);
    expect(credentials.every((s) => (s.cumulative ?? 0n) <= session.depositAtomic)).toBe(true);
    // The server's own accounting, in the order it answered: its accepted voucher never goes
    // down, it serves one unit per call, never more than the voucher it holds nor the deposit.
    const mine = server.receipts.filter((r) => r.channelId.toLowerCase() === channelId);
    expect(mine).toHaveLength(200);
    for (const [i, r] of mine.entries()) {
      if (i > 0)
        expect(r.acceptedCumulative).toBeGreaterThanOrEqual(mine[i - 1]!.acceptedCumulative);
      expect(r.spent).toBe(BigInt(i + 1) * 10_000n);
      expect(r.spent).toBeLessThanOrEqual(r.acceptedCumulative);
      expect(r.acceptedCumulative).toBeLessThanOrEqual(session.depositAtomic);
    }
    expect(mine.at(-1)!.acceptedCumulative).toBe(2_000_000n);
    // Nothing moved per call: the payer paid only the deposit (and the opening fee) so far.
    const left = before - (await node.balanceOf(payer.address));
    expect(left - 2_500_000n).toBeGreaterThanOrEqual(0n);
    expect(left - 2_500_000n).toBeLessThan(10_000n);

    // Close: chain = client = server.
    const closed = await payingFetch.sessions.close(session.id);
    expect(closed.state).toBe('closed');
    expect(closed.refundedAtomic).toBe(500_000n);
    expect((await node.channelState(channelId)).deposit).toBe(0n);
    const paid = before - (await node.balanceOf(payer.address));
    expect(paid - 2_000_000n).toBeGreaterThanOrEqual(0n);
    expect(paid - 2_000_000n).toBeLessThan(10_000n);
  });
});
