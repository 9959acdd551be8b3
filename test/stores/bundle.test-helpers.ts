/**
 * Bundles a TypeScript entry (workspace packages from source) into one ESM file that plain
 * `node` runs, for the child processes of the store suites.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** A bundled child script and its temporary folder. */
export interface ChildBundle {
  readonly file: string;
  readonly folder: string;
  remove(): void;
}

/**
 * Bundles `entry` (a URL relative to the caller) for Node.
 *
 * @example
 * ```ts
 * import { bundleChild } from './bundle.test-helpers.js';
 * const child = await bundleChild(new URL('./file-crash.child.ts', import.meta.url));
 * ```
 */
export async function bundleChild(entry: URL): Promise<ChildBundle> {
  const folder = mkdtempSync(join(tmpdir(), 'stipend-child-'));
  const file = join(folder, 'child.mjs');
  await build({
    entryPoints: [fileURLToPath(entry)],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    conditions: ['@stipend/source'],
    // CommonJS dependencies (node-redis) need require() inside an ES module.
    banner: {
      js: "import { createRequire as __stipendRequire } from 'node:module'; const require = __stipendRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
  return { file, folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}
