/**
 * Runs in Chromium: the BUILT @stipend/client (dist) with the testkit's stand-in rail, whose
 * ledger lives on the test server (a "remote rail" reached over HTTP).
 */
import { createPayingFetch, getPayment, isStipendError } from '@stipend/client';
import { type TestRailClient, testAdapter, testWallet } from '@stipend/testkit/core';

declare global {
  interface Window {
    __results?: Record<string, unknown>;
    __error?: string;
  }
}

const remoteRail: TestRailClient = {
  async pay(input) {
    const res = await payingFetch.rawFetch('/rail/pay', {
      method: 'POST',
      body: JSON.stringify({ ...input, amount: input.amount.toString() }),
    });
    return res.json();
  },
  async lookup(reference) {
    const res = await payingFetch.rawFetch(
      `/rail/lookup?reference=${encodeURIComponent(reference)}`,
    );
    return (await res.json()).status;
  },
};

const payingFetch = createPayingFetch({
  adapters: [testAdapter()],
  wallets: [testWallet({ rail: remoteRail })],
  policy: {
    global: {
      maxPerRequest: { usd: '0.01' },
      limits: [{ usd: '0.05', window: { calendar: 'day' } }],
    },
  },
});

async function run() {
  const results: Record<string, unknown> = {};
  const free = await payingFetch('/free');
  results.free = { status: free.status, payment: getPayment(free) ?? null };

  const paid = await payingFetch('/paid');
  results.paid = {
    status: paid.status,
    body: await paid.json(),
    payment: getPayment(paid)?.status,
  };

  const form = new FormData();
  form.set('note', 'from the browser');
  form.set('file', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
  const echoForm = await payingFetch('/echo', { method: 'POST', body: form });
  results.form = { status: echoForm.status, body: await echoForm.json() };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('stream-'));
      controller.enqueue(new TextEncoder().encode('body'));
      controller.close();
    },
  });
  const echoStream = await payingFetch('/echo', {
    method: 'POST',
    body: stream,
    duplex: 'half',
  } as RequestInit);
  results.stream = { status: echoStream.status, body: await echoStream.json() };

  try {
    await payingFetch('/dear');
    results.dear = 'paid?!';
  } catch (error) {
    results.dear = isStipendError(error) ? error.toJSON() : String(error);
  }
  const other = new URLSearchParams(location.search).get('other');
  try {
    await payingFetch(`${other}/paid`);
    results.hidden = 'paid?!';
  } catch (error) {
    results.hidden = isStipendError(error) ? error.toJSON() : String(error);
  }
  results.ledger = (await payingFetch.ledger.list()).map((r) => ({
    status: r.status,
    usd: String(r.committedUsdMicros),
  }));
  window.__results = results;
}

run().catch((error: unknown) => {
  window.__error = String(error instanceof Error ? error.stack : error);
});
