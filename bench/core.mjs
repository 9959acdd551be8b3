// Core benchmarks (figures, never assertions):
//  1. pass-through overhead of payingFetch vs raw fetch for non-402 responses, over real HTTP
//     on 127.0.0.1 to a server in a child process (interleaved calls; wall time, and this
//     process's CPU time per call, so the CPU figure is the client's alone);
//  2. the time to parse and decide one 402 with several offers (adapter parse + policy
//     decide + release, no network);
//  3. client time for one whole paid call on the stand-in rail with an in-process server.
// Run with `pnpm bench` (after `pnpm build`).
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  createMemoryBudgetStore,
  createPayingFetch,
  createPolicyEngine,
  pegPriceSource,
} from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { emit, startChild, summarize } from './lib.mjs';

const stats = summarize;
const us = (ns) => (ns / 1000).toFixed(1);

/** Child: the 200 server of the pass-through rows, so its CPU is not the client's. */
async function serve() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  process.on('message', (message) => {
    if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', url: `http://127.0.0.1:${server.address().port}/free` });
}

/**
 * payingFetch vs raw fetch on a 200 from a server in a child process: wall time and this
 * process's CPU time per call (user + system), calls interleaved.
 */
async function passThrough(rounds = 3000) {
  const { ready, stop } = await startChild(fileURLToPath(import.meta.url));
  const { url } = ready;
  const payingFetch = createPayingFetch({ wallets: [], adapters: [testAdapter()] });
  const raw = [];
  const paying = [];
  const cpu = { raw: 0, paying: 0 };
  const cpuSamples = { raw: [], paying: [] };
  for (let i = 0; i < 300; i++) {
    await (await fetch(url)).text();
    await (await payingFetch(url)).text();
  }
  for (let i = 0; i < rounds; i++) {
    for (const [name, f, out] of i % 2
      ? [
          ['raw', fetch, raw],
          ['paying', payingFetch, paying],
        ]
      : [
          ['paying', payingFetch, paying],
          ['raw', fetch, raw],
        ]) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await (await f(url)).text();
      out.push(Number(process.hrtime.bigint() - t0));
      const c = process.cpuUsage(c0);
      cpu[name] += c.user + c.system;
      cpuSamples[name].push(c.user + c.system);
    }
  }
  await stop();
  const r = stats(raw);
  const p = stats(paying);
  const cpuRaw = stats(cpuSamples.raw);
  const cpuPaying = stats(cpuSamples.paying);
  return {
    raw: r,
    paying: p,
    overheadMedianPct: ((p.median - r.median) / r.median) * 100,
    overheadMeanPct: ((p.mean - r.mean) / r.mean) * 100,
    cpuPerCallUs: { raw: cpu.raw / rounds, paying: cpu.paying / rounds },
    cpuUs: { raw: cpuRaw, paying: cpuPaying },
    cpuOverheadMeanPct: ((cpu.paying - cpu.raw) / cpu.raw) * 100,
    cpuOverheadMedianPct: ((cpuPaying.median - cpuRaw.median) / cpuRaw.median) * 100,
  };
}

async function parseAndDecide(rounds = 5000, offersPerChallenge = 6) {
  const adapter = testAdapter();
  const engine = createPolicyEngine({
    policy: {
      global: {
        maxPerRequest: { usd: '1' },
        limits: [{ usd: '1000000', window: { calendar: 'day' } }],
      },
      hosts: { '*.example.com': { limits: [{ usd: '1000', window: { rolling: '1h' } }] } },
    },
    budget: createMemoryBudgetStore(),
    prices: pegPriceSource(),
  });
  const wire = JSON.stringify(
    Array.from({ length: offersPerChallenge }, (_, i) => ({
      id: `o${i}`,
      amount: String(1000 + ((i * 7919) % 5000)),
      unit: TEST_USDC,
      payee: `payee-${i}`,
    })),
  );
  const url = new URL('https://api.example.com/paid');
  const times = [];
  for (let i = 0; i < rounds + 500; i++) {
    const t0 = process.hrtime.bigint();
    const headers = new Headers({ 'stipend-test-challenge': wire });
    const input = {
      status: 402,
      headers,
      url,
      method: 'GET',
      challenges: [],
      now: Date.now(),
      bodyText: async () => undefined,
    };
    const offers = await adapter.parse(input);
    const decision = await engine.decide(offers, {
      url,
      method: 'GET',
      canPay: () => true,
      reservationId: `r${i}`,
    });
    await engine.release(decision);
    if (i >= 500) times.push(Number(process.hrtime.bigint() - t0));
  }
  return stats(times);
}

async function paidCall(rounds = 2000) {
  const rail = createTestRail();
  const paywall = createTestPaywall({
    rail,
    routes: { '/paid': { offers: [{ amount: 1000n, unit: TEST_USDC }] } },
  });
  // Server time is excluded: the handler runs in-process and is timed separately.
  let serverNs = 0n;
  const inProcess = async (input, init) => {
    const t0 = process.hrtime.bigint();
    const response = await paywall(new Request(input, init));
    serverNs += process.hrtime.bigint() - t0;
    return response;
  };
  const payingFetch = createPayingFetch({
    adapters: [testAdapter()],
    wallets: [testWallet({ rail })],
    fetch: inProcess,
    policy: {
      global: {
        maxPerRequest: { usd: '1' },
        limits: [{ usd: '1000000', window: { calendar: 'day' } }],
      },
    },
  });
  const times = [];
  for (let i = 0; i < rounds + 200; i++) {
    serverNs = 0n;
    const t0 = process.hrtime.bigint();
    const res = await payingFetch('https://api.example.com/paid');
    await res.arrayBuffer();
    if (i >= 200) times.push(Number(process.hrtime.bigint() - t0 - serverNs));
  }
  return stats(times);
}

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
  console.log(`# Stipend core benchmarks (${machine})\n`);
  const pt = await passThrough();
  console.log(
    '## Pass-through (non-402) over HTTP on 127.0.0.1 (server in a child process), per call, µs',
  );
  console.log('| fetch | wall median | wall mean | wall p99 | CPU median | CPU mean |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const name of ['raw', 'paying']) {
    const w = pt[name];
    const c = pt.cpuUs[name];
    console.log(
      `| ${name === 'raw' ? 'raw fetch' : 'payingFetch'} | ${us(w.median)} | ${us(w.mean)} | ${us(w.p99)} | ${c.median.toFixed(1)} | ${c.mean.toFixed(1)} |`,
    );
  }
  console.log(
    `\nOverhead: CPU ${pt.cpuOverheadMeanPct.toFixed(1)} % (mean; median ${pt.cpuOverheadMedianPct.toFixed(1)} %), wall ${pt.overheadMedianPct.toFixed(1)} % (median; mean ${pt.overheadMeanPct.toFixed(1)} %). Goal (issue 12): ≤ 3 % CPU over raw fetch.\n`,
  );
  const pd = await parseAndDecide();
  console.log('## Parse + decide one 402 with 6 offers (no network), µs');
  console.log(
    `min ${us(pd.min)} · median ${us(pd.median)} · mean ${us(pd.mean)} · p99 ${us(pd.p99)} · max ${us(pd.max)}\n`,
  );
  const pc = await paidCall();
  console.log(
    '## Client time of one paid call (402 → decide → pay → retry → commit), stand-in rail, server time excluded, µs',
  );
  console.log(
    `min ${us(pc.min)} · median ${us(pc.median)} · mean ${us(pc.mean)} · p99 ${us(pc.p99)} · max ${us(pc.max)}`,
  );
  const toUs = (x) =>
    Object.fromEntries(Object.entries(x).map(([k, v]) => [k, k === 'n' ? v : v / 1000]));
  emit({
    bench: 'core',
    passThrough: {
      wallUs: { raw: toUs(pt.raw), paying: toUs(pt.paying) },
      overheadMedianPct: pt.overheadMedianPct,
      overheadMeanPct: pt.overheadMeanPct,
      cpuUs: pt.cpuUs,
      cpuPerCallUs: pt.cpuPerCallUs,
      cpuOverheadMeanPct: pt.cpuOverheadMeanPct,
      cpuOverheadMedianPct: pt.cpuOverheadMedianPct,
    },
    parseDecideUs: toUs(pd),
    paidCallUs: toUs(pc),
  });
}
