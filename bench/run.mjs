// `pnpm bench`: runs every benchmark of this folder in one run, one after the other (each in its
// own process, its servers in child processes), then writes ../BENCHMARKS.md from the figures
// each file hands back (JSON, see lib.mjs `emit`) with the goals next to them, met or not.
// Every file's own Markdown output is kept under "Details".
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');
/** In this order: the cheap ones first, the chain last but one, sizes last. */
const FILES = ['core.mjs', 'concurrency.mjs', 'x402.mjs', 'l402.mjs', 'mpp.mjs', 'size.mjs'];
const PEERS = [
  '@x402/fetch',
  '@x402/evm',
  '@x402/core',
  'mppx',
  '@getalby/lightning-tools',
  'viem',
  'stripe',
];

/**
 * Sizes measured before the size work of issue 8 (same method as bench/size.mjs, at commit
 * 8a5ca54), kept here because they cannot be measured again from later code.
 */
const SIZE_HISTORY = [
  'Size work of issue 8 (same method; before = commit 8a5ca54): `@stipend/client` alone went from ' +
    '143.3 kB minified / 49.4 kB gzipped to the figure above, and with the EVM wallet from 237.1 / 81.4 kB. ' +
    'The win is zod: `zod/mini` was 24.8 kB minified for about a dozen flat shapes of the x402 and MPP ' +
    'payloads, now checked by `src/internal/shape.ts` (about 2 kB minified) with the same rules ' +
    'and clearer messages (zod/mini without a locale says only "Invalid input"). The helpers duplicated ' +
    'across the adapter folders (base64 in x402, base64url in MPP, base64 in the macaroon reader, hex) are ' +
    'each under 1.3 kB minified with different strictness rules; merging them would save a few hundred bytes ' +
    'and was not worth the risk of changing what each accepts.',
];

const started = Date.now();
/** When and from what the figures were measured. */
const meta = { started, seconds: 0, git: '' };
const scratch = mkdtempSync(join(tmpdir(), 'stipend-bench-'));
const results = {};
const outputs = {};
const failures = [];
let current;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    current?.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  });
}
/** The last run's figures, to re-render BENCHMARKS.md without measuring (`--render`). */
const LAST_RUN = join(tmpdir(), 'stipend-bench-last-run.json');
if (process.argv[2] === '--render') {
  const last = JSON.parse(readFileSync(LAST_RUN, 'utf8'));
  Object.assign(results, last.results);
  Object.assign(outputs, last.outputs);
  failures.push(...last.failures);
  Object.assign(meta, last.meta);
} else {
  meta.git = gitState();
  for (const file of FILES) {
    const resultFile = join(scratch, `${file}.json`);
    const t0 = Date.now();
    process.stdout.write(`\n# bench/${file}\n`);
    const { code, stdout } = await new Promise((resolve) => {
      current = spawn(process.execPath, [file], {
        cwd: here,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, STIPEND_BENCH_RESULT: resultFile },
      });
      let text = '';
      current.stdout.on('data', (chunk) => {
        text += chunk;
        process.stdout.write(chunk);
      });
      current.on('close', (exit) => resolve({ code: exit, stdout: text }));
    });
    outputs[file] = { text: stdout.trim(), seconds: (Date.now() - t0) / 1000 };
    try {
      if (code !== 0) throw new Error(`exit code ${code}`);
      results[file.replace('.mjs', '')] = JSON.parse(readFileSync(resultFile, 'utf8'));
    } catch (error) {
      failures.push(`bench/${file}: ${error.message}`);
    }
  }
  meta.seconds = (Date.now() - started) / 1000;
  writeFileSync(LAST_RUN, JSON.stringify({ results, outputs, failures, meta }));
}
rmSync(scratch, { recursive: true, force: true });

writeFileSync(join(root, 'BENCHMARKS.md'), render());
process.stdout.write(
  `\nWrote BENCHMARKS.md (${((Date.now() - started) / 1000).toFixed(0)} s)${failures.length ? `; FAILED: ${failures.join('; ')}` : ''}\n`,
);
process.exit(failures.length > 0 ? 1 : 0);

// ---------------------------------------------------------------------------------------------

function version(name) {
  try {
    return JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'not installed';
  }
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages'], { cwd: root })
      .toString()
      .trim();
    return `${commit}${dirty ? ' with uncommitted changes in packages/' : ''}`;
  } catch {
    return 'unknown';
  }
}

function render() {
  const lines = [];
  const out = (line = '') => lines.push(line);
  const ms = (us) => (us / 1000).toFixed(2);
  const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
  const pct = (a, b) => `${((a / b) * 100).toFixed(0)} %`;
  const yes = (ok) => (ok ? 'met' : '**not met**');
  const triple = (s, f) => `${f(s.min)} / **${f(s.median)}** / ${f(s.max)}`;

  out('# Benchmarks');
  out();
  out(
    `Generated by \`pnpm bench\` (bench/run.mjs) on ${new Date(meta.started).toISOString().slice(0, 16).replace('T', ' ')} UTC ` +
      `from commit ${meta.git}; measuring took ${meta.seconds.toFixed(0)} s (after the build). ` +
      'Every server is local (127.0.0.1) and runs in a child process, so the CPU time measured ' +
      "is the client's own. Figures are min / **median** / max unless marked; rerun `pnpm bench` " +
      'to reproduce. Do not edit this file by hand.',
  );
  if (failures.length > 0) {
    out();
    out(`**Some benchmarks failed and are missing below:** ${failures.join('; ')}.`);
  }
  out();
  out('## Machine');
  out();
  const cpu = cpus();
  out('| CPU | cores | memory | Node | OS |');
  out('|---|---:|---:|---|---|');
  out(
    `| ${cpu[0]?.model ?? 'unknown'} | ${cpu.length} | ${(totalmem() / 2 ** 30).toFixed(0)} GiB | ${process.version} | ${type()} ${release()} |`,
  );
  out();
  out('The machine is shared (2 cores, other jobs may run): compare rows of one run, not runs.');
  out();
  out('## Peer versions (from their package.json)');
  out();
  out('| package | version |');
  out('|---|---|');
  for (const name of PEERS) out(`| \`${name}\` | ${version(name)} |`);
  out(`| \`esbuild\` (bundles) | ${rootVersion('esbuild')} |`);
  out();

  const rows = ['x402', 'l402', 'mpp'].flatMap((id) => results[id]?.rows ?? []);
  const find = (protocol, kind, variant, transport = 'http') =>
    rows.find(
      (r) =>
        r.protocol === protocol &&
        r.kind === kind &&
        r.variant === variant &&
        r.transport === transport,
    );
  const size = results.size?.bundles ?? [];
  const bundle = (id) => size.find((b) => b.id === id);
  const concurrency = results.concurrency?.runs ?? [];
  const core = results.core;

  out('## Goals');
  out();
  out('| goal | measured | |');
  out('|---|---|---|');
  for (const id of ['client', 'client-evm']) {
    const b = bundle(id);
    if (b)
      out(`| ${b.label}: ${b.goal.text} | ${kB(b.gzip)} gzipped | ${yes(b.gzip <= b.goal.gzip)} |`);
  }
  const reference = bundle('x402-fetch');
  if (reference) {
    out(
      `| (reference x402 client, about 121 kB) | ${kB(reference.gzip)} gzipped | for comparison |`,
    );
  }
  const cpuGoal = (protocol, variant, peerVariant, label) => {
    const mine = find(protocol, 'stipend', variant);
    const theirs = find(protocol, 'peer', peerVariant);
    if (!mine || !theirs) return;
    const ratio = mine.cpuUs.median / theirs.cpuUs.median;
    out(
      `| ${label}: client CPU ≤ 50 % of ${theirs.client} | ${pct(mine.cpuUs.median, theirs.cpuUs.median)} ` +
        `(median ${ms(mine.cpuUs.median)} ms vs ${ms(theirs.cpuUs.median)} ms) | ${yes(ratio <= 0.5)} |`,
    );
  };
  cpuGoal('x402', 'paid call', 'paid call', 'x402 paid call');
  cpuGoal('x402', 'pre-authorization', 'paid call', 'x402 paid call with pre-authorization');
  cpuGoal('l402', 'paid call', 'paid call', 'L402 paid call');
  cpuGoal('l402', 'held credential', 'held credential', 'L402 call with a held credential');
  cpuGoal('mpp', 'paid call', 'paid call', 'MPP paid call (stripe charge)');
  cpuGoal('mpp', 'pre-authorization', 'paid call', 'MPP paid call with pre-authorization');
  const trips = (protocol, variant, label) => {
    const r = find(protocol, 'stipend', variant);
    if (r)
      out(
        `| ${label}: one round trip | ${r.roundTrips.toFixed(2)} | ${yes(r.roundTrips <= 1.0001)} |`,
      );
  };
  trips('x402', 'pre-authorization', 'x402 with pre-authorization');
  trips('l402', 'held credential', 'L402 with a held credential');
  trips('mpp', 'pre-authorization', 'MPP with pre-authorization');
  for (const r of concurrency) {
    out(
      `| ${r.calls} concurrent paid calls (${r.label}): committed ≤ budget, ledger = rail | ` +
        `${usd(r.committed.ledgerUsdMicros)} of ${usd(r.budgetUsdMicros)}, rail moved ${usd(r.committed.railMovedUsdMicros)} | ` +
        `${yes(r.withinBudget && r.ledgerMatchesRail)} |`,
    );
  }
  if (core) {
    out(
      `| pass-through (non-402) overhead vs raw fetch ≤ 5 % at the median | ${core.passThrough.overheadMedianPct.toFixed(1)} % | ${yes(core.passThrough.overheadMedianPct <= 5)} |`,
    );
  }
  out();

  out('## Client CPU time per paid call');
  out();
  out(
    'Per call, `process.cpuUsage()` of the client process (user + system): reading the 402, ' +
      'policy and budget, signing or paying through the wallet, the proof, the HTTP client work ' +
      '(undici, the same for every client), reading the receipt and booking it. Steady state ' +
      '(warm-up calls excluded), calls of the clients interleaved. Round trips are HTTP requests ' +
      'to the paid API per call.',
  );
  out();
  out(
    '| protocol | client | call | client CPU ms (min / median / max) | vs peer (median) | wall ms (median) | round trips / call | calls |',
  );
  out('|---|---|---|---|---:|---:|---:|---:|');
  for (const r of rows.filter((row) => row.transport === 'http' || row.transport === 'memory')) {
    const peer = find(
      r.protocol,
      'peer',
      r.variant === 'held credential' ? 'held credential' : 'paid call',
      r.transport,
    );
    out(
      `| ${protocolName(r.protocol)}${r.transport === 'memory' ? ' (in-memory transport)' : ''} | ${r.client} | ${r.variant} | ` +
        `${triple(r.cpuUs, ms)} | ${peer && r.kind !== 'baseline' ? pct(r.cpuUs.median, peer.cpuUs.median) : ''} | ` +
        `${r.wallMs ? r.wallMs.median.toFixed(2) : ''} | ${r.roundTrips !== undefined ? r.roundTrips.toFixed(2) : ''} | ${r.cpuUs.n} |`,
    );
  }
  out();
  for (const id of ['x402', 'l402', 'mpp']) {
    if (results[id]?.server) out(`- ${protocolName(id)} server: ${results[id].server}.`);
  }
  if (results.x402?.signatureCpuUs) {
    out(
      `- x402 floor: one secp256k1 signature (viem \`account.sign\`) costs ${triple(results.x402.signatureCpuUs, ms)} ms; ` +
        "the in-memory rows replay the real server's 402 and receipt bytes without HTTP.",
    );
  }
  out();

  out('## Round trips per paid call (steady state)');
  out();
  out('| protocol | client | call | HTTP requests to the paid API per call |');
  out('|---|---|---|---:|');
  for (const r of rows.filter((row) => row.transport === 'http' && row.kind !== 'baseline')) {
    out(
      `| ${protocolName(r.protocol)} | ${r.client} | ${r.variant} | ${r.roundTrips.toFixed(2)} |`,
    );
  }
  out();

  if (concurrency.length > 0) {
    out(
      `## ${concurrency[0].calls} concurrent paid calls through one payingFetch, one shared budget`,
    );
    out();
    out(
      `Rail: ${results.concurrency.rail} (${results.concurrency.price} atomic units of a 6-decimal USD token = $0.001 per call). ` +
        'The stand-in rail settles in microseconds, so this measures the client under contention ' +
        '(policy, atomic budget reservations, ledger, the 402 → pay → retry flow); x402 on anvil ' +
        'would measure one local node mining ~20 ms transactions one after the other. Each paid ' +
        "call is three HTTP requests (402, the wallet's pay call, the paid retry).",
    );
    out();
    out(
      '| run | paid / refused | wall | paid calls / s | latency of paid calls ms (min / p50 / p99 / max) | client CPU / call | committed: ledger, budget store | rail moved | committed ≤ budget |',
    );
    out('|---|---:|---:|---:|---|---:|---|---:|---|');
    for (const r of concurrency) {
      const l = r.latencyMs;
      const f = (x) => x.toFixed(1);
      out(
        `| ${r.label}, budget ${usd(r.budgetUsdMicros)} | ${r.paid} / ${r.refused} | ${r.wallMs.toFixed(0)} ms | ${r.paidPerSecond.toFixed(0)} | ` +
          `${f(l.min)} / **${f(l.median)}** / **${f(l.p99)}** / ${f(l.max)} | ${ms(r.clientCpuUsPerCall)} ms | ` +
          `${usd(r.committed.ledgerUsdMicros)} (${r.committed.ledgerRecords} records), ${usd(r.committed.budgetStoreUsdMicros)} | ` +
          `${usd(r.committed.railMovedUsdMicros)} (${r.committed.railPayments} payments) | ${yes(r.withinBudget)} |`,
      );
    }
    const refusals = concurrency.filter((r) => r.refused > 0);
    for (const r of refusals) {
      out();
      out(
        `${r.label}: the ${r.refused} calls past the budget were refused before any payment (${Object.entries(
          r.refusals,
        )
          .map(([k, v]) => `${k} ×${v}`)
          .join(', ')}).`,
      );
    }
    out();
  }

  if (core) {
    const p = core.passThrough;
    out('## Pass-through overhead (non-402 traffic)');
    out();
    out(
      'payingFetch vs raw fetch on a 200 response over HTTP on 127.0.0.1 (server in the same ' +
        'process, so CPU includes it for both), calls interleaved.',
    );
    out();
    out('| fetch | wall µs (min / median / max) | p99 µs | CPU µs per call (min / median / max) |');
    out('|---|---|---:|---|');
    const us1 = (x) => x.toFixed(1);
    out(
      `| raw fetch | ${triple(p.wallUs.raw, us1)} | ${us1(p.wallUs.raw.p99)} | ${triple(p.cpuUs.raw, us1)} |`,
    );
    out(
      `| payingFetch | ${triple(p.wallUs.paying, us1)} | ${us1(p.wallUs.paying.p99)} | ${triple(p.cpuUs.paying, us1)} |`,
    );
    out();
    out(
      `Overhead at the median: ${p.overheadMedianPct.toFixed(1)} % of wall time. Parse + decide one 402 with 6 offers (no network): ${triple(core.parseDecideUs, us1)} µs; ` +
        `client time of one whole paid call on the stand-in rail (server excluded): ${triple(core.paidCallUs, us1)} µs.`,
    );
    out();
  }

  if (size.length > 0) {
    out('## Browser bundle sizes');
    out();
    out(
      'esbuild, ESM for the browser, minified, es2022; gzip level 9. Each entry is what an app ' +
        'writes (bench/size.mjs shows the code). Targets of dynamic `import()` load only when ' +
        'used and are left out of every bundle alike (listed). Stipend is bundled from its ' +
        'built dist/. `@stipend/client` imports no dependency: it validates the x402 and MPP payloads with its own 2 kB checker (internal/shape.ts) instead of zod/mini (24.8 kB minified of the bundle before).',
    );
    out();
    out(
      '| bundle | minified | gzipped | goal | largest parts (minified) | left out (dynamic import) |',
    );
    out('|---|---:|---:|---|---|---|');
    for (const b of size) {
      const goal = b.goal ? `${b.goal.text}: ${yes(b.gzip <= b.goal.gzip)}` : 'peer';
      const parts = b.packages
        .slice(0, 5)
        .map((part) => `${part.name} ${kB(part.bytes)}`)
        .join(', ');
      out(
        `| ${b.label} | ${kB(b.minified)} | **${kB(b.gzip)}** | ${goal} | ${parts} | ${b.lazy.map((l) => `\`${l}\``).join(', ')} |`,
      );
    }
    out();
    const client = bundle('client');
    if (client) sizeAnalysis(out, client, bundle('client-evm'), kB);
  }

  out('## Details, per benchmark file');
  out();
  out('The Markdown each file printed in this run, unchanged but for heading levels.');
  for (const file of FILES) {
    const o = outputs[file];
    if (!o) continue;
    out();
    out(`### bench/${file} (${o.seconds.toFixed(0)} s)`);
    out();
    out(
      o.text
        .split('\n')
        .map((line) =>
          /^#{1,3} /.test(line)
            ? `###${line.replace(/^#+/, (h) => '#'.repeat(Math.min(h.length, 3)))}`
            : line,
        )
        .join('\n'),
    );
  }
  out();
  return lines.join('\n');
}

/** Where the client's bytes are, the size work done, and the gap to the goals. */
function sizeAnalysis(out, client, withEvm, kB) {
  out("### Where `@stipend/client`'s bytes are, and the gap to the goals");
  out();
  out('| part of `@stipend/client` | minified | share |');
  out('|---|---:|---:|');
  for (const f of client.folders) {
    out(
      `| \`${f.name.replace(/^client\//, 'src/')}\` | ${kB(f.bytes)} | ${((f.bytes / client.minified) * 100).toFixed(0)} % |`,
    );
  }
  out();
  for (const line of SIZE_HISTORY) out(line);
  out();
  const adapters = client.folders
    .filter((f) => f.name.startsWith('client/protocols/'))
    .reduce((sum, f) => sum + f.bytes, 0);
  out(
    `The gap: ${kB(client.gzip)} gzipped against a 10 kB goal. Message text (string literals over 24 ` +
      `characters: errors that say what to change, hints) is ${kB(client.messages.minified)} minified; ` +
      `with every one of them emptied the code alone would still be ${kB(client.messages.gzipWithout)} gzipped. ` +
      `\`createPayingFetch\` wires the x402, L402 and MPP adapters by default, so all three protocols and the ` +
      `shared WWW-Authenticate parser (${kB(adapters)} minified together) are in every bundle, next to the ` +
      'policy engine, budgets, money and approvals. Reaching 10 kB needs a structural change, not trimming: for ' +
      'example adapters the app imports itself (the default list tree-shaken away), and a much smaller policy and ' +
      'parser core.' +
      (withEvm
        ? ` With the EVM wallet and a viem account the bundle is ${kB(withEvm.gzip)} gzipped against 40 kB; ` +
          `viem's account code and @noble alone are about ${kB(
            withEvm.packages
              .filter((p) => p.name === 'viem' || p.name.startsWith('@noble/'))
              .reduce((sum, p) => sum + p.bytes, 0),
          )} minified of it (the reference x402 client pays the same).`
        : ''),
  );
  out();
}

function usd(micros) {
  return `$${(Number(micros) / 1e6).toFixed(3)}`;
}

function protocolName(id) {
  return { x402: 'x402', l402: 'L402', mpp: 'MPP' }[id] ?? id;
}

function rootVersion(name) {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return 'not installed';
  }
}
