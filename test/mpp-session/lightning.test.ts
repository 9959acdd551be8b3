/**
 * MPP `lightning/session` end to end: `createPayingFetch({ sessions })` + `lightningWallet`
 * (its backend pays through the testkit's simulated Lightning network and creates the return
 * invoice on the agent's own node) against the testkit's `lightning/session` seller (an
 * aperture stand-in written from draft-lightning-session-00). Money is counted three ways:
 * the client (session record, budget, ledger), the server's books, and the rail (the
 * simulator's payments and the agent's return invoice).
 */
import { isStipendError, lightningSessionMethod } from '@stipend/client';
import { type LightningSessionServer, startLightningSessionServer } from '@stipend/testkit/mpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLightningNetwork, dayUsage, sessionPolicy, sessionSetup } from './helpers.js';

const network = createLightningNetwork();
let server: LightningSessionServer;
let other: LightningSessionServer;

beforeAll(async () => {
  other = await startLightningSessionServer({ network });
  server = await startLightningSessionServer({
    network,
    priceSats: 2n,
    depositSats: 30n,
    redirectTo: `${other.url}generate`,
  });
});
afterAll(async () => {
  await server.close();
  await other.close();
  network.close();
});

/** The one session the server opened since `before` sessions existed. */
function newBooks(srv: LightningSessionServer, before: number) {
  return [...srv.sessions.values()].slice(before);
}

describe('lightning/session end to end', () => {
  it('opens once, makes 1,000 calls (50 at a time) with top-ups, closes with the refund confirmed on the agent node: ledger = server = rail', async () => {
    const { payingFetch, agent, budget, ledger, store } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = network.payments.filter(
      (p) => p.payer === 'agent' && p.status === 'succeeded',
    ).length;

    let maxSpentSeen = 0n;
    let overDeposit = false;
    for (let batch = 0; batch < 20; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          payingFetch(`${server.url}generate?n=${batch * 50 + i}`),
        ),
      );
      for (const response of responses) {
        expect(response.status).toBe(200);
        await response.text();
      }
      for (const session of await store.list()) {
        if (session.spentAtomic > session.depositAtomic) overDeposit = true;
        if (session.spentAtomic > maxSpentSeen) maxSpentSeen = session.spentAtomic;
      }
    }
    expect(overDeposit).toBe(false);

    const [books, ...more] = newBooks(server, before);
    expect(more).toHaveLength(0);
    const [record] = await payingFetch.sessions.list();
    expect(record?.state).toBe('open');
    expect(record?.uses).toBe(1000);

    const closed = await payingFetch.sessions.close(record!.id);
    expect(closed.state).toBe('closed');

    // Server's books.
    expect(books!.status).toBe('closed');
    expect(books!.spentSats).toBe(2000n);
    expect(books!.uses).toBe(1000);
    expect(books!.refundStatus).toBe('succeeded');
    expect(books!.refundedSats).toBe(10n);
    // Client = server.
    expect(closed.spentAtomic).toBe(books!.spentSats * 1000n);
    expect(closed.depositAtomic).toBe(books!.depositSats * 1000n);
    expect(closed.refundedAtomic).toBe(books!.refundedSats * 1000n);
    expect(closed.depositAtomic - closed.refundedAtomic).toBe(closed.spentAtomic);
    // Rail: the deposits the agent paid, and the refund its own node received.
    const paid = network.payments
      .filter((p) => p.payer === 'agent' && p.status === 'succeeded')
      .slice(paidBefore);
    expect(paid.length).toBe(closed.holds.length);
    expect(paid.reduce((sum, p) => sum + (p.amountMsat ?? 0n), 0n)).toBe(closed.depositAtomic);
    const returnHash = closed.methodData.returnHash as string;
    const refund = agent.lookupInvoice(returnHash);
    expect(refund?.amountPaidMsat ?? 0n).toBe(closed.refundedAtomic);
    // Ledger: one record per use at the unit price, adding up to what was spent.
    const uses = (await ledger.list()).filter(
      (r) => r.purchaseKey === `session:${record!.id}` && r.reservedUsdMicros === 0n,
    );
    expect(uses).toHaveLength(1000);
    expect(uses.reduce((sum, r) => sum + r.amount.value, 0n)).toBe(closed.spentAtomic);
    // Budget: nothing held; committed = what was spent + the routing fees paid, exactly
    // ($100,000/BTC: 1 msat = 1 µUSD).
    const usage = await dayUsage(budget);
    expect(usage.heldUsdMicros).toBe(0n);
    const fees = paid.reduce((sum, p) => sum + (p.feeMsat ?? 0n), 0n);
    const committed = closed.holds.reduce((sum, h) => sum + (h.committedUsdMicros ?? 0n), 0n);
    expect(usage.committedUsdMicros).toBe(committed);
    expect(committed).toBe(closed.spentAtomic + fees);
    // And the ledger adds up to the budget: uses + what the deposit records committed.
    const sessionRecords = (await ledger.list()).filter(
      (r) => r.purchaseKey === `session:${record!.id}`,
    );
    expect(sessionRecords.reduce((sum, r) => sum + (r.committedUsdMicros ?? 0n), 0n)).toBe(
      committed,
    );
  }, 60_000);

  it('maxDeposit: a deposit invoice above the cap is refused with an error naming maxDeposit, nothing paid', async () => {
    const { payingFetch } = sessionSetup(network, { policy: sessionPolicy('0.02') });
    const before = network.stats().succeeded;
    const error = await payingFetch(`${server.url}generate`).catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('deposit_cap');
    expect((error as Error).message).toMatch(/maxDeposit/);
    expect(network.stats().succeeded).toBe(before);
  });

  it('hostile: a top-up asked beyond maxDeposit is refused, naming maxDeposit; nothing more is paid', async () => {
    const { payingFetch } = sessionSetup(network);
    const before = server.sessions.size;
    // 15 uses of 2 sat spend the 30-sat deposit: the next call needs a top-up.
    for (let i = 0; i < 15; i++)
      expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
    server.faults.topUpSats = 500n; // $0.50, above the $0.10 maxDeposit
    const paidBefore = network.stats().succeeded;
    try {
      const error = await payingFetch(`${server.url}generate`).catch((e: unknown) => e);
      expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
      expect((error as Error).message).toMatch(/maxDeposit/);
      expect(network.stats().succeeded).toBe(paidBefore);
    } finally {
      server.faults.topUpSats = undefined;
    }
    const [books] = newBooks(server, before);
    expect(books!.spentSats).toBeLessThanOrEqual(books!.depositSats);
    await payingFetch.sessions.closeAll();
  });

  it('hostile: a receipt claiming more spent than the client sent changes nothing the client counts', async () => {
    const { payingFetch, ledger, store } = sessionSetup(network);
    const before = server.sessions.size;
    server.faults.receiptSpentClaim = 1_000_000;
    try {
      for (let i = 0; i < 5; i++)
        expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
    } finally {
      server.faults.receiptSpentClaim = undefined;
    }
    const [record] = await payingFetch.sessions.list();
    const [books] = newBooks(server, before);
    expect(record!.spentAtomic).toBe(5n * 2000n);
    // Secrets stay in the store: never in the public list or the ledger.
    const bearer = (await store.get(record!.id))!.secret!.bearer!;
    expect('secret' in record!).toBe(false);
    expect(
      JSON.stringify(await ledger.list(), (_, v) => (typeof v === 'bigint' ? `${v}` : v)),
    ).not.toContain(bearer);
    expect(books!.spentSats * 1000n).toBe(record!.spentAtomic);
    const uses = (await ledger.list()).filter((r) => r.reservedUsdMicros === 0n);
    expect(uses.reduce((sum, r) => sum + r.amount.value, 0n)).toBe(record!.spentAtomic);
    const closed = await payingFetch.sessions.close(record!.id);
    expect(closed.refundedAtomic).toBe(closed.depositAtomic - closed.spentAtomic);
  });

  it('hostile: the bearer credential never follows a redirect to another origin', async () => {
    const { payingFetch, store } = sessionSetup(network);
    expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
    const seenBefore = other.authorizations.length;
    const otherSessions = other.sessions.size;
    const response = await payingFetch(`${server.url}redirect`).catch((e: unknown) => e);
    void response;
    const [session] = await store.list({ origin: server.origin });
    const bearer = session!.secret!.bearer!;
    const sessionId = session!.methodData.sessionId as string;
    for (const header of other.authorizations.slice(seenBefore)) {
      expect(header).not.toContain(bearer);
      const decoded = header.startsWith('Payment ')
        ? Buffer.from(header.slice(8), 'base64url').toString('utf8')
        : header;
      expect(decoded).not.toContain(bearer);
      expect(decoded).not.toContain(sessionId);
    }
    // The other origin is a different scope: it opened its own session, with its own deposit.
    expect(other.sessions.size).toBeGreaterThanOrEqual(otherSessions);
    await payingFetch.sessions.closeAll();
  });

  it('hostile: the server closes the session mid-call: the refund is confirmed, a new session serves the call', async () => {
    const { payingFetch, budget } = sessionSetup(network);
    const before = server.sessions.size;
    server.faults.closeAtUse = 3;
    let third: Response;
    try {
      expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
      expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
      third = await payingFetch(`${server.url}generate`);
    } finally {
      server.faults.closeAtUse = undefined;
    }
    expect(third.status).toBe(200);
    const sessions = await payingFetch.sessions.list();
    expect(sessions).toHaveLength(2);
    const first = sessions[0]!;
    expect(first.state).toBe('closed');
    expect(first.closedBy).toBe('server');
    const [books] = newBooks(server, before);
    expect(first.refundedAtomic).toBe(books!.refundedSats * 1000n);
    expect(first.depositAtomic - first.refundedAtomic).toBe(books!.spentSats * 1000n);
    await payingFetch.sessions.closeAll();
    expect((await dayUsage(budget)).heldUsdMicros).toBe(0n);
  });

  it('hostile: the server hangs after the deposit was paid: unknown, no second deposit, settled by reconcile', async () => {
    const { payingFetch, budget } = sessionSetup(network, { config: { timeoutMs: 300 } });
    server.faults.hangOnOpen = true;
    const paidBefore = network.stats().succeeded;
    let error: unknown;
    try {
      error = await payingFetch(`${server.url}generate`).catch((e: unknown) => e);
    } finally {
      server.faults.hangOnOpen = false;
    }
    expect(isStipendError(error) && error.code).toBe('OUTCOME_UNKNOWN');
    expect((error as { paid?: unknown }).paid).toBe(true);
    expect(network.stats().succeeded).toBe(paidBefore + 1);
    const [session] = await payingFetch.sessions.list();
    expect(session!.state).toBe('unknown');
    expect((await dayUsage(budget)).heldUsdMicros).toBeGreaterThan(0n);
    // No second deposit while the outcome is unknown.
    const again = await payingFetch(`${server.url}generate`).catch((e: unknown) => e);
    expect(isStipendError(again) && again.code).toBe('OUTCOME_UNKNOWN');
    expect(network.stats().succeeded).toBe(paidBefore + 1);
    // Reconcile: the close reaches the server, the refund arrives, the budget is settled.
    const [settled] = await payingFetch.sessions.reconcile();
    expect(settled!.state).toBe('closed');
    expect(settled!.refundedAtomic).toBeGreaterThan(0n);
    expect((await dayUsage(budget)).heldUsdMicros).toBe(0n);
  });

  it('an idle session closes on its own (idleCloseMs), and its refund is confirmed', async () => {
    const { payingFetch, budget } = sessionSetup(network, {
      config: {
        sessions: {
          methods: [lightningSessionMethod()],
          idleCloseMs: 150,
          refundWaitMs: 2_000,
        },
      },
    });
    expect((await payingFetch(`${server.url}generate`)).status).toBe(200);
    const [open] = await payingFetch.sessions.list();
    expect(open!.state).toBe('open');
    let closed = open!;
    for (let i = 0; i < 50 && closed.state !== 'closed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      closed = (await payingFetch.sessions.get(open!.id))!;
    }
    expect(closed.state).toBe('closed');
    expect(closed.refundedAtomic).toBe(closed.depositAtomic - closed.spentAtomic);
    expect((await dayUsage(budget)).heldUsdMicros).toBe(0n);
  });

  it('hostile: a deposit invoice for another amount than offered is not paid', async () => {
    const { payingFetch } = sessionSetup(network);
    server.faults.depositInvoiceSats = 90n;
    const paidBefore = network.stats().succeeded;
    try {
      const outcome = await payingFetch(`${server.url}generate`).catch((e: unknown) => e);
      // Refused (a policy error) or returned unpaid (the 402 itself): never paid.
      expect(isStipendError(outcome) || (outcome as Response).status === 402).toBe(true);
    } finally {
      server.faults.depositInvoiceSats = undefined;
    }
    expect(network.stats().succeeded).toBe(paidBefore);
    expect(await payingFetch.sessions.list()).toHaveLength(0);
  });
});
