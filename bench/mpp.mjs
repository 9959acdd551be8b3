// MPP benchmark (figures, never assertions): in one run, against the same local mppx 0.11
// server (testkit, `stripe` charge, Stripe stand-ins), Stipend's paying fetch (mppAdapter +
// stripeWallet) and mppx's own client (`Mppx.create` + `stripe.charge` with an SPT callback)
// each pay /article many times. Both issue their Shared Payment Token with the real `stripe`
// SDK against the SPT stand-in.
//
// The servers run in a child process, so the CPU time measured here (process.cpuUsage of this
// process) is the client's own: protocol work, the stripe SDK call, fetch. Reported per paid
// call: client CPU time, wall time, HTTP round trips to the paid API, Payment credentials sent,
// SPTs issued and PaymentIntents created. A second scenario declines the first charge of every
// call, to show what each client does after a refusal.
//
// Run with `pnpm bench` (after `pnpm build`), or `node bench/mpp.mjs` after building
// @stipend/client, @stipend/testkit and @stipend/wallet-stripe.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, summarize } from './lib.mjs';

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

/** Child: the mppx server and the Stripe stand-in, driven over IPC. */
async function serve() {
  const { startMppServer } = await import('@stipend/testkit/mpp');
  const { startStripeStandIn } = await import('@stipend/testkit/stripe');
  const seller = 'profile_bench_seller';
  const stripeApi = await startStripeStandIn({ sellerProfile: seller });
  const server = await startMppServer({
    networkId: seller,
    paymentIntents: stripeApi.paymentIntents,
  });
  const stats = () => ({
    spts: stripeApi.requests.filter((r) => r.path === '/v1/shared_payment/issued_tokens').length,
    paymentIntents: stripeApi.paymentIntents.paymentIntents.length,
    succeeded: stripeApi.paymentIntents.paymentIntents.filter((p) => p.status === 'succeeded')
      .length,
  });
  const stop = async () => {
    await server.close();
    await stripeApi.close();
    process.exit(0);
  };
  process.on('message', async (message) => {
    if (message.type === 'stats') process.send({ type: 'stats', stats: stats() });
    if (message.type === 'issue') {
      const expiresAt = Math.floor(Date.now() / 1000) + 3600;
      const ids = [];
      for (let i = 0; i < message.count; i++) {
        ids.push(
          stripeApi.ledger.issue({
            paymentMethod: 'pm_card_visa',
            currency: 'usd',
            maxAmount: 50n,
            expiresAt,
            networkBusinessProfile: seller,
          }).id,
        );
      }
      process.send({ type: 'issued', ids });
    }
    if (message.type === 'declineNext') {
      stripeApi.paymentIntents.declineNext();
      process.send({ type: 'ok' });
    }
    if (message.type === 'stop') await stop();
  });
  process.on('disconnect', stop);
  process.send({
    type: 'ready',
    url: server.urlOf('/article'),
    freeUrl: server.urlOf('/free'),
    stripe: { host: stripeApi.host, port: stripeApi.port, secretKey: stripeApi.secretKey },
  });
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

  const client = await import('@stipend/client');
  // mppAdapter is exported from the index once the lead wires it; the built module otherwise.
  const { mppAdapter } = client.mppAdapter
    ? client
    : await import('../packages/client/dist/protocols/mpp/index.js');
  const { stripeWallet } = await import('@stipend/wallet-stripe');
  const { createSptTokenCallback } = await import('@stipend/testkit/stripe');
  const { Mppx, stripe } = await import('mppx/client');
  const { default: Stripe } = await import('stripe');

  const newStripe = () =>
    new Stripe(ready.stripe.secretKey, {
      host: ready.stripe.host,
      port: ready.stripe.port,
      protocol: 'http',
      maxNetworkRetries: 0,
      telemetry: false,
    });

  const counters = { requests: 0, credentials: 0 };
  const counting = async (input, init) => {
    counters.requests++;
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    const auth = headers.get('authorization') ?? headers.get('payment-authorization') ?? '';
    if (auth.startsWith('Payment ')) counters.credentials++;
    return fetch(input, init);
  };

  const policy = { global: { maxPerRequest: { usd: '1.00' } } };
  /** Tokens issued ahead by the child, for the run without a Stripe call per payment. */
  const pool = [];
  const takeToken = () => {
    const id = pool.pop();
    if (!id) throw new Error('token pool empty');
    return id;
  };
  const makeClients = (withStripe) => {
    const stipend = client.createPayingFetch({
      adapters: [mppAdapter()],
      wallets: [
        withStripe
          ? stripeWallet({ stripe: newStripe(), paymentMethod: 'pm_card_visa' })
          : stripeWallet({ createToken: async () => ({ id: takeToken(), status: 'active' }) }),
      ],
      policy,
      fetch: counting,
    });
    const preauthorized = client.createPayingFetch({
      adapters: [mppAdapter()],
      wallets: [
        withStripe
          ? stripeWallet({ stripe: newStripe(), paymentMethod: 'pm_card_visa' })
          : stripeWallet({ createToken: async () => ({ id: takeToken(), status: 'active' }) }),
      ],
      policy,
      fetch: counting,
      preauthorize: true,
    });
    const mppx = Mppx.create({
      polyfill: false,
      fetch: counting,
      methods: [
        stripe.charge({
          paymentMethod: 'pm_card_visa',
          createToken: withStripe ? createSptTokenCallback(newStripe()) : async () => takeToken(),
        }),
      ],
    });
    return {
      'plain fetch ×2 (no payment)': async () => {
        const first = await counting(ready.url);
        await first.arrayBuffer();
        const second = await counting(ready.freeUrl);
        await second.arrayBuffer();
        return second.status;
      },
      Stipend: async () => {
        const response = await stipend(ready.url, {
          payment: { idempotencyKey: crypto.randomUUID() },
        });
        await response.arrayBuffer();
        return response.status;
      },
      'Stipend, preauthorize: true': async () => {
        const response = await preauthorized(ready.url, {
          payment: { idempotencyKey: crypto.randomUUID() },
        });
        await response.arrayBuffer();
        return response.status;
      },
      'mppx client': async () => {
        const response = await mppx.fetch(ready.url);
        await response.arrayBuffer();
        return response.status;
      },
    };
  };

  const stats = async () => (await ask(child, { type: 'stats' }, 'stats')).stats;

  async function measure(clients, name, calls, options = {}) {
    const run = clients[name];
    if (options.pool)
      pool.push(...(await ask(child, { type: 'issue', count: calls }, 'issued')).ids);
    const before = await stats();
    counters.requests = 0;
    counters.credentials = 0;
    let cpu = 0;
    let wall = 0;
    const statuses = {};
    const latencies = [];
    const cpuSamples = [];
    for (let i = 0; i < calls; i++) {
      if (options.decline) await ask(child, { type: 'declineNext' }, 'ok');
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const status = await run().catch((error) => `error: ${error?.code ?? error?.message}`);
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
      const c = process.cpuUsage(c0);
      cpu += c.user + c.system;
      cpuSamples.push(c.user + c.system);
      wall += elapsed;
      latencies.push(elapsed);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    const after = await stats();
    const wallSamples = [...latencies];
    latencies.sort((a, b) => a - b);
    return {
      name,
      cpuSamples,
      wallSamples,
      cpuUsPerCall: cpu / calls,
      wallMsPerCall: wall / calls,
      p50: latencies[Math.floor(calls * 0.5)],
      roundTrips: counters.requests / calls,
      credentials: counters.credentials / calls,
      spts: (after.spts - before.spts) / calls,
      intents: (after.paymentIntents - before.paymentIntents) / calls,
      succeeded: (after.succeeded - before.succeeded) / calls,
      statuses,
    };
  }

  const rounds = 6;
  const perBlock = 50;
  /** Warm-up, then interleaved blocks (alternating order) so drift hits both clients alike. */
  async function compare(withStripe) {
    const clients = makeClients(withStripe);
    const options = { pool: !withStripe };
    const names = [
      'Stipend',
      'Stipend, preauthorize: true',
      'mppx client',
      'plain fetch ×2 (no payment)',
    ];
    for (const name of names) await measure(clients, name, 40, options);
    const runs = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      for (const name of order) runs[name].push(await measure(clients, name, perBlock, options));
    }
    return Object.entries(runs).map(([name, list]) => {
      const avg = (key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
      const p50s = list.map((r) => r.p50).sort((a, b) => a - b);
      const statuses = {};
      for (const r of list) {
        for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
      }
      return {
        name,
        cpuUsPerCall: avg('cpuUsPerCall'),
        wallMsPerCall: avg('wallMsPerCall'),
        p50: p50s[Math.floor(p50s.length / 2)],
        roundTrips: avg('roundTrips'),
        credentials: avg('credentials'),
        maxCredentials: Math.max(...list.map((r) => r.credentials)),
        spts: avg('spts'),
        intents: avg('intents'),
        statuses,
        cpuAll: summarize(list.flatMap((r) => r.cpuSamples)),
        wallAllMs: summarize(list.flatMap((r) => r.wallSamples)),
      };
    });
  }

  const scenarios = [
    [
      'each client issues its SPT through the stripe SDK (one HTTP call to the stand-in)',
      await compare(true),
    ],
    ['tokens issued ahead: protocol work and the two API round trips only', await compare(false)],
  ];
  const declinedClients = makeClients(true);
  const declined = [
    await measure(declinedClients, 'Stipend', 30, { decline: true }),
    await measure(declinedClients, 'mppx client', 30, { decline: true }),
  ];

  // Protocol work alone (no I/O): read the 402's challenge, build the credential, read the
  // receipt, on the server's real headers. mppx: its Challenge / Credential / Receipt modules.
  const { Challenge, Credential, Receipt } = await import('mppx');
  const unpaid = await fetch(ready.url);
  await unpaid.arrayBuffer();
  const receiptHeader = Buffer.from(
    JSON.stringify({
      method: 'stripe',
      status: 'success',
      timestamp: new Date().toISOString(),
      reference: 'pi_1',
    }),
  ).toString('base64url');
  const adapter = mppAdapter();
  const retry = {
    method: 'GET',
    url: new URL(ready.url),
    headers: new Headers(),
    idempotencyKey: `GET ${ready.url}`,
  };
  const protocolWork = {
    Stipend: async () => {
      const www = unpaid.headers.get('www-authenticate');
      const [offer] = adapter.parse({
        status: 402,
        headers: unpaid.headers,
        url: retry.url,
        method: 'GET',
        challenges: client.parseWwwAuthenticateLenient(www).challenges,
        bodyText: async () => undefined,
        now: Date.now(),
      });
      const proof = {
        offerId: offer.id,
        reference: 'spt_1',
        settlement: 'authorization',
        secret: { payload: { spt: 'spt_1' } },
      };
      adapter.proofHeaders(offer, proof, retry);
      await adapter.settle(
        offer,
        proof,
        new Response('{}', { headers: { 'payment-receipt': receiptHeader } }),
      );
    },
    'mppx client': async () => {
      const challenge = Challenge.fromHeaders(unpaid.headers);
      Credential.serialize({ challenge, payload: { spt: 'spt_1' } });
      Receipt.fromResponse(new Response('{}', { headers: { 'payment-receipt': receiptHeader } }));
    },
  };
  const protocolRows = [];
  for (const [name, run] of Object.entries(protocolWork)) {
    for (let i = 0; i < 3000; i++) await run();
    const c0 = process.cpuUsage();
    for (let i = 0; i < 30_000; i++) await run();
    const c = process.cpuUsage(c0);
    protocolRows.push({ name, us: (c.user + c.system) / 30_000 });
  }

  const f = (n, d = 1) => n.toFixed(d);
  const status = (s) =>
    Object.entries(s)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
  console.log('\n## MPP: one paid `stripe` charge (GET /article, $0.50), same mppx 0.11 server\n');
  console.log(
    `Node ${process.version}; ${rounds}×${perBlock} paid calls per client and scenario (interleaved blocks, after 40 warm-up calls); servers in a child process, so CPU is the client's own.`,
  );
  for (const [label, summary] of scenarios) {
    console.log(`\n### ${label}\n`);
    console.log(
      '| client | client CPU µs / paid call | wall ms / call | p50 ms (median block) | round trips / call | credentials / call | SPTs / call | PaymentIntents / call | statuses |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of summary) {
      console.log(
        `| ${r.name} | ${f(r.cpuUsPerCall, 0)} | ${f(r.wallMsPerCall, 2)} | ${f(r.p50, 2)} | ${f(r.roundTrips, 2)} | ${f(r.credentials, 2)} | ${f(r.spts, 2)} | ${f(r.intents, 2)} | ${status(r.statuses)} |`,
      );
    }
    const mine = summary.find((r) => r.name === 'Stipend');
    const early = summary.find((r) => r.name === 'Stipend, preauthorize: true');
    const theirs = summary.find((r) => r.name === 'mppx client');
    const base = summary.find((r) => r.name.startsWith('plain fetch'));
    const above = (r) => r.cpuUsPerCall - base.cpuUsPerCall;
    const pct = (a, b) => `${f((a / b) * 100, 0)}%`;
    console.log(
      `\nClient CPU per paid call vs mppx (mean; goals of issue 12: ≤ 70 %, ≤ 50 % with preauthorize): Stipend ${pct(mine.cpuUsPerCall, theirs.cpuUsPerCall)}, ` +
        `Stipend with preauthorize ${pct(early.cpuUsPerCall, theirs.cpuUsPerCall)}. ` +
        `Above the two plain fetches: Stipend ${f(above(mine), 0)} µs, mppx ${f(above(theirs), 0)} µs. ` +
        `Most credentials per call in any block: Stipend ${f(Math.max(mine.maxCredentials, early.maxCredentials), 2)} (goal: never more than 1).`,
    );
  }

  console.log('\n### protocol work alone (no I/O), 30 000 iterations\n');
  console.log('| client | CPU µs: read challenge + build credential + read receipt |');
  console.log('|---|---:|');
  for (const r of protocolRows) console.log(`| ${r.name} | ${f(r.us, 1)} |`);
  console.log(
    `\nStipend's MPP protocol work = ${f((protocolRows[0].us / protocolRows[1].us) * 100, 0)}% of mppx's.`,
  );

  console.log('\n## MPP: the first charge of each call is declined by the card issuer\n');
  console.log(
    '| client | round trips / call | credentials / call | SPTs / call | PaymentIntents / call | succeeded / call | statuses |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of declined) {
    console.log(
      `| ${r.name} | ${f(r.roundTrips, 2)} | ${f(r.credentials, 2)} | ${f(r.spts, 2)} | ${f(r.intents, 2)} | ${f(r.succeeded, 2)} | ${status(r.statuses)} |`,
    );
  }
  console.log(
    '\nStipend stops after one refused credential (status 402, token revoked, budget released); mppx pays again with a new SPT within the same call (up to maxPaymentRetries = 3).\n',
  );

  const kinds = {
    Stipend: ['Stipend', 'stipend', 'paid call'],
    'Stipend, preauthorize: true': ['Stipend', 'stipend', 'pre-authorization'],
    'mppx client': ['mppx client', 'peer', 'paid call'],
    'plain fetch ×2 (no payment)': ['plain fetch ×2', 'baseline', 'no payment'],
  };
  emit({
    bench: 'mpp',
    server: 'mppx 0.11 server (stripe charge) with the Stripe stand-in',
    rows: scenarios.flatMap(([label, summary], index) =>
      summary.map((r) => ({
        protocol: 'mpp',
        client: kinds[r.name][0],
        kind: kinds[r.name][1],
        variant: kinds[r.name][2],
        transport: index === 0 ? 'http' : 'http, SPTs issued ahead',
        scenario: label,
        cpuUs: r.cpuAll,
        wallMs: r.wallAllMs,
        roundTrips: r.roundTrips,
        credentials: r.credentials,
        maxCredentials: r.maxCredentials,
      })),
    ),
    protocolWorkUs: Object.fromEntries(protocolRows.map((r) => [r.name, r.us])),
    declined: declined.map((r) => ({
      client: r.name,
      roundTrips: r.roundTrips,
      credentials: r.credentials,
      spts: r.spts,
      intents: r.intents,
      succeeded: r.succeeded,
      statuses: r.statuses,
    })),
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  await exited;
}
