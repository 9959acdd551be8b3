/**
 * MPP `tempo/session` end to end: `createPayingFetch({ sessions })` + `tempoSessionWallet`
 * against the REAL mppx 0.11 `tempo.session` server (v2, TIP-1034) on `anvil --network tempo`
 * with the testkit's escrow at the precompile address (`@stipend/testkit/tempo`). Money is
 * counted three ways: on chain (payer, payee and escrow pathUSD balances, the escrow's
 * ChannelClosed event), the client (session record, budget, ledger) and the server's receipts.
 */
import {
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemorySessionStore,
  createPayingFetch,
  fixedPriceSource,
  parseWwwAuthenticateLenient,
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
import type { LocalAccount } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempoPolicy } from './tempo-helpers.js';

const payee = devAccount(6);
let node: TempoNode;
let server: MppxSessionServer;

function setup(
  account: LocalAccount,
  options: { maxDepositUsd?: string; escrows?: string[] } = {},
) {
  const wallet = tempoSessionWallet({
    account,
    client: node.client(),
    escrows: [node.escrow, ...(options.escrows ?? [])],
  });
  const budget = createMemoryBudgetStore();
  const ledger = createMemoryLedger();
  const store = createMemorySessionStore();
  const method = tempoSessionMethod(options.escrows ? { escrows: options.escrows } : {});
  const payingFetch = createPayingFetch({
    wallets: [wallet],
    policy: tempoPolicy(options.maxDepositUsd),
    prices: fixedPriceSource({}),
    budget,
    ledger,
    defaultAdapters: false,
    sessions: { methods: [method], store, idleCloseMs: 0, refundWaitMs: 2_000 },
  });
  return { payingFetch, wallet, budget, ledger, store, method };
}

beforeAll(async () => {
  node = await startTempoNode();
  for (const i of [4, 5, 7, 8]) await node.approveEscrow(devAccount(i));
  server = await startMppxSessionServer({
    node,
    account: payee,
    amount: '0.01',
    suggestedDeposit: '0.5',
  });
});
afterAll(async () => {
  await server?.close();
  await node?.stop();
});

describe('tempo/session end to end (Stipend ↔ real mppx server)', () => {
  it('opens a channel, pays 45 calls (20 at a time), closes: chain = client = server', async () => {
    const payer = devAccount(4);
    const { payingFetch, store, budget, ledger } = setup(payer);
    const before = {
      payer: await node.balanceOf(payer.address),
      payee: await node.balanceOf(payee.address),
      escrow: await node.balanceOf(node.escrow),
    };
    const first = await payingFetch(server.url);
    expect(first.status).toBe(200);
    await first.text();
    for (let i = 0; i < 24; i++) {
      const res = await payingFetch(server.url);
      expect(res.status).toBe(200);
      await res.text();
    }
    const batch = await Promise.all(Array.from({ length: 20 }, () => payingFetch(server.url)));
    for (const res of batch) {
      expect(res.status).toBe(200);
      await res.text();
    }
    const [session] = await store.list();
    expect(session?.uses).toBe(45);
    expect(session?.spentAtomic).toBe(450_000n);
    expect(session?.spentAtomic).toBeLessThanOrEqual(session!.depositAtomic);
    const channelId = session!.methodData.channelId as `0x${string}`;
    expect((await node.channelState(channelId)).deposit).toBe(session!.depositAtomic);
    expect(session!.depositAtomic).toBe(500_000n); // the server's suggestion, under maxDeposit

    // The session manager sends the method's close credential, then confirms the refund on
    // chain and settles the budget.
    const closed = await payingFetch.sessions.close(session!.id);
    expect(closed.state).toBe('closed');
    // Chain: the channel is gone, the payee got exactly the vouchers' 45 units (minus its own
    // close fee), the payer paid them plus its fees, the escrow keeps nothing.
    expect((await node.channelState(channelId)).deposit).toBe(0n);
    expect((await node.balanceOf(node.escrow)) - before.escrow).toBe(0n);
    const payerDelta = before.payer - (await node.balanceOf(payer.address));
    const payeeDelta = (await node.balanceOf(payee.address)) - before.payee;
    expect(payerDelta - 450_000n).toBeGreaterThanOrEqual(0n);
    expect(payerDelta - 450_000n).toBeLessThan(10_000n);
    expect(450_000n - payeeDelta).toBeGreaterThanOrEqual(0n);
    expect(450_000n - payeeDelta).toBeLessThan(10_000n);
    // Client = chain: refund confirmed from the escrow's event.
    expect(closed.refundedAtomic).toBe(closed.depositAtomic - 450_000n);
    // Server's own accounting.
    expect(server.accounting(channelId)?.spent).toBe(450_000n);
    // Budget: what stays committed is what left the payer for the channel (spent, never the
    // server's word), plus at most the reserved fee caps.
    const usage = await budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    const feeCap = closed.holds.reduce((sum, hold) => sum + (hold.feeAtomic ?? 0n), 0n);
    expect(usage.heldUsdMicros).toBe(0n);
    expect(usage.committedUsdMicros).toBe(450_000n + feeCap);
    expect(usage.committedUsdMicros).toBeGreaterThanOrEqual(payerDelta);
    expect(ledger).toBeDefined();
  });

  it('maxDeposit caps the opening: a server suggesting 1,000 pathUSD gets a channel of maxDeposit, on chain', async () => {
    const greedy = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '1000',
    });
    try {
      const payer = devAccount(5);
      const { payingFetch, store } = setup(payer, { maxDepositUsd: '0.30' });
      const before = await node.balanceOf(payer.address);
      const res = await payingFetch(greedy.url);
      expect(res.status).toBe(200);
      await res.text();
      const [session] = await store.list();
      expect(session?.depositAtomic).toBe(300_000n);
      const channelId = session!.methodData.channelId as `0x${string}`;
      expect((await node.channelState(channelId)).deposit).toBe(300_000n);
      // What left the payer: the capped deposit and the opening's fee, never the suggestion.
      const left = before - (await node.balanceOf(payer.address));
      expect(left - 300_000n).toBeGreaterThanOrEqual(0n);
      expect(left - 300_000n).toBeLessThan(10_000n);
    } finally {
      await greedy.close();
    }
  });

  it('a receipt claiming more than the vouchers allow changes nothing the client counts', async () => {
    const liar = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '0.1',
      rewrite(response) {
        const header = response.headers.get('payment-receipt');
        if (!header) return response;
        const claim = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<
          string,
          unknown
        >;
        const headers = new Headers(response.headers);
        const inflated = {
          ...claim,
          spent: '99000000',
          acceptedCumulative: '99000000',
          units: 9900,
        };
        headers.set('payment-receipt', Buffer.from(JSON.stringify(inflated)).toString('base64url'));
        return new Response(response.body, { status: response.status, headers });
      },
    });
    try {
      const payer = devAccount(7);
      const { payingFetch, store, budget } = setup(payer);
      for (let i = 0; i < 3; i++) {
        const res = await payingFetch(liar.url);
        expect(res.status).toBe(200);
        await res.text();
      }
      const [session] = await store.list();
      expect(session?.spentAtomic).toBe(30_000n);
      expect(session?.uses).toBe(3);
      const usage = await budget.usage(
        { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
        Date.now(),
      );
      // Held: the deposit and its fee cap; nothing committed on the server's word.
      expect(usage.committedUsdMicros).toBe(0n);
      expect(usage.heldUsdMicros).toBeLessThanOrEqual(100_000n + 50_000n);
    } finally {
      await liar.close();
    }
  });

  it('escrow_pinned: a server naming an escrow that is not pinned is refused before anything is signed; pinned, it is paid', async () => {
    const custom = '0x00000000000000000000000000000000000e5c20';
    await node.installEscrow(custom);
    const rogue = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '0.1',
      escrow: custom,
    });
    try {
      const payer = devAccount(8);
      const before = await node.balanceOf(payer.address);
      const refusing = setup(payer);
      const res = await refusing.payingFetch(rogue.url);
      expect(res.status).toBe(402);
      await res.text();
      expect(await refusing.store.list()).toHaveLength(0);
      expect(await node.balanceOf(payer.address)).toBe(before);

      // Pinned by the user (method and wallet): the same server is paid, on that escrow.
      await node.approveEscrow(payer, undefined, custom);
      const pinned = setup(payer, { escrows: [custom] });
      const paid = await pinned.payingFetch(rogue.url);
      expect(paid.status).toBe(200);
      await paid.text();
      const [session] = await pinned.store.list();
      expect(session?.methodData.escrow).toBe(custom);
      expect(await node.balanceOf(custom)).toBe(100_000n);
    } finally {
      await rogue.close();
    }
  });

  it("top-up: the method's topUp credential (capped below the server's suggestion) is accepted by mppx; the deposit rises on chain", async () => {
    // Driven at the method level: the session manager looks for top-up challenges with a
    // fixed deposit (Lightning's), which a Tempo challenge never has (see the report).
    const small = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '0.05',
    });
    try {
      const payer = devAccount(9);
      await node.approveEscrow(payer);
      const { payingFetch, store, method, wallet } = setup(payer);
      for (let i = 0; i < 2; i++) {
        const res = await payingFetch(small.url);
        expect(res.status).toBe(200);
        await res.text();
      }
      const record = (await store.list())[0]!;
      const channelId = record.methodData.channelId as `0x${string}`;
      expect((await node.channelState(channelId)).deposit).toBe(50_000n);

      const fresh = await fetch(small.url);
      expect(fresh.status).toBe(402);
      await fresh.text();
      const header = fresh.headers.get('www-authenticate')!;
      const input = {
        status: 402,
        headers: fresh.headers,
        url: new URL(small.url),
        method: 'GET',
        challenges: parseWwwAuthenticateLenient(header).challenges,
        bodyText: async () => undefined,
        now: Date.now(),
      };
      const offer = method.offers(input).offers[0]!;
      const plan = method.deposit(offer, { value: 30_000n, unit: offer.offer.amount.unit });
      if (typeof plan === 'string') throw new Error(plan);
      expect(plan.amount.value).toBe(30_000n);
      const result = await method.topUp({
        session: record,
        offer,
        plan,
        wallet,
        pay: {
          request: { method: 'GET', url: small.url },
          idempotencyKey: 'k',
          maxAuthorizationTtlSec: 60,
          reservationId: 'r',
          now: Date.now(),
        },
      });
      // wallet_lookup_chain_fact: signed but not broadcast = pending; broadcast by the server = paid.
      expect(await wallet.lookup!(result.proof.reference, plan.pay)).toBe('pending');
      const answer = await fetch(small.url, { headers: result.headers });
      expect(answer.status).toBeLessThan(300);
      await answer.text();
      expect((await node.channelState(channelId)).deposit).toBe(80_000n);
      expect(wallet.tempoChannels.channel(channelId)?.deposit).toBe(80_000n);
      expect(await wallet.lookup!(result.proof.reference, plan.pay)).toBe('paid');
    } finally {
      await small.close();
    }
  });

  it('a server demanding vouchers beyond the deposit gets none: nothing is signed past the deposit, nothing more moves', async () => {
    let demanded = 0;
    const greedy = await startMppxSessionServer({
      node,
      account: payee,
      amount: '0.01',
      suggestedDeposit: '0.03',
      rewrite(response, request) {
        // After the opening, every voucher is answered "insufficient balance: sign more".
        const auth = request.headers.get('authorization') ?? '';
        const credential = auth.startsWith('Payment ')
          ? (JSON.parse(Buffer.from(auth.slice(8), 'base64url').toString('utf8')) as {
              payload?: { action?: string };
            })
          : undefined;
        if (credential?.payload?.action !== 'voucher') return response;
        demanded++;
        return new Response(
          JSON.stringify({
            type: 'https://paymentauth.org/problems/session/insufficient-balance',
            title: 'Insufficient balance',
            status: 402,
            detail: 'requiredCumulative 9000000',
          }),
          { status: 402, headers: { 'content-type': 'application/problem+json' } },
        );
      },
    });
    try {
      const payer = devAccount(0);
      await node.approveEscrow(payer);
      const { payingFetch, store, wallet } = setup(payer);
      const first = await payingFetch(greedy.url);
      expect(first.status).toBe(200);
      await first.text();
      for (let i = 0; i < 6; i++) {
        const outcome = await payingFetch(greedy.url).then(
          async (res) => {
            await res.text();
            return res.status;
          },
          (error: unknown) => (error as { code?: string }).code,
        );
        expect(outcome).not.toBe(200);
      }
      expect(demanded).toBeGreaterThan(0);
      const [session] = await store.list();
      const channelId = session!.methodData.channelId as string;
      const channel = wallet.tempoChannels.channel(channelId)!;
      expect(channel.deposit).toBe(30_000n);
      expect(channel.signed).toBeLessThanOrEqual(channel.deposit);
      expect(session!.spentAtomic).toBeLessThanOrEqual(session!.depositAtomic);
      expect((await node.channelState(channelId as `0x${string}`)).deposit).toBe(30_000n);
    } finally {
      await greedy.close();
    }
  });
});
