/**
 * Browser bundle-size limits: a regression fails CI. The built `@stipend/client` (and
 * `@stipend/wallet-evm` with a viem private-key account) is bundled the way an app ships it
 * (esbuild, ESM for the browser, minified, es2022) and gzipped at level 9, as `pnpm bench`
 * measures it for BENCHMARKS.md.
 *
 * The limits are the sizes measured after the size work of issue 8 plus a small margin. They
 * are NOT the goals (client ≤ 10 kB gzipped, client + EVM wallet ≤ 40 kB gzipped), which are
 * not met yet: see BENCHMARKS.md. Lower a limit when a change makes the bundle smaller; raise
 * one only with a reason in the commit.
 */

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Bytes. Measured 2026-11-24: client 120,295 minified / 42,408 gzipped; + EVM 213,995 / 74,279. */
const LIMITS = {
  client: { minified: 122_000, gzip: 43_000 },
  clientEvm: { minified: 216_000, gzip: 75_000 },
} as const;

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

const ENTRIES = {
  client: `import { createPayingFetch } from '@stipend/client';
globalThis.payingFetch = createPayingFetch;`,
  clientEvm: `import { createPayingFetch } from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import { privateKeyToAccount } from 'viem/accounts';
globalThis.payingFetch = createPayingFetch({
  wallets: [evmWallet({ account: privateKeyToAccount('${KEY}') })],
});`,
} as const;

interface Size {
  readonly minified: number;
  readonly gzip: number;
  /** Minified bytes per input file, largest first (for the failure message). */
  readonly largest: readonly string[];
}

/** Bundles an entry from the built packages (default export condition: `dist/`). */
async function measure(source: string): Promise<Size> {
  const result = await build({
    stdin: { contents: source, resolveDir: here, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // What loads only when used (the CDP SDK behind cdpAccount(), viem's optional parts)
    // stays out, as in bench/size.mjs.
    plugins: [
      {
        name: 'lazy-imports',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) =>
            args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined,
          );
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.contents;
  const output = Object.values(result.metafile.outputs)[0]!;
  const largest = Object.entries(output.inputs)
    .sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
    .slice(0, 8)
    .map(
      ([file, { bytesInOutput }]) => `${file.replace(/^.*node_modules\//, '')} ${bytesInOutput}`,
    );
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length, largest };
}

/** Newest modification time under a folder (ms), skipping tests. */
function newest(folder: string): number {
  let latest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (!entry.name.includes('.test')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

/** The limit check itself: `undefined` when within, else what to do. */
function overLimit(
  name: string,
  size: Pick<Size, 'minified' | 'gzip'>,
  limit: { readonly minified: number; readonly gzip: number },
): string | undefined {
  const over = [
    size.gzip > limit.gzip ? `${size.gzip} B gzipped > ${limit.gzip}` : undefined,
    size.minified > limit.minified ? `${size.minified} B minified > ${limit.minified}` : undefined,
  ].filter(Boolean);
  if (over.length === 0) return undefined;
  return (
    `${name} grew past its size limit (${over.join(', ')}). Find what grew with ` +
    '`node bench/size.mjs` (largest parts) and make it smaller; raise the limit in ' +
    'test/size/bundle.test.ts only for a reason you can name.'
  );
}

describe('browser bundle size', () => {
  it('checks its limits: within passes, one byte over fails with what to do', () => {
    const limit = { minified: 100, gzip: 50 };
    expect(overLimit('x', { minified: 100, gzip: 50 }, limit)).toBeUndefined();
    expect(overLimit('x', { minified: 100, gzip: 51 }, limit)).toMatch(/51 B gzipped > 50/);
    expect(overLimit('x', { minified: 101, gzip: 50 }, limit)).toMatch(/101 B minified > 100/);
  });

  it('bundles the built packages, not a stale dist/', () => {
    for (const pkg of ['client', 'wallet-evm']) {
      const dist = join(root, 'packages', pkg, 'dist');
      const built = (() => {
        try {
          return newest(dist);
        } catch {
          return 0;
        }
      })();
      expect(
        built >= newest(join(root, 'packages', pkg, 'src')),
        `packages/${pkg}/dist is missing or older than src/: run \`pnpm run build\` first`,
      ).toBe(true);
    }
  });

  it.each(Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])(
    '%s stays within its limit',
    async (name) => {
      const size = await measure(ENTRIES[name]);
      const problem = overLimit(name, size, LIMITS[name]);
      expect(
        problem,
        `${problem}\nlargest inputs (minified bytes):\n${size.largest.join('\n')}`,
      ).toBeUndefined();
      // An entry that bundled (almost) nothing would make the limit check vacuous.
      expect(size.minified, 'the entry bundled almost nothing').toBeGreaterThan(50_000);
    },
  );
});
