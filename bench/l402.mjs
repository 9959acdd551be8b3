// L402 benchmark (figures, never assertions): in one run, against the same local L402 server
// (testkit, aperture-equivalent: real macaroons, signed BOLT 11 regtest invoices) and its
// simulated Lightning network, Stipend's paying fetch (l402Adapter + lightningWallet on the
// LND REST backend) and @getalby/lightning-tools `fetch402` (with a wallet object that pays
// through the same LND-REST-style endpoint) each make paid calls and reused-credential calls.
//
// The server, the simulated network and its LND-REST-style pay endpoint run in a child
// process, so the CPU time measured here (process.cpuUsage of this process) is the client's
// own: protocol parsing, checks, the wallet's HTTP call, fetch. Reported per call: client
// CPU time, wall time, and HTTP round trips to the paid API (steady state).
//
// Run with `pnpm bench` (after `pnpm build`), or `node bench/l402.mjs` after building
// @stipend/client, @stipend/testkit and @stipend/wallet-lightning.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { emit, summarize } from './lib.mjs';

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

/** Child: the L402 server, the simulated network, and an LND-REST-style pay endpoint. */
async function serve() {
  // New TCP connections, per server port: a client that does not reuse connections pays.
  const net = await import('node:net');
  const connections = {};
  const emit = net.Server.prototype.emit;
  net.Server.prototype.emit = function (event, ...args) {
    if (event === 'connection') {
      const port = this.address()?.port;
      connections[port] = (connections[port] ?? 0) + 1;
    }
    return emit.call(this, event, ...args);
  };
  const { createLightningNetwork, startL402Server, LightningPaymentError } = await import(
    '@stipend/testkit/l402'
  );
  const network = createLightningNetwork();
  const server = await startL402Server({ network });
  const line = (res, value) => res.write(`${JSON.stringify(value)}\n`);
  const succeeded = (hash) => {
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
  // A stand-in for LND's REST API (not LND): two routes over the simulated network.
  const lnd = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    res.setHeader('content-type', 'application/json');
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/v2/router/send') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      try {
        const paid = await network.pay(body.payment_request, {
          maxFeeMsat: BigInt(body.fee_limit_msat ?? '100000'),
        });
        line(res, { result: succeeded(paid.paymentHash) });
      } catch (error) {
        const message = error instanceof LightningPaymentError ? error.message : String(error);
        line(res, { error: { code: 2, message } });
      }
      return res.end();
    }
    const track = /^\/v2\/router\/track\/(.+)$/.exec(url.pathname);
    if (track) {
      const hash = Buffer.from(decodeURIComponent(track[1]), 'base64url').toString('hex');
      line(res, { result: succeeded(hash) });
      return res.end();
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise((resolve) => lnd.listen(0, '127.0.0.1', resolve));
  const stop = async () => {
    lnd.closeAllConnections();
    lnd.close();
    await server.close();
    network.close();
    process.exit(0);
  };
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      const s = server.stats();
      process.send({
        type: 'stats',
        stats: {
          payments: network.stats().succeeded,
          served: s.paidRequestsServed,
          challenges: s.challengesIssued,
          apiConnections: connections[server.port] ?? 0,
          lndConnections: connections[lnd.address().port] ?? 0,
        },
      });
    }
    if (message.type === 'stop') await stop();
  });
  process.on('disconnect', stop);
  process.send({
    type: 'ready',
    url: `${server.url}/quote`,
    lnd: `http://127.0.0.1:${lnd.address().port}`,
  });
}

/** Per-operation cost of the client-side L402 work, without I/O. */
async function microPieces(url, client, l402Adapter) {
  const { readBolt11, readMacaroon } = await import(
    '../packages/client/dist/protocols/l402/index.js'
  );
  const { decodeInvoice, readL402Token } = await import('@stipend/wallet-lightning');
  const response = await fetch(url);
  await response.arrayBuffer();
  const header = response.headers.get('www-authenticate');
  const challenges = client.parseWwwAuthenticateLenient(header).challenges;
  const input = {
    status: 402,
    headers: response.headers,
    url: new URL(url),
    method: 'GET',
    challenges,
    bodyText: async () => undefined,
    now: Date.now(),
  };
  const { token, invoice } = (await l402Adapter().parse(input))[0].raw;
  const adapter = l402Adapter();
  const ops = {
    'WWW-Authenticate parse (aperture LSAT + L402 lines)': () =>
      client.parseWwwAuthenticateLenient(header),
    'l402Adapter.parse → one offer (bech32 + macaroon read + hash cross-check)': () =>
      adapter.parse(input),
    'readBolt11 (client, no signature recovery)': () => readBolt11(invoice),
    'readMacaroon (client)': () => readMacaroon(token),
    'decodeInvoice (wallet, bolt11 + secp256k1 signature recovery)': () => decodeInvoice(invoice),
    'readL402Token (wallet)': () => readL402Token(token),
  };
  const out = {};
  for (const [name, op] of Object.entries(ops)) {
    for (let i = 0; i < 500; i++) op();
    const runs = [];
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) op();
      runs.push(Number(process.hrtime.bigint() - t0) / 1000 / 2000);
    }
    out[name] = stats(runs).median;
  }
  return out;
}

function ask(child, message, reply) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type === reply) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(message);
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9) };
}

async function main() {
  const here = fileURLToPath(import.meta.url);
  const child = fork(here, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killChild = () => child.kill('SIGTERM');
  process.on('exit', killChild);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      killChild();
      process.exit(130);
    });
  }
  const ready = await new Promise((resolve) =>
    child.on('message', (m) => m.type === 'ready' && resolve(m)),
  );
  const apiOrigin = new URL(ready.url).origin;

  const client = await import('@stipend/client');
  // l402Adapter is exported from the index once the lead wires it; the built module otherwise.
  const { l402Adapter } = client.l402Adapter
    ? client
    : await import('../packages/client/dist/protocols/l402/index.js');
  const { createPayingFetch, fixedPriceSource, getPayment } = client;
  const { lightningWallet, lndRestBackend } = await import('@stipend/wallet-lightning');
  const { fetch402 } = await import('@getalby/lightning-tools');

  // Round trips to the paid API, whichever client sends them (fetch402 uses the global fetch).
  const trips = { api: 0 };
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const target =
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (target.startsWith(apiOrigin)) trips.api++;
    return realFetch(input, init);
  };

  const macaroon = '0201'.padEnd(64, 'a');
  const policy = {
    global: {
      maxPerRequest: { usd: '1.00' },
      limits: [{ usd: '100000', window: { calendar: 'day' } }],
    },
  };
  const stipend = (reuse) =>
    createPayingFetch({
      adapters: [l402Adapter({ reuse })],
      wallets: [
        lightningWallet({
          backend: lndRestBackend({ url: ready.lnd, macaroon }),
          network: 'regtest',
        }),
      ],
      policy,
      prices: fixedPriceSource({ btcUsd: '100000' }),
    });
  // The wallet object fetch402 needs, paying through the same LND-REST-style endpoint.
  const albyWallet = {
    async payInvoice({ invoice }) {
      const res = await realFetch(`${ready.lnd}/v2/router/send`, {
        method: 'POST',
        headers: { 'grpc-metadata-macaroon': macaroon, 'content-type': 'application/json' },
        body: JSON.stringify({
          payment_request: invoice,
          fee_limit_msat: '11000',
          no_inflight_updates: true,
        }),
      });
      const message = JSON.parse((await res.text()).trim().split('\n').at(-1));
      if (message.result?.status !== 'SUCCEEDED') {
        throw new Error(message.error?.message ?? 'payment failed');
      }
      return {
        preimage: message.result.payment_preimage,
        fees_paid: Number(message.result.fee_msat),
      };
    },
  };

  const payingNoReuse = stipend(false);
  const payingReuse = stipend(true);
  let albyCredentials;

  const scenarios = {
    'stipend paid': async () => {
      const res = await payingNoReuse(ready.url);
      await res.arrayBuffer();
      if (res.status !== 200 || getPayment(res)?.status !== 'paid')
        throw new Error(`stipend paid: ${res.status}`);
    },
    'alby paid': async () => {
      const res = await fetch402(ready.url, {}, { wallet: albyWallet });
      await res.arrayBuffer();
      if (res.status !== 200 || !res.payment?.paid) throw new Error(`alby paid: ${res.status}`);
      albyCredentials = res.payment.credentials;
    },
    'stipend reused': async () => {
      const res = await payingReuse(ready.url);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`stipend reused: ${res.status}`);
    },
    'alby reused (credentials passed back)': async () => {
      const res = await fetch402(
        ready.url,
        {},
        { wallet: albyWallet, credentials: albyCredentials },
      );
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`alby reused: ${res.status}`);
    },
  };

  const measure = async (name, rounds) => {
    const fn = scenarios[name];
    const cpu = [];
    const wall = [];
    const tripsBefore = trips.api;
    for (let i = 0; i < rounds; i++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await fn();
      wall.push(Number(process.hrtime.bigint() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu.push(c.user + c.system);
    }
    return {
      cpu: stats(cpu),
      wall: stats(wall),
      trips: (trips.api - tripsBefore) / rounds,
      cpuSamples: cpu,
      wallSamples: wall,
    };
  };

  // Warm up every path (JIT, connection pools), and hold a credential for the reuse runs.
  for (const name of Object.keys(scenarios)) for (let i = 0; i < 40; i++) await scenarios[name]();

  const results = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
  const PAID = 100;
  const REUSED = 500;
  // Interleaved blocks, so drift (other processes on the machine) hits every client alike.
  for (let block = 0; block < 5; block++) {
    for (const name of Object.keys(scenarios)) {
      results[name].push(await measure(name, name.includes('paid') ? PAID / 5 : REUSED / 5));
    }
  }
  const merged = {};
  for (const [name, blocks] of Object.entries(results)) {
    const median = (pick) => stats(blocks.map(pick)).median;
    merged[name] = {
      cpu: median((b) => b.cpu.median),
      cpuP90: median((b) => b.cpu.p90),
      wall: median((b) => b.wall.median),
      trips: blocks.reduce((sum, b) => sum + b.trips, 0) / blocks.length,
      cpuAll: summarize(blocks.flatMap((b) => b.cpuSamples)),
      wallAllMs: summarize(blocks.flatMap((b) => b.wallSamples).map((us) => us / 1000)),
    };
  }
  const server = (await ask(child, { type: 'stats' }, 'stats')).stats;
  const pieces = await microPieces(ready.url, client, l402Adapter);

  const f = (us) => us.toFixed(0);
  console.log(
    `\n## L402: client cost per call (Node ${process.version}, ${cpus().length} cores)\n`,
  );
  console.log(
    `Same local L402 server and simulated Lightning network for both clients (server in a child process). ${PAID} paid and ${REUSED} reused calls per client, in 5 interleaved blocks; medians of block medians.\n`,
  );
  console.log(
    '| client | call | client CPU µs (median) | CPU µs (p90) | wall µs (median) | round trips to the API per call |',
  );
  console.log('|---|---|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(merged)) {
    const [who, ...rest] = name.split(' ');
    const label =
      who === 'stipend'
        ? 'Stipend (payingFetch + l402Adapter + lightningWallet)'
        : '@getalby/lightning-tools fetch402';
    console.log(
      `| ${label} | ${rest.join(' ')} | ${f(r.cpu)} | ${f(r.cpuP90)} | ${f(r.wall)} | ${r.trips.toFixed(2)} |`,
    );
  }
  const ratio = (a, b) => (merged[a].cpu / merged[b].cpu).toFixed(2);
  console.log('\n| goal | figure | met |');
  console.log('|---|---|---|');
  console.log(
    `| one round trip per call once a credential is held | Stipend ${merged['stipend reused'].trips.toFixed(2)} | ${merged['stipend reused'].trips <= 1.0001 ? 'yes' : 'no'} |`,
  );
  console.log(
    `| paid call: ≤ 1.1× the peer's client CPU, still verifying the invoice signature (issue 12) | ${ratio('stipend paid', 'alby paid')}× | ${merged['stipend paid'].cpu <= merged['alby paid'].cpu * 1.1 ? 'yes' : 'no'} |`,
  );
  console.log(
    `| held credential: ≤ 1.0× the peer's client CPU (peer given its credentials back; issue 12) | ${ratio('stipend reused', 'alby reused (credentials passed back)')}× | ${merged['stipend reused'].cpu <= merged['alby reused (credentials passed back)'].cpu ? 'yes' : 'no'} |`,
  );
  console.log(
    `| reused call vs the peer without a credential store (it pays again: ${merged['alby paid'].trips.toFixed(0)} round trips + a payment) | ${ratio('stipend reused', 'alby paid')}× | ${merged['stipend reused'].cpu <= merged['alby paid'].cpu / 2 ? 'yes' : 'no'} |`,
  );
  console.log(
    `\nServer side over the run: ${server.payments} payments, ${server.served} paid requests served, ${server.challenges} challenges issued; ${server.apiConnections} TCP connections to the API and ${server.lndConnections} to the pay endpoint (keep-alive reused by both clients).`,
  );
  console.log('\n### Stipend L402 pieces, in process (no I/O), µs per operation\n');
  console.log('| operation | µs/op (median of 5 × 2000) |');
  console.log('|---|---:|');
  for (const [name, value] of Object.entries(pieces))
    console.log(`| ${name} | ${value.toFixed(1)} |`);
  const kinds = {
    'stipend paid': ['Stipend', 'stipend', 'paid call'],
    'alby paid': ['@getalby/lightning-tools fetch402', 'peer', 'paid call'],
    'stipend reused': ['Stipend', 'stipend', 'held credential'],
    'alby reused (credentials passed back)': [
      '@getalby/lightning-tools fetch402',
      'peer',
      'held credential',
    ],
  };
  emit({
    bench: 'l402',
    server:
      'testkit L402 server (aperture-equivalent: real macaroons, signed regtest BOLT11) and simulated Lightning network behind an LND-REST-style pay endpoint',
    rows: Object.entries(merged).map(([name, r]) => ({
      protocol: 'l402',
      client: kinds[name][0],
      kind: kinds[name][1],
      variant: kinds[name][2],
      transport: 'http',
      cpuUs: r.cpuAll,
      wallMs: r.wallAllMs,
      roundTrips: r.trips,
    })),
    server_stats: server,
    pieces,
  });
  globalThis.fetch = realFetch;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  await exited;
}
