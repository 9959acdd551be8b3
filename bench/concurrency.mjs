// Concurrency benchmark (figures, never assertions): 1,000 paid calls started at once through
// ONE payingFetch with one shared budget, on the stand-in rail (`@stipend/testkit/core`).
//
// Why the stand-in rail: it settles in microseconds, so what is measured is the client (policy,
// atomic budget reservations, ledger, the 402 → pay → retry flow) under contention, not a
// chain. x402 on anvil is real but every settlement is an EVM transaction mined by one local
// node (~20 ms each, serialised), so 1,000 of them would measure anvil.
//
// Set-up: the paywall, the rail and its pay endpoint run in a child process behind a real
// HTTP server on 127.0.0.1; the wallet pays over HTTP (POST /rail/pay), like a wallet calling
// its backend. Each paid call is three HTTP requests (402, pay, paid retry). Two runs:
//   - the budget covers every call: throughput and latency of 1,000 paid calls;
//   - the budget covers 750 calls: exactly 750 may be paid, never more, while all 1,000 race.
// In both, the total committed (ledger and budget store) is checked against the budget and
// against what the rail says moved.
//
// Run with `pnpm bench`, or `node bench/concurrency.mjs` after building.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { emit, startChild, summarize } from './lib.mjs';

const CALLS = 1000;
/** Atomic units of TEST_USDC (6 decimals, USD peg): $0.001 per call. */
const PRICE = 1000n;

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

/** Child: the stand-in rail, its paywall and its pay endpoint on one HTTP server. */
async function serve() {
  const { createTestPaywall, createTestRail, TEST_USDC } = await import('@stipend/testkit/core');
  const rail = createTestRail();
  const paywall = createTestPaywall({
    rail,
    routes: { '/paid': { offers: [{ amount: PRICE, unit: TEST_USDC }] } },
  });
  const json = (res, status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/rail/pay') {
      const input = JSON.parse(body);
      return json(res, 200, rail.pay({ ...input, amount: BigInt(input.amount) }));
    }
    if (url.pathname === '/rail/lookup') {
      return json(res, 200, { status: rail.lookup(url.searchParams.get('reference') ?? '') });
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
    }
    const response = await paywall(
      new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        ...(body ? { body } : {}),
      }),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  // 1,000 connections arrive at once: a backlog above Node's default 511.
  await new Promise((resolve) =>
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve),
  );
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      const payments = rail.payments();
      process.send({
        type: 'stats',
        payments: payments.length,
        settled: payments.filter((p) => p.settled).length,
        settledTotal: rail.settledTotal().toString(),
      });
    }
    if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', origin: `http://127.0.0.1:${server.address().port}` });
}

async function main() {
  const { ready, ask, stop } = await startChild(fileURLToPath(import.meta.url));
  const client = await import('@stipend/client');
  const { testAdapter, testWallet } = await import('@stipend/testkit/core');
  const { origin } = ready;
  const remoteRail = {
    async pay(input) {
      const res = await fetch(`${origin}/rail/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...input, amount: input.amount.toString() }),
      });
      return res.json();
    },
    async lookup(reference) {
      const res = await fetch(`${origin}/rail/lookup?reference=${encodeURIComponent(reference)}`);
      return (await res.json()).status;
    },
  };
  const make = (budgetUsd) => {
    const budget = client.createMemoryBudgetStore();
    const ledger = client.createMemoryLedger();
    const payingFetch = client.createPayingFetch({
      adapters: [testAdapter()],
      wallets: [testWallet({ rail: remoteRail })],
      budget,
      ledger,
      policy: {
        global: {
          maxPerRequest: { usd: '0.01' },
          limits: [{ usd: budgetUsd, window: { calendar: 'day' } }],
        },
      },
    });
    return { payingFetch, budget, ledger };
  };

  // Warm-up on its own paying fetch and budget: the JIT, and a pool of open connections as
  // large as the burst (steady state; opening 1,000 sockets is not the client's work).
  const warm = make('10');
  for (let i = 0; i < 200; i++) {
    const res = await warm.payingFetch(`${origin}/paid`, { payment: { idempotencyKey: `w${i}` } });
    await res.arrayBuffer();
  }
  await Promise.all(
    Array.from({ length: CALLS }, async (_, i) => {
      const res = await warm.payingFetch(`${origin}/paid`, {
        payment: { idempotencyKey: `b${i}` },
      });
      await res.arrayBuffer();
    }),
  );

  /** `CALLS` paid calls, at most `inFlight` at a time (all at once by default). */
  const burst = async (budgetUsd, label, inFlight = CALLS) => {
    const { payingFetch, budget, ledger } = make(budgetUsd);
    const before = await ask({ type: 'stats' }, 'stats');
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const one = async (i) => {
      const start = performance.now();
      try {
        const res = await payingFetch(`${origin}/paid`, {
          payment: { idempotencyKey: `${label}-${i}` },
        });
        await res.arrayBuffer();
        return {
          ms: performance.now() - start,
          status: res.status,
          paid: client.getPayment(res)?.status === 'paid',
        };
      } catch (error) {
        return { ms: performance.now() - start, error: error?.code ?? String(error) };
      }
    };
    const calls = [];
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < CALLS) {
          const i = next++;
          calls[i] = await one(i);
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const after = await ask({ type: 'stats' }, 'stats');
    const records = await ledger.list();
    const committed = records.filter((r) => r.status === 'committed');
    const ledgerUsdMicros = committed.reduce((sum, r) => sum + (r.committedUsdMicros ?? 0n), 0n);
    const usage = await budget.usage(
      { scope: 'global', window: { kind: 'calendar', unit: 'day' } },
      Date.now(),
    );
    const budgetUsdMicros = BigInt(Math.round(Number(budgetUsd) * 1e6));
    const railMoved = BigInt(after.settledTotal) - BigInt(before.settledTotal);
    const paid = calls.filter((c) => c.paid);
    const refused = calls.filter((c) => !c.paid);
    const errors = {};
    for (const c of refused) {
      const key = c.error ?? `HTTP ${c.status}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
    return {
      label,
      inFlight,
      calls: CALLS,
      budgetUsdMicros,
      paid: paid.length,
      refused: refused.length,
      refusals: errors,
      wallMs,
      paidPerSecond: paid.length / (wallMs / 1000),
      latencyMs: summarize(paid.map((c) => c.ms)),
      refusedLatencyMs: refused.length > 0 ? summarize(refused.map((c) => c.ms)) : undefined,
      clientCpuUsPerCall: (cpu.user + cpu.system) / CALLS,
      committed: {
        ledgerRecords: committed.length,
        ledgerUsdMicros,
        budgetStoreUsdMicros: usage.committedUsdMicros,
        budgetStoreHeldUsdMicros: usage.heldUsdMicros,
        railPayments: after.payments - before.payments,
        railMovedUsdMicros: railMoved, // TEST_USDC: 6 decimals at par, so atomic units = µUSD
      },
      withinBudget:
        ledgerUsdMicros <= budgetUsdMicros && usage.committedUsdMicros <= budgetUsdMicros,
      ledgerMatchesRail: ledgerUsdMicros === railMoved && committed.length === paid.length,
    };
  };

  const runs = [
    await burst('1.50', 'all at once, budget for every call'),
    await burst('0.75', 'all at once, budget for 750 calls'),
    await burst('1.50', 'at most 50 in flight, budget for every call', 50),
  ];
  await stop();

  const usd = (micros) => `$${(Number(micros) / 1e6).toFixed(3)}`;
  const ms = (x) => x.toFixed(1);
  console.log(
    `\n## ${CALLS} concurrent paid calls through one payingFetch, one shared budget (stand-in rail over HTTP)\n`,
  );
  console.log(
    '| run | paid | refused | wall | paid calls / s | latency of paid calls ms (min / p50 / p99 / max) | client CPU / call | committed (ledger = budget store) | rail moved | within budget |',
  );
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---:|---|');
  for (const r of runs) {
    const l = r.latencyMs;
    console.log(
      `| ${r.label} (${usd(r.budgetUsdMicros)}) | ${r.paid} | ${r.refused} | ${ms(r.wallMs)} ms | ${r.paidPerSecond.toFixed(0)} | ` +
        `${ms(l.min)} / ${ms(l.median)} / ${ms(l.p99)} / ${ms(l.max)} | ${(r.clientCpuUsPerCall / 1000).toFixed(2)} ms | ` +
        `${usd(r.committed.ledgerUsdMicros)} = ${usd(r.committed.budgetStoreUsdMicros)} | ${usd(r.committed.railMovedUsdMicros)} | ` +
        `${r.withinBudget ? 'yes' : 'NO'}${r.ledgerMatchesRail ? '' : ' (ledger ≠ rail)'} |`,
    );
  }
  for (const r of runs.filter((run) => run.refused > 0)) {
    console.log(
      `\n${r.label}: refusals ${Object.entries(r.refusals)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ')}.`,
    );
  }
  emit({ bench: 'concurrency', rail: 'stipend-test stand-in over HTTP', price: PRICE, runs });
}
