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
  const child = fork(here, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
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

  const N = Number(process.env.N ?? 1500);
  const which = process.env.WHICH ?? 'Stipend';
  const clients = makeClients(false);
  const fn = clients[which];
  pool.push(...(await ask(child, { type: 'issue', count: N + 300 }, 'issued')).ids);
  for (let i = 0; i < 200; i++) await fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) { const st = await fn(); if (st !== 200) throw new Error(String(st)); }
  const c = process.cpuUsage(c0);
  console.log(`${which}: ${((c.user + c.system) / N).toFixed(0)} µs CPU/call`);
  child.kill(); setTimeout(() => process.exit(0), 50);

}
