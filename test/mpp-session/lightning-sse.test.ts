/**
 * Streamed answers (SSE) on MPP `lightning/session`: the testkit seller bills one unit per
 * `data` chunk of `/stream`, pauses with `payment-need-topup` when the balance runs out, ends
 * a held stream with `session-timeout`, and states what the stream cost in a final
 * `payment-receipt` event (draft-lightning-session-00, "Streaming and Per-Chunk Billing").
 * The caller gets the bytes unchanged; the client reads the events as they pass. Money is
 * counted at the rail (the simulator's payments, the agent's return invoice), in the server's
 * books and in the client (session record, budget, ledger).
 */
import { isStipendError, type SpendPolicy } from '@stipend/client';
import { type LightningSessionServer, startLightningSessionServer } from '@stipend/testkit/mpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLightningNetwork, dayUsage, sessionSetup } from './helpers.js';

const network = createLightningNetwork();
let server: LightningSessionServer;

beforeAll(async () => {
  // 2 sat per chunk, 30-sat deposits (15 chunks each); a held stream waits 3 s for a top-up.
  server = await startLightningSessionServer({
    network,
    priceSats: 2n,
    depositSats: 30n,
    holdMs: 3_000,
  });
});
afterAll(async () => {
  await server.close();
  network.close();
});

/** The server's books of the sessions opened since `before` sessions existed. */
function newBooks(before: number) {
  return [...server.sessions.values()].slice(before);
}

/** The agent's settled payments since `before` of them. */
function agentPaid(before: number) {
  return network.payments
    .filter((p) => p.payer === 'agent' && p.status === 'succeeded')
    .slice(before);
}
const agentCount = () => agentPaid(0).length;
const sum = (payments: ReturnType<typeof agentPaid>) =>
  payments.reduce((total, p) => total + (p.amountMsat ?? 0n), 0n);

/** The chunk numbers a stream's text carries, in order. */
function chunksOf(text: string): number[] {
  return [...text.matchAll(/^data: \{"chunk":(\d+)\}$/gm)].map((m) => Number(m[1]));
}

/** Reads a body to its end; the error it ended with, if any. */
async function readAll(response: Response): Promise<{ text: string; error?: unknown }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error };
  }
}

/** Ledger amount of a session's uses (records without a reservation of their own). */
async function usesAmount(
  ledger: { list(): readonly unknown[] | Promise<readonly unknown[]> },
  id: string,
) {
  const records = (await ledger.list()) as {
    purchaseKey: string;
    reservedUsdMicros: bigint;
    amount: { value: bigint };
  }[];
  return records
    .filter((r) => r.purchaseKey === `session:${id}` && r.reservedUsdMicros === 0n)
    .reduce((total, r) => total + r.amount.value, 0n);
}

describe('lightning/session: SSE on streamed answers', () => {
  it('counts one unit per streamed chunk: bytes unchanged; client = server = rail; the refund confirmed', async () => {
    const { payingFetch, agent, budget, ledger } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    const response = await payingFetch(`${server.url}stream?chunks=10`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const { text, error } = await readAll(response);
    expect(error).toBeUndefined();
    // Every byte as the server sent it: 10 chunks, the receipt event, the [DONE] sentinel.
    expect(chunksOf(text)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(text).toMatch(
      /^(data: \{"chunk":\d+\}\n\n){10}event: payment-receipt\ndata: \{[^\n]*\}\n\ndata: \[DONE\]\n\n$/,
    );
    const [record] = await payingFetch.sessions.list();
    const [books] = newBooks(before);
    expect(books!.spentSats).toBe(20n);
    expect(record!.spentAtomic).toBe(books!.spentSats * 1000n);
    expect(record!.uses).toBe(10);
    expect(await usesAmount(ledger, record!.id)).toBe(20_000n);
    expect(record!.disagreement).toBeUndefined();

    const closed = await payingFetch.sessions.close(record!.id);
    expect(closed.state).toBe('closed');
    const paid = agentPaid(paidBefore);
    expect(paid).toHaveLength(1);
    expect(sum(paid)).toBe(30_000n);
    expect(agent.lookupInvoice(closed.methodData.returnHash as string)?.amountPaidMsat).toBe(
      10_000n,
    );
    expect(closed.refundedAtomic).toBe(books!.refundedSats * 1000n);
    const usage = await dayUsage(budget);
    expect(usage.heldUsdMicros).toBe(0n);
    const fees = paid.reduce((total, p) => total + (p.feeMsat ?? 0n), 0n);
    // $100,000/BTC: 1 msat = 1 µUSD.
    expect(usage.committedUsdMicros).toBe(20_000n + fees);
  });

  it('payment-need-topup: the session is topped up and the held stream resumes on the same connection; deposits = server = rail', async () => {
    const { payingFetch, agent, budget } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    const response = await payingFetch(`${server.url}stream?chunks=40`);
    const { text, error } = await readAll(response);
    expect(error).toBeUndefined();
    expect(chunksOf(text)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(text.match(/event: payment-need-topup/g)).toHaveLength(2);
    expect(text).not.toContain('session-timeout');

    const [record] = await payingFetch.sessions.list();
    const [books, ...more] = newBooks(before);
    expect(more).toHaveLength(0);
    expect(books!.depositSats).toBe(90n);
    expect(books!.spentSats).toBe(80n);
    expect(record!.depositAtomic).toBe(books!.depositSats * 1000n);
    expect(record!.spentAtomic).toBe(books!.spentSats * 1000n);
    expect(record!.spentAtomic).toBeLessThanOrEqual(record!.depositAtomic);
    const paid = agentPaid(paidBefore);
    expect(paid).toHaveLength(3);
    expect(sum(paid)).toBe(record!.depositAtomic);

    const closed = await payingFetch.sessions.close(record!.id);
    expect(closed.refundedAtomic).toBe(10_000n);
    expect(agent.lookupInvoice(closed.methodData.returnHash as string)?.amountPaidMsat).toBe(
      10_000n,
    );
    const usage = await dayUsage(budget);
    expect(usage.heldUsdMicros).toBe(0n);
    const fees = paid.reduce((total, p) => total + (p.feeMsat ?? 0n), 0n);
    expect(usage.committedUsdMicros).toBe(80_000n + fees);
  });

  it('hostile: an endless stream of top-up requests is bounded by the budget; nothing is paid beyond it', async () => {
    // A day budget of $0.10 holds two 30-sat deposits with their fee caps (40.3 sat each).
    const policy: SpendPolicy = {
      global: {
        maxPerRequest: { usd: '0.01' },
        limits: [{ usd: '0.10', window: { calendar: 'day' } }],
      },
      hosts: { '127.0.0.1': { maxDeposit: { usd: '0.10' } } },
    };
    const { payingFetch, budget } = sessionSetup(network, { policy });
    const before = server.sessions.size;
    const paidBefore = agentCount();
    const response = await payingFetch(`${server.url}stream?chunks=1000000`);
    const { text, error } = await readAll(response);
    expect(isStipendError(error) && error.code).toBe('POLICY_DENIED');
    expect(chunksOf(text)).toHaveLength(30);
    const paid = agentPaid(paidBefore);
    expect(paid).toHaveLength(2);
    expect(sum(paid)).toBe(60_000n);
    const [books] = newBooks(before);
    expect(books!.depositSats).toBe(60n);
    expect(books!.spentSats).toBe(60n);
    const usage = await dayUsage(budget);
    expect(usage.committedUsdMicros + usage.heldUsdMicros).toBeLessThanOrEqual(100_000n);
    const [record] = await payingFetch.sessions.list();
    expect(record!.spentAtomic).toBe(60_000n);
    await payingFetch.sessions.closeAll();
    const after = await dayUsage(budget);
    expect(after.heldUsdMicros).toBe(0n);
    const fees = paid.reduce((total, p) => total + (p.feeMsat ?? 0n), 0n);
    expect(after.committedUsdMicros).toBe(60_000n + fees);
  });

  it('hostile: a streamed top-up above maxDeposit is refused naming maxDeposit; nothing is paid', async () => {
    const { payingFetch } = sessionSetup(network);
    const paidBefore = agentCount();
    const response = await payingFetch(`${server.url}stream?chunks=20`);
    server.faults.topUpSats = 500n; // $0.50, above the $0.10 maxDeposit
    let outcome: Awaited<ReturnType<typeof readAll>>;
    try {
      outcome = await readAll(response);
    } finally {
      server.faults.topUpSats = undefined;
    }
    expect(isStipendError(outcome.error) && outcome.error.code).toBe('POLICY_DENIED');
    expect((outcome.error as Error).message).toMatch(/maxDeposit/);
    expect(chunksOf(outcome.text)).toHaveLength(15);
    expect(agentPaid(paidBefore)).toHaveLength(1);
    await payingFetch.sessions.closeAll();
  });

  it('hostile: payment-need-topup events the client count does not justify pay nothing', async () => {
    const { payingFetch } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    server.faults.sseExtraTopUpEvents = 20;
    let text: string;
    try {
      const response = await payingFetch(`${server.url}stream?chunks=10`);
      const issued = server.issued();
      ({ text } = await readAll(response));
      // Not even a fresh invoice was asked for.
      expect(server.issued()).toBe(issued);
    } finally {
      server.faults.sseExtraTopUpEvents = undefined;
    }
    expect(text.match(/event: payment-need-topup/g)).toHaveLength(200);
    expect(chunksOf(text)).toHaveLength(10);
    expect(agentPaid(paidBefore)).toHaveLength(1);
    const [books] = newBooks(before);
    expect(books!.depositSats).toBe(30n);
    const [record] = await payingFetch.sessions.list();
    expect(record!.spentAtomic).toBe(books!.spentSats * 1000n);
    await payingFetch.sessions.closeAll();
  });

  it('hostile: an event line larger than the cap passes to the caller unchanged, is not acted on, and metering goes on', async () => {
    const { payingFetch } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    server.faults.sseHugeEventBytes = 2_000_000; // the cap is 64 KiB per line
    let text: string;
    try {
      ({ text } = await readAll(await payingFetch(`${server.url}stream?chunks=10`)));
    } finally {
      server.faults.sseHugeEventBytes = undefined;
    }
    expect(text.length).toBeGreaterThan(1_999_000);
    expect(text.startsWith('event: payment-need-topup\ndata: {"sessionId":')).toBe(true);
    expect(chunksOf(text)).toHaveLength(10);
    expect(agentPaid(paidBefore)).toHaveLength(1);
    const [books] = newBooks(before);
    const [record] = await payingFetch.sessions.list();
    expect(books!.spentSats).toBe(20n);
    expect(record!.spentAtomic).toBe(20_000n);
    await payingFetch.sessions.closeAll();
  });

  it('hostile: a payment-need-topup after the caller cancelled the stream pays nothing', async () => {
    const { payingFetch, budget } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    const response = await payingFetch(`${server.url}stream?chunks=40`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: payment-need-topup')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toContain('event: payment-need-topup');
    await reader.cancel();
    const issued = server.issued();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(server.issued()).toBe(issued);
    expect(agentPaid(paidBefore)).toHaveLength(1);
    const [books] = newBooks(before);
    expect(books!.depositSats).toBe(30n);
    const [record] = await payingFetch.sessions.list();
    expect(record!.spentAtomic).toBe(books!.spentSats * 1000n);
    await payingFetch.sessions.closeAll();
    expect((await dayUsage(budget)).heldUsdMicros).toBe(0n);
  });

  it('hostile: a receipt event claiming more spent is recorded as a disagreement, never booked', async () => {
    const { payingFetch, budget, agent } = sessionSetup(network);
    const before = server.sessions.size;
    const paidBefore = agentCount();
    server.faults.sseReceiptSpentClaim = 999;
    try {
      await readAll(await payingFetch(`${server.url}stream?chunks=5`));
    } finally {
      server.faults.sseReceiptSpentClaim = undefined;
    }
    const [record] = await payingFetch.sessions.list();
    expect(record!.disagreement).toMatchObject({
      source: 'receipt',
      claimedAtomic: 999_000n,
      countedAtomic: 10_000n,
    });
    expect(record!.spentAtomic).toBe(10_000n);
    const closed = await payingFetch.sessions.close(record!.id);
    const [books] = newBooks(before);
    expect(books!.spentSats).toBe(10n);
    expect(closed.refundedAtomic).toBe(20_000n);
    expect(agent.lookupInvoice(closed.methodData.returnHash as string)?.amountPaidMsat).toBe(
      20_000n,
    );
    const paid = agentPaid(paidBefore);
    const fees = paid.reduce((total, p) => total + (p.feeMsat ?? 0n), 0n);
    const usage = await dayUsage(budget);
    expect(usage.heldUsdMicros).toBe(0n);
    expect(usage.committedUsdMicros).toBe(10_000n + fees);
  });

  it('session-timeout: the session is used no more, closed, and its refund confirmed on the agent node', async () => {
    const { payingFetch, budget, agent } = sessionSetup(network);
    const before = server.sessions.size;
    server.faults.sseTimeoutAtChunk = 3;
    let text: string;
    try {
      ({ text } = await readAll(await payingFetch(`${server.url}stream?chunks=10`)));
    } finally {
      server.faults.sseTimeoutAtChunk = undefined;
    }
    expect(chunksOf(text)).toHaveLength(3);
    expect(text).toContain('event: session-timeout');
    const [record] = await payingFetch.sessions.list();
    expect(record!.state).toBe('closed');
    const [books] = newBooks(before);
    expect(books!.status).toBe('closed');
    expect(books!.spentSats).toBe(6n);
    expect(record!.refundedAtomic).toBe(24_000n);
    expect(agent.lookupInvoice(record!.methodData.returnHash as string)?.amountPaidMsat).toBe(
      24_000n,
    );
    expect((await dayUsage(budget)).heldUsdMicros).toBe(0n);
    // The next call opens a new session: the closed one is not used again.
    await (await payingFetch(`${server.url}generate`)).text();
    expect(await payingFetch.sessions.list()).toHaveLength(2);
    await payingFetch.sessions.closeAll();
  });
});
