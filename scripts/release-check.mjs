// `pnpm release:check`: what a person installing Stipend from the registry would get, checked
// before it is published. Packs every public package (pnpm pack: workspace ranges become
// versions), lints each tarball (publint --strict, arethetypeswrong with the esm-only
// profile), installs all tarballs with npm into a fresh directory outside the workspace, and
// there pays the workspace testkit's x402 seller (its own process) through the INSTALLED
// @stipend/client and @stipend/wallet-evm, and runs the installed `stipend` command.
// Needs the packages built (`pnpm run build`; `pnpm test` builds them) and the npm registry.
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = Date.now();
const step = (text) =>
  console.log(`release:check · ${text} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
const run = (command, args, options = {}) =>
  execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...options });
const failures = [];
const runAsync = (command, args, options = {}) =>
  promisify(execFile)(command, args, { encoding: 'utf8', maxBuffer: 1 << 24, ...options });

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    json: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
  }))
  .filter((pkg) => !pkg.json.private);
for (const pkg of packages) {
  if (!existsSync(join(pkg.dir, 'dist'))) {
    console.error(
      `release:check: ${pkg.json.name} is not built; run \`pnpm run build\` first (pnpm test does it)`,
    );
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'stipend-release-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
let seller;
try {
  step(`packing ${packages.length} public packages`);
  for (const pkg of packages)
    run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: pkg.dir });
  const files = readdirSync(tarballs)
    .filter((f) => f.endsWith('.tgz'))
    .map((f) => join(tarballs, f));

  const lint = async (file) => {
    const name = file.slice(tarballs.length + 1);
    const listing = run('tar', ['tzf', file]);
    for (const needed of ['package/LICENSE', 'package/README.md', 'package/package.json']) {
      if (!listing.split('\n').includes(needed))
        failures.push(`${name}: ${needed} is not in the tarball`);
    }
    const manifest = JSON.parse(run('tar', ['xzOf', file, 'package/package.json']));
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
        if (String(range).startsWith('workspace:'))
          failures.push(`${name}: ${field}.${dep} is ${range}`);
        if (dep === '@stipend/testkit' && field !== 'peerDependencies')
          failures.push(`${name}: depends on the private @stipend/testkit`);
      }
    }
    for (const field of ['repository', 'homepage', 'keywords', 'license']) {
      if (manifest[field] === undefined) failures.push(`${name}: no "${field}"`);
    }
    try {
      await runAsync(join(root, 'node_modules/.bin/publint'), ['run', file, '--strict']);
    } catch (error) {
      failures.push(`${name}: publint --strict:\n${error.stdout}${error.stderr}`);
    }
    try {
      await runAsync(join(root, 'node_modules/.bin/attw'), [
        file,
        '--profile',
        'esm-only',
        '--format',
        'ascii',
      ]);
    } catch (error) {
      failures.push(`${name}: arethetypeswrong (esm-only):\n${error.stdout}${error.stderr}`);
    }
  };

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'stipend-release-smoke', private: true, type: 'module' })}\n`,
  );
  // viem at the version the wallets are tested with (see ENVIRONMENT.md: newer ones ask for an
  // mppx the registry does not have).
  // The lint (two tarballs at a time) and the install (mostly network) run side by side.
  const queue = [...files];
  const linting = Promise.all(
    [0, 1].map(async () => {
      for (let file = queue.shift(); file; file = queue.shift()) await lint(file);
    }),
  ).then(() => step(`publint and arethetypeswrong read ${files.length} tarballs`));
  await runAsync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, 'viem@2.57.13'],
    { cwd: app },
  );
  step('npm installed every tarball into a fresh directory outside the workspace');
  await linting;

  seller = spawn(process.execPath, [join(root, 'scripts/release-smoke/seller.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => reject(new Error('the x402 seller did not start within 60 s')),
      60_000,
    );
    seller.stdout.setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(text.slice(0, text.indexOf('\n')));
      }
    });
    seller.once('exit', (code) => reject(new Error(`the x402 seller exited (${code})`)));
  });
  step('the testkit x402 seller is up');
  cpSync(join(root, 'scripts/release-smoke/smoke.mjs'), join(app, 'smoke.mjs'));
  try {
    console.log(run(process.execPath, ['smoke.mjs', line], { cwd: app, timeout: 60_000 }).trim());
  } catch (error) {
    failures.push(`the smoke payment failed:\n${error.stdout}${error.stderr}`);
  }

  // The installed command: runs, and says what to install for the testkit-only commands.
  const stipend = join(app, 'node_modules/.bin/stipend');
  try {
    if (!run(stipend, ['--help'], { cwd: app }).includes('stipend fetch <url>'))
      failures.push('stipend --help printed no usage');
  } catch (error) {
    failures.push(`the installed stipend --help failed:\n${error.stdout}${error.stderr}`);
  }
  try {
    run(stipend, ['demo'], { cwd: app });
    failures.push('stipend demo ran without @stipend/testkit installed');
  } catch (error) {
    if (!/needs the local 402 marketplace from @stipend\/testkit/.test(error.stderr)) {
      failures.push(
        `stipend demo without the testkit did not say what to install:\n${error.stderr}`,
      );
    }
  }
  step('the installed stipend command runs');
} finally {
  if (seller && seller.exitCode === null) {
    const exited = new Promise((resolve) => seller.once('exit', resolve));
    seller.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (seller.exitCode === null) seller.kill('SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(
    `release:check failed (${failures.length}):\n${failures.map((f) => `  ✗ ${f}`).join('\n')}`,
  );
  process.exit(1);
}
step('passed');
