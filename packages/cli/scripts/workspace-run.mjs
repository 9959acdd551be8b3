// `pnpm stipend …` in a clone of the Stipend repository: runs the `stipend` command from this
// workspace. The packages it runs are built first when their build is missing or older than
// their sources (a fresh clone needs only `pnpm install`; a tree `pnpm test` has just built is
// not rebuilt). Build messages go to stderr, so `pnpm -s stipend … --json` keeps stdout clean.
// Relative paths are taken from where pnpm was started (INIT_CWD), not the workspace root.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Build stages: a stage only starts once the one before is built (as the root build does). */
const STAGES = [
  ['client'],
  ['testkit', 'wallet-evm', 'wallet-lightning', 'wallet-stripe', 'mcp'],
  ['cli'],
];
/** The workspace packages each one builds against. */
const DEPENDS = {
  client: [],
  testkit: ['client'],
  'wallet-evm': ['client'],
  'wallet-lightning': ['client'],
  'wallet-stripe': ['client'],
  mcp: ['client'],
  cli: ['client', 'testkit', 'wallet-evm', 'wallet-lightning', 'wallet-stripe', 'mcp'],
};

/** Newest modification time of a package's sources and build settings, ms. */
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
  const entry = existsSync(built) ? built : join(dir, 'dist', 'market', 'index.js');
  return !existsSync(entry) || statSync(entry).mtimeMs < newestSource(dir);
}

const toBuild = new Set(Object.keys(DEPENDS).filter(stale));
for (const [name, deps] of Object.entries(DEPENDS)) {
  if (deps.some((dep) => toBuild.has(dep))) toBuild.add(name);
}
if (toBuild.size > 0) {
  process.stderr.write(
    `stipend: building ${[...toBuild].join(', ')} first (missing or out of date)…\n`,
  );
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
      process.stderr.write(
        'stipend: the build failed (see above); fix it, then run the command again.\n',
      );
      process.exit(built.status ?? 1);
    }
  }
}

if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
await import(pathToFileURL(join(root, 'packages/cli/dist/bin.js')).href);
