// `pnpm demo`: an agent pays a local 402 marketplace — a real anvil chain with the official
// x402 server, an L402 server over a Lightning simulator, the mppx server with a Stripe
// stand-in — through createPayingFetch under a readable policy, and prints what it paid.
// Nothing to configure; nothing leaves 127.0.0.1. This is `stipend demo` (packages/cli).
//
// The packages the demo runs are built first when their build is missing or older than
// their sources (so a fresh clone needs only `pnpm install && pnpm demo`, and a tree that
// `pnpm test` has just built is not rebuilt).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The packages the demo imports and the workspace packages each one builds against. */
const PACKAGES = {
  client: [],
  testkit: ['client'],
  'wallet-evm': ['client'],
  'wallet-lightning': ['client'],
  'wallet-stripe': ['client'],
  cli: ['client', 'testkit', 'wallet-evm', 'wallet-lightning', 'wallet-stripe'],
};
/** Build stages: a stage only starts once the one before is built (as the root build does). */
const STAGES = [
  ['client'],
  ['testkit', 'wallet-evm', 'wallet-lightning', 'wallet-stripe'],
  ['cli'],
];

/** Newest modification time of the package's sources and build settings, ms. */
function newestSource(dir) {
  let newest = 0;
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ts$/.test(entry.name) && !/\.test(-helpers)?\.ts$/.test(entry.name)) {
        newest = Math.max(newest, statSync(full).mtimeMs);
      }
    }
  };
  walk(join(dir, 'src'));
  for (const file of ['package.json', 'tsconfig.build.json']) {
    if (existsSync(join(dir, file))) newest = Math.max(newest, statSync(join(dir, file)).mtimeMs);
  }
  return newest;
}

function stale(name) {
  const dir = join(root, 'packages', name);
  const built = join(dir, 'dist', 'index.js');
  return !existsSync(built) || statSync(built).mtimeMs < newestSource(dir);
}

// A stale package is rebuilt together with everything built against it.
const toBuild = new Set(Object.keys(PACKAGES).filter(stale));
for (const [name, deps] of Object.entries(PACKAGES)) {
  if (deps.some((dep) => toBuild.has(dep))) toBuild.add(name);
}
if (toBuild.size > 0) {
  console.log(`Building ${[...toBuild].join(', ')} first (their build is missing or out of date)…`);
  for (const stage of STAGES) {
    const names = stage.filter((name) => toBuild.has(name));
    if (names.length === 0) continue;
    const filters = names.flatMap((name) => ['--filter', `@stipend/${name}`]);
    const built = spawnSync('pnpm', [...filters, 'run', 'build'], {
      cwd: root,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    if (built.status !== 0) {
      process.stderr.write(`${built.stdout ?? ''}${built.stderr ?? ''}`);
      console.error('The build failed (see above); fix it, then run `pnpm demo` again.');
      process.exit(built.status ?? 1);
    }
  }
  console.log('');
}

const cli = await import(pathToFileURL(join(root, 'packages/cli/dist/index.js')).href);
const code = await cli.runDemo(cli.processIo());
process.exitCode = code;
// Exit once idle; if a stray keep-alive socket lingers, exit anyway.
setTimeout(() => process.exit(code), 500).unref();
