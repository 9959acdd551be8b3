// x402 benchmark (figures, never assertions): in one run, against the same local x402 server
// (testkit: the reference @x402/hono middleware + in-process x402Facilitator settling EIP-3009
// transfers on anvil), three clients pay GET /weather many times:
//   - Stipend (x402Adapter + evmWallet), the normal 402 flow;
//   - Stipend with pre-authorization (createPayingFetch({ preauthorize: true }));
//   - @x402/fetch 2.x (wrapFetchWithPayment + x402Client + @x402/evm ExactEvmScheme).
//
// Method. The server, its facilitator and anvil run in a CHILD process (anvil is its own
// process anyway), so `process.cpuUsage()` of this process measures the client alone: reading
// the 402, policy and budget, EIP-712 signing, building the proof, the HTTP client work of
// each request (undici, the same for every client) and the ledger bookkeeping. Calls are
// interleaved round-robin (one call of each client per round) so that drift hits all
// equally; the first rounds warm up and are not counted. Round trips are counted AT THE
// SERVER (the testkit records every request it receives) and divided by paid calls.
//
// Run with `pnpm bench` (after `pnpm build`), or `node bench/x402.mjs` after building
// @stipend/client, @stipend/testkit and @stipend/wallet-evm.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emit, summarize } from './lib.mjs';

const WARMUP_ROUNDS = 15;
const ROUNDS = 200;
const PAYERS = { stipend: 4, preauth: 5, reference: 6 };

if (process.argv[2] === '--serve') {
  await serve();
} else {
  await main();
}

/** Child: anvil + token + the reference x402 server and facilitator. */
async function serve() {
  const { startX402Server } = await import('@stipend/testkit/x402');
  const { devAccount } = await import('@stipend/testkit/chain');
  const server = await startX402Server();
  for (const index of Object.values(PAYERS)) {
    await server.chain.mint(devAccount(index).address, 100_000_000n);
  }
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.on('message', async (message) => {
    if (message.type === 'stats') {
      process.send({
        type: 'stats',
        requests: server.requests.length,
        paidRequests: server.requests.filter((r) => r.paid).length,
        settlements: server.settlements.length,
        rejections: server.rejections.length,
      });
    }
    if (message.type === 'stop') await stop();
  });
  process.on('disconnect', stop);
  process.send({
    type: 'ready',
    url: `${server.url}/weather`,
    token: { ...server.token },
    network: server.network,
  });
}

/** The server's own 402 terms and a real receipt, captured once with a real paid call. */
async function capture(url) {
  const unpaid = await fetch(url);
  await unpaid.arrayBuffer();
  const required = unpaid.headers.get('payment-required');
  const receipt =
    'eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6MzEzMzciLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9';
  return { required, receipt };
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
  // x402Adapter is exported from the index once the lead wires it; the built module otherwise.
  const { x402Adapter } = client.x402Adapter
    ? client
    : await import('../packages/client/dist/protocols/x402/index.js');
  const { evmWallet } = await import('@stipend/wallet-evm');
  const { devAccount } = await import('@stipend/testkit/chain');
  const { wrapFetchWithPayment, x402Client } = await import('@x402/fetch');
  const { ExactEvmScheme } = await import('@x402/evm/exact/client');

  const { token, network } = ready;
  const asset = {
    network,
    address: token.address,
    symbol: 'USDC',
    decimals: token.decimals,
    name: token.name,
    version: token.version,
    peg: 'USD',
  };
  const policy = {
    global: {
      maxPerRequest: { usd: '0.01' },
      limits: [{ usd: '1000', window: { calendar: 'day' } }],
    },
  };
  const stipendFetch = (preauthorize, payer) =>
    client.createPayingFetch({
      adapters: [x402Adapter({ assets: [asset] })],
      wallets: [evmWallet({ account: devAccount(payer) })],
      policy,
      preauthorize,
    });
  const reference = wrapFetchWithPayment(
    fetch,
    new x402Client()
      .register(network, new ExactEvmScheme(devAccount(PAYERS.reference)))
      .setSpendControls({ allowedAssets: [{ network, asset: token.address }] }),
  );
  const clients = {
    Stipend: stipendFetch(false, PAYERS.stipend),
    'Stipend, pre-authorization': stipendFetch(true, PAYERS.preauth),
    '@x402/fetch 2.27': reference,
  };

  const stats = () => ask(child, { type: 'stats' }, 'stats');
  const totals = Object.fromEntries(
    Object.keys(clients).map((name) => [
      name,
      { cpuUs: 0, cpu: [], wall: [], requests: 0, paidRequests: 0, settlements: 0, failures: 0 },
    ]),
  );

  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    const counted = round >= WARMUP_ROUNDS;
    for (const [name, pay] of Object.entries(clients)) {
      const before = counted ? await stats() : undefined;
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const response = await pay(ready.url);
      await response.arrayBuffer();
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu = process.cpuUsage(cpu0);
      if (!counted) continue;
      const after = await stats();
      const total = totals[name];
      total.cpuUs += cpu.user + cpu.system;
      total.cpu.push(cpu.user + cpu.system);
      total.wall.push(wall);
      total.requests += after.requests - before.requests;
      total.paidRequests += after.paidRequests - before.paidRequests;
      total.settlements += after.settlements - before.settlements;
      if (response.status !== 200) total.failures++;
    }
  }

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  };
  const referenceCpu = totals['@x402/fetch 2.27'].cpuUs / ROUNDS;
  console.log(
    `\n## x402: client cost per paid call (${ROUNDS} calls each, ${WARMUP_ROUNDS} warm-up)\n`,
  );
  console.log(
    'Server, facilitator and anvil in a child process; CPU is this process only (client). ' +
      'Round trips counted at the server.\n',
  );
  console.log(
    '| client | client CPU / paid call | vs @x402/fetch | round trips / paid call | settlements / call | wall median | non-200 |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [name, total] of Object.entries(totals)) {
    const cpu = total.cpuUs / ROUNDS;
    console.log(
      `| ${name} | ${(cpu / 1000).toFixed(2)} ms | ${((cpu / referenceCpu) * 100).toFixed(0)} % | ` +
        `${(total.requests / ROUNDS).toFixed(2)} | ${(total.settlements / ROUNDS).toFixed(2)} | ` +
        `${median(total.wall).toFixed(1)} ms | ${total.failures} |`,
    );
  }
  const stipendCpu = totals.Stipend.cpuUs / ROUNDS;
  const preauth = totals['Stipend, pre-authorization'];
  console.log(
    `\nGoals (issue 12): Stipend client CPU ≤ 70 % of @x402/fetch → ${((stipendCpu / referenceCpu) * 100).toFixed(0)} % (mean); ` +
      `with pre-authorization ≤ 50 % → ${((preauth.cpuUs / ROUNDS / referenceCpu) * 100).toFixed(0)} % (mean); ` +
      `one round trip with pre-authorization → ${(preauth.requests / ROUNDS).toFixed(2)}.`,
  );

  // Protocol work only: the same clients over an in-memory transport that answers with the
  // server's own 402 and receipt bytes (captured above), so no HTTP stack is measured.
  const captured = await capture(ready.url);
  const memoryFetch = async (input, init) => {
    const request = new Request(input, init);
    await request.arrayBuffer();
    if (request.headers.has('payment-signature')) {
      return new Response('{"report":"ok"}', {
        status: 200,
        headers: { 'content-type': 'application/json', 'payment-response': captured.receipt },
      });
    }
    return new Response('{}', {
      status: 402,
      headers: { 'content-type': 'application/json', 'payment-required': captured.required },
    });
  };
  const memoryClients = {
    Stipend: client.createPayingFetch({
      adapters: [x402Adapter({ assets: [asset] })],
      wallets: [evmWallet({ account: devAccount(PAYERS.stipend) })],
      policy,
      fetch: memoryFetch,
    }),
    'Stipend, pre-authorization': client.createPayingFetch({
      adapters: [x402Adapter({ assets: [asset] })],
      wallets: [evmWallet({ account: devAccount(PAYERS.preauth) })],
      policy,
      preauthorize: true,
      fetch: memoryFetch,
    }),
    '@x402/fetch 2.27': wrapFetchWithPayment(
      memoryFetch,
      new x402Client()
        .register(network, new ExactEvmScheme(devAccount(PAYERS.reference)))
        .setSpendControls({ allowedAssets: [{ network, asset: token.address }] }),
    ),
  };
  const MEMORY_CALLS = 1000;
  const memory = Object.fromEntries(Object.keys(memoryClients).map((name) => [name, 0]));
  const memorySamples = Object.fromEntries(Object.keys(memoryClients).map((name) => [name, []]));
  for (let round = 0; round < 200 + MEMORY_CALLS; round++) {
    for (const [name, pay] of Object.entries(memoryClients)) {
      const cpu0 = process.cpuUsage();
      const response = await pay(ready.url);
      await response.arrayBuffer();
      const cpu = process.cpuUsage(cpu0);
      if (response.status !== 200)
        throw new Error(`${name}: in-memory call answered ${response.status}`);
      if (round >= 200) {
        memory[name] += cpu.user + cpu.system;
        memorySamples[name].push(cpu.user + cpu.system);
      }
    }
  }
  // The floor every client pays: one secp256k1 signature of an EIP-712 digest (viem/noble).
  const signer = devAccount(PAYERS.stipend);
  let signCpu = 0;
  const signSamples = [];
  for (let i = 0; i < 200 + MEMORY_CALLS; i++) {
    const hash = `0x${i.toString(16).padStart(64, '0')}`;
    const cpu0 = process.cpuUsage();
    await signer.sign({ hash });
    const cpu = process.cpuUsage(cpu0);
    if (i >= 200) {
      signCpu += cpu.user + cpu.system;
      signSamples.push(cpu.user + cpu.system);
    }
  }
  const memoryReference = memory['@x402/fetch 2.27'] / MEMORY_CALLS;
  console.log(`\n## x402: protocol work only, in-memory transport (${MEMORY_CALLS} calls each)\n`);
  console.log(
    'Same 402 and receipt bytes as the real server, no HTTP stack: read the 402, policy and ' +
      'budget, sign, build the proof, resend, read the receipt, book it.\n',
  );
  console.log('| client | client CPU / paid call | vs @x402/fetch |');
  console.log('|---|---:|---:|');
  for (const [name, total] of Object.entries(memory)) {
    const cpu = total / MEMORY_CALLS;
    console.log(
      `| ${name} | ${(cpu / 1000).toFixed(3)} ms | ${((cpu / memoryReference) * 100).toFixed(0)} % |`,
    );
  }
  console.log(
    `| (one secp256k1 signature alone, viem account.sign) | ${(signCpu / MEMORY_CALLS / 1000).toFixed(3)} ms | ` +
      `${((signCpu / MEMORY_CALLS / memoryReference) * 100).toFixed(0)} % |`,
  );
  const kinds = {
    Stipend: ['stipend', 'paid call'],
    'Stipend, pre-authorization': ['stipend', 'pre-authorization'],
    '@x402/fetch 2.27': ['peer', 'paid call'],
  };
  const row = (name, transport, cpu, extra = {}) => ({
    protocol: 'x402',
    client: name.startsWith('Stipend') ? 'Stipend' : name,
    kind: kinds[name][0],
    variant: kinds[name][1],
    transport,
    cpuUs: summarize(cpu),
    ...extra,
  });
  emit({
    bench: 'x402',
    server: '@x402/hono middleware + in-process x402Facilitator, EIP-3009 on anvil',
    rounds: ROUNDS,
    memoryCalls: MEMORY_CALLS,
    rows: [
      ...Object.entries(totals).map(([name, total]) =>
        row(name, 'http', total.cpu, {
          wallMs: summarize(total.wall),
          roundTrips: total.requests / ROUNDS,
          settlements: total.settlements / ROUNDS,
          failures: total.failures,
        }),
      ),
      ...Object.entries(memorySamples).map(([name, cpu]) => row(name, 'memory', cpu)),
    ],
    signatureCpuUs: summarize(signSamples),
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  await exited;
}
