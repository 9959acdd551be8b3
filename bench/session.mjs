// MPP Lightning sessions benchmark (figures, never assertions). One process for the client;
// in a child process: the simulated Lightning network, the testkit's `lightning/session`
// seller (an aperture stand-in), a minimal MPP `lightning.charge` seller on the same network
// (written here from the MPP spec: a fresh invoice per 402, paid per call), and an
// LND-REST-style endpoint for the agent's node (pay, track, add and look up invoices).
//
// (a) Client CPU per call on an open session vs per `lightning.charge` call on the same
//     simulated rail (goal: ≤ 25 %), HTTP round trips per session call (goal: 1) and
//     Lightning payments per session call (goal: 0 once open).
// (b) 1,000 calls on one session, 50 at a time, with top-ups: the spend never exceeds the
//     deposit, and after close the ledger = the seller's books = the rail.
//
// Run with `pnpm bench` (after `pnpm build`), or `node bench/session.mjs` after building
// @stipend/client, @stipend/testkit and @stipend/wallet-lightning.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { emit, startChild, summarize } from './lib.mjs';

const CHARGE_SATS = 1n;
const SESSION = { priceSats: 1n, depositSats: 5000n };
const CONCURRENT = { priceSats: 2n, depositSats: 60n, calls: 1000, atOnce: 50 };

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

/** Child: the network, both sellers, the agent's LND REST endpoint. */
async function serve() {
  const { createLightningNetwork } = await import('@stipend/testkit/lightning');
  const { startLightningSessionServer } = await import('@stipend/testkit/mpp');
  const network = createLightningNetwork();
  const agent = network.createNode({ alias: 'agent' });
  const sessions = await startLightningSessionServer({ network, ...SESSION });
  const concurrent = await startLightningSessionServer({
    network,
    priceSats: CONCURRENT.priceSats,
    depositSats: CONCURRENT.depositSats,
  });
  const charge = await chargeSeller(network);
  const lnd = await agentLnd(network, agent);
  const big = (_key, value) => (typeof value === 'bigint' ? value.toString() : value);
  const stop = async () => {
    await Promise.all([sessions.close(), concurrent.close(), charge.close(), lnd.close()]);
    network.close();
    process.exit(0);
  };
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      const paid = network.payments.filter((p) => p.payer === 'agent' && p.status === 'succeeded');
      const stats = {
        agentPayments: paid.length,
        agentPaidMsat: paid.reduce((s, p) => s + (p.amountMsat ?? 0n), 0n),
        agentFeesMsat: paid.reduce((s, p) => s + (p.feeMsat ?? 0n), 0n),
        concurrentBooks: [...concurrent.sessions.values()],
        refundReceivedMsat: message.returnHash
          ? (agent.lookupInvoice(message.returnHash)?.amountPaidMsat ?? 0n)
          : 0n,
      };
      process.send({ type: 'stats', stats: JSON.parse(JSON.stringify(stats, big)) });
    }
    if (message.type === 'stop') await stop();
  });
  process.on('disconnect', stop);
  process.send({
    type: 'ready',
    session: `${sessions.url}generate`,
    concurrent: `${concurrent.url}generate`,
    charge: `${charge.url}/generate`,
    lnd: lnd.url,
  });
}

/** A minimal MPP `lightning.charge` seller: one invoice per 402, the preimage is the proof. */
async function chargeSeller(network) {
  const node = network.createNode({ alias: 'charge-seller' });
  const issued = new Map();
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const server = createServer(async (req, res) => {
    for await (const _ of req);
    const auth = req.headers.authorization ?? '';
    if (auth.startsWith('Payment ')) {
      let credential;
      try {
        credential = JSON.parse(Buffer.from(auth.slice(8).trim(), 'base64url').toString('utf8'));
      } catch {
        credential = undefined;
      }
      const hash = findPreimageHash(credential?.payload);
      const entry = hash && issued.get(hash);
      if (entry && !entry.used && node.lookupInvoice(hash)?.state === 'settled') {
        entry.used = true;
        const receipt = b64({
          status: 'success',
          method: 'lightning',
          reference: hash,
          timestamp: new Date().toISOString(),
        });
        res.writeHead(200, { 'content-type': 'application/json', 'payment-receipt': receipt });
        return res.end('{"text":"generated"}');
      }
    }
    const invoice = node.createInvoice({ amountMsat: CHARGE_SATS * 1000n, expirySeconds: 600 });
    issued.set(invoice.paymentHash, { used: false });
    const request = b64({
      amount: CHARGE_SATS.toString(),
      currency: 'sat',
      methodDetails: {
        invoice: invoice.bolt11,
        paymentHash: invoice.paymentHash,
        network: 'regtest',
      },
    });
    const id = randomBytes(16).toString('base64url');
    const expires = new Date(Date.now() + 600_000).toISOString();
    res.writeHead(402, {
      'www-authenticate': `Payment id="${id}", realm="bench", method="lightning", intent="charge", request="${request}", expires="${expires}"`,
      'content-type': 'application/problem+json',
    });
    res.end('{"type":"https://paymentauth.org/problems/payment-required"}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The payment hash of the first 32-byte hex string in `payload` (the preimage). */
function findPreimageHash(payload, depth = 0) {
  if (typeof payload === 'string' && /^[0-9a-f]{64}$/i.test(payload)) {
    return createHash('sha256').update(Buffer.from(payload, 'hex')).digest('hex');
  }
  if (payload && typeof payload === 'object' && depth < 4) {
    for (const value of Object.values(payload)) {
      const found = findPreimageHash(value, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

/** An LND-REST-style endpoint for the agent's node (not LND): pay, track, invoices. */
async function agentLnd(network, agent) {
  const send = (res, status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(value)}\n`);
  };
  const paymentOf = (hash) => {
    const found = network.lookup(hash);
    return found.status === 'succeeded'
      ? {
          payment_hash: hash,
          status: 'SUCCEEDED',
          payment_preimage: found.preimage,
          fee_msat: found.feeMsat.toString(),
        }
      : { payment_hash: hash, status: found.status === 'failed' ? 'FAILED' : 'IN_FLIGHT' };
  };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/v2/router/send') {
      try {
        const paid = await network.pay(body.payment_request, {
          maxFeeMsat: BigInt(body.fee_limit_msat ?? '100000'),
          payer: 'agent',
        });
        return send(res, 200, { result: paymentOf(paid.paymentHash) });
      } catch (error) {
        return send(res, 200, { error: { code: 2, message: String(error?.message ?? error) } });
      }
    }
    const track = /^\/v2\/router\/track\/(.+)$/.exec(url.pathname);
    if (track) {
      const hash = Buffer.from(decodeURIComponent(track[1]), 'base64url').toString('hex');
      return send(res, 200, { result: paymentOf(hash) });
    }
    if (req.method === 'POST' && url.pathname === '/v1/invoices') {
      const value = BigInt(body.value_msat ?? '0');
      const issued = agent.createInvoice({
        ...(value > 0n ? { amountMsat: value } : {}),
        expirySeconds: Number(body.expiry ?? 3600),
      });
      return send(res, 200, {
        payment_request: issued.bolt11,
        r_hash: Buffer.from(issued.paymentHash, 'hex').toString('base64'),
      });
    }
    const lookup = /^\/v1\/invoice\/([0-9a-f]{64})$/.exec(url.pathname);
    if (lookup) {
      const found = agent.lookupInvoice(lookup[1]);
      if (!found) return send(res, 404, { code: 5, message: 'unable to locate invoice' });
      return send(res, 200, {
        state: found.state === 'settled' ? 'SETTLED' : 'OPEN',
        amt_paid_msat: String(found.amountPaidMsat ?? 0n),
        creation_date: String(found.invoice.timestamp),
        expiry: String(found.invoice.expirySeconds),
      });
    }
    send(res, 404, { code: 12, message: 'not served here' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

async function main() {
  const { ready, ask, stop } = await startChild(fileURLToPath(import.meta.url));
  const client = await import('@stipend/client');
  const {
    createPayingFetch,
    createMemoryLedger,
    fixedPriceSource,
    getPayment,
    lightningSessionMethod,
  } = client;
  const { lightningWallet, lndRestBackend } = await import('@stipend/wallet-lightning');
  const stats = async (returnHash) => (await ask({ type: 'stats', returnHash }, 'stats')).stats;

  // Round trips to each paid API, counted at the paying fetch's own transport.
  const trips = {};
  const counting = (input, init) => {
    const target =
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const origin = new URL(target).origin;
    trips[origin] = (trips[origin] ?? 0) + 1;
    return fetch(input, init);
  };
  const macaroon = '0201'.padEnd(64, 'a');
  const wallet = () =>
    lightningWallet({
      backend: lndRestBackend({ url: ready.lnd, macaroon }),
      network: 'regtest',
      maxFeeMsat: 100_000n,
    });
  const policy = {
    global: {
      maxPerRequest: { usd: '1.00' },
      limits: [{ usd: '100000', window: { calendar: 'day' } }],
    },
    hosts: { '127.0.0.1': { maxDeposit: { usd: '10' } } },
  };
  const base = () => ({
    wallets: [wallet()],
    policy,
    prices: fixedPriceSource({ btcUsd: '100000' }),
    fetch: counting,
  });
  const charging = createPayingFetch(base());
  const sessioned = createPayingFetch({
    ...base(),
    sessions: { methods: [lightningSessionMethod()], idleCloseMs: 0 },
  });

  const scenarios = {
    charge: async () => {
      const res = await charging(ready.charge);
      await res.arrayBuffer();
      if (res.status !== 200 || getPayment(res)?.status !== 'paid')
        throw new Error(`charge call: ${res.status}`);
    },
    session: async () => {
      const res = await sessioned(ready.session);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`session call: ${res.status}`);
    },
  };
  // Warm-up (the session opens here: its deposit is paid once).
  for (let i = 0; i < 30; i++) for (const run of Object.values(scenarios)) await run();

  const samples = { charge: { cpu: [], wall: [] }, session: { cpu: [], wall: [] } };
  const counted = {
    charge: { calls: 0, trips: 0, payments: 0 },
    session: { calls: 0, trips: 0, payments: 0 },
  };
  const BLOCKS = 5;
  const PER_BLOCK = { charge: 40, session: 200 };
  for (let block = 0; block < BLOCKS; block++) {
    for (const [name, run] of Object.entries(scenarios)) {
      const origin = new URL(ready[name]).origin;
      const tripsBefore = trips[origin] ?? 0;
      const paidBefore = (await stats()).agentPayments;
      for (let i = 0; i < PER_BLOCK[name]; i++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await run();
        samples[name].wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const c = process.cpuUsage(c0);
        samples[name].cpu.push(c.user + c.system);
      }
      counted[name].calls += PER_BLOCK[name];
      counted[name].trips += (trips[origin] ?? 0) - tripsBefore;
      counted[name].payments += (await stats()).agentPayments - paidBefore;
    }
  }
  await sessioned.sessions.closeAll();
  const figures = Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        cpuUs: summarize(s.cpu),
        wallMs: summarize(s.wall),
        roundTrips: counted[name].trips / counted[name].calls,
        paymentsPerCall: counted[name].payments / counted[name].calls,
        calls: counted[name].calls,
      },
    ]),
  );

  // (b) 1,000 calls on one session, 50 at a time, top-ups included.
  const ledger = createMemoryLedger();
  const heavy = createPayingFetch({
    ...base(),
    ledger,
    sessions: { methods: [lightningSessionMethod()], idleCloseMs: 0 },
  });
  const before = await stats();
  let overDeposit = false;
  let maxSpentPct = 0;
  let failedCalls = 0;
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  for (let sent = 0; sent < CONCURRENT.calls; sent += CONCURRENT.atOnce) {
    const statuses = await Promise.all(
      Array.from({ length: CONCURRENT.atOnce }, async (_, i) => {
        const res = await heavy(`${ready.concurrent}?n=${sent + i}`);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    failedCalls += statuses.filter((s) => s !== 200).length;
    for (const s of await heavy.sessions.list()) {
      if (s.spentAtomic > s.depositAtomic) overDeposit = true;
      if (s.depositAtomic > 0n)
        maxSpentPct = Math.max(
          maxSpentPct,
          Number((s.spentAtomic * 10000n) / s.depositAtomic) / 100,
        );
    }
  }
  const cpu = process.cpuUsage(c0);
  const wallMs = Date.now() - t0;
  const live = await heavy.sessions.list({ states: ['open'] });
  const closed = await Promise.all(live.map((s) => heavy.sessions.close(s.id)));
  const session = closed[0];
  const after = await stats(session?.methodData.returnHash);
  const books = after.concurrentBooks.find((b) => b.id === session?.methodData.sessionId);
  const uses = (await ledger.list()).filter(
    (r) => r.purchaseKey === `session:${session?.id}` && r.reservedUsdMicros === 0n,
  );
  const ledgerSpent = uses.reduce((s, r) => s + r.amount.value, 0n);
  const check = {
    calls: CONCURRENT.calls,
    atOnce: CONCURRENT.atOnce,
    sessions: closed.length,
    failedCalls,
    state: session?.state,
    uses: session?.uses,
    deposits: session?.holds.length,
    depositMsat: session?.depositAtomic,
    spentMsat: session?.spentAtomic,
    refundedMsat: session?.refundedAtomic,
    ledgerSpentMsat: ledgerSpent,
    serverSpentMsat: books ? BigInt(books.spentSats) * 1000n : undefined,
    serverDepositMsat: books ? BigInt(books.depositSats) * 1000n : undefined,
    serverRefundedMsat: books ? BigInt(books.refundedSats) * 1000n : undefined,
    railPaidMsat: BigInt(after.agentPaidMsat) - BigInt(before.agentPaidMsat),
    railRefundMsat: BigInt(after.refundReceivedMsat),
    overDeposit,
    maxSpentPctOfDeposit: maxSpentPct,
    wallMs,
    clientCpuUsPerCall: (cpu.user + cpu.system) / CONCURRENT.calls,
  };
  check.withinDeposit = !overDeposit && failedCalls === 0;
  check.booksAgree =
    closed.length === 1 &&
    check.state === 'closed' &&
    check.ledgerSpentMsat === check.spentMsat &&
    check.serverSpentMsat === check.spentMsat &&
    check.serverDepositMsat === check.depositMsat &&
    check.serverRefundedMsat === check.refundedMsat &&
    check.railPaidMsat === check.depositMsat &&
    check.railRefundMsat === check.refundedMsat &&
    check.depositMsat - check.refundedMsat === check.spentMsat;

  const s = figures.session;
  const c = figures.charge;
  const cpuPct = {
    median: (s.cpuUs.median / c.cpuUs.median) * 100,
    mean: (s.cpuUs.mean / c.cpuUs.mean) * 100,
  };
  const goals = {
    cpu: { ...cpuPct, met: cpuPct.median <= 25 && cpuPct.mean <= 25 },
    roundTrips: { value: s.roundTrips, met: s.roundTrips <= 1.0001 },
    payments: { value: s.paymentsPerCall, met: s.paymentsPerCall === 0 },
    withinDeposit: { met: check.withinDeposit },
    booksAgree: { met: check.booksAgree },
  };
  const yes = (ok) => (ok ? 'met' : '**not met**');
  const f1 = (x) => x.toFixed(1);
  const sat = (msat) => (msat === undefined ? '?' : `${Number(BigInt(msat)) / 1000} sat`);

  console.log(`\n## MPP Lightning sessions (Node ${process.version}, ${cpus().length} cores)\n`);
  console.log(
    `Same simulated Lightning network, sellers in a child process. ${c.calls} \`lightning.charge\` calls (an invoice paid per call) and ${s.calls} calls on one open session (${SESSION.priceSats} sat a call, ${SESSION.depositSats}-sat deposit paid once before measuring), interleaved in ${BLOCKS} blocks.\n`,
  );
  console.log(
    '| call | client CPU µs (min / median / max) | mean | wall ms (median) | round trips / call | Lightning payments / call |',
  );
  console.log('|---|---|---:|---:|---:|---:|');
  for (const [label, r] of [
    ['MPP lightning.charge (pays each call)', c],
    ['MPP lightning session (open)', s],
  ]) {
    console.log(
      `| ${label} | ${f1(r.cpuUs.min)} / **${f1(r.cpuUs.median)}** / ${f1(r.cpuUs.max)} | ${f1(r.cpuUs.mean)} | ${r.wallMs.median.toFixed(2)} | ${r.roundTrips.toFixed(2)} | ${r.paymentsPerCall.toFixed(3)} |`,
    );
  }
  console.log('\n| goal (issue 14) | measured | |');
  console.log('|---|---|---|');
  console.log(
    `| session call: client CPU ≤ 25 % of a charge call | median ${cpuPct.median.toFixed(0)} % · mean ${cpuPct.mean.toFixed(0)} % | ${yes(goals.cpu.met)} |`,
  );
  console.log(
    `| session call: one round trip | ${s.roundTrips.toFixed(2)} | ${yes(goals.roundTrips.met)} |`,
  );
  console.log(
    `| session call: no Lightning payment | ${s.paymentsPerCall.toFixed(3)} per call | ${yes(goals.payments.met)} |`,
  );
  console.log(
    `| ${check.calls} calls on one session, ${check.atOnce} at a time: spend never above the deposit | max ${check.maxSpentPctOfDeposit.toFixed(1)} % of the deposit, ${check.failedCalls} failed calls | ${yes(goals.withinDeposit.met)} |`,
  );
  console.log(
    `| after close: ledger = seller's books = rail | spent: ledger ${sat(check.ledgerSpentMsat)}, seller ${sat(check.serverSpentMsat)}, client ${sat(check.spentMsat)}; deposits: rail ${sat(check.railPaidMsat)}, seller ${sat(check.serverDepositMsat)} (${check.deposits} payments); refund: node received ${sat(check.railRefundMsat)}, seller ${sat(check.serverRefundedMsat)} | ${yes(goals.booksAgree.met)} |`,
  );
  console.log(
    `\n${check.calls} concurrent calls took ${check.wallMs} ms (${(check.clientCpuUsPerCall / 1000).toFixed(2)} ms client CPU per call, top-ups included).`,
  );
  emit({
    bench: 'session',
    server:
      'testkit lightning/session seller (aperture stand-in) and a minimal MPP lightning.charge seller on the simulated Lightning network',
    rows: [
      {
        protocol: 'mpp-lightning',
        client: 'Stipend',
        kind: 'stipend',
        variant: 'lightning.charge call',
        transport: 'http',
        cpuUs: c.cpuUs,
        wallMs: c.wallMs,
        roundTrips: c.roundTrips,
        paymentsPerCall: c.paymentsPerCall,
      },
      {
        protocol: 'mpp-lightning',
        client: 'Stipend',
        kind: 'stipend',
        variant: 'session call',
        transport: 'http',
        cpuUs: s.cpuUs,
        wallMs: s.wallMs,
        roundTrips: s.roundTrips,
        paymentsPerCall: s.paymentsPerCall,
      },
    ],
    goals,
    concurrent: check,
  });
  await stop();
}
