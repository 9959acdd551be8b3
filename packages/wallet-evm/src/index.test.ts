/**
 * The entries of `@stipend/wallet-evm` (issue 12, item 2): the main entry bundles for browsers
 * with plain esbuild and no externals, and the CDP SDK lives only behind `/cdp`.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('@stipend/wallet-evm entries', () => {
  it('the main entry bundles for the browser with plain esbuild and no externals (no CDP SDK, no Node built-ins)', async () => {
    const result = await build({
      entryPoints: [`${here}index.ts`],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => /cdp-sdk|[\\/]cdp\.ts$/.test(file))).toEqual([]);
    expect(inputs.filter((file) => file.startsWith('node:'))).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/import\(["']@coinbase/);
  }, 30_000);

  it('cdpAccount is exported by @stipend/wallet-evm/cdp, not by the main entry', async () => {
    const main = await import('@stipend/wallet-evm');
    const cdp = await import('@stipend/wallet-evm/cdp');
    expect('cdpAccount' in main).toBe(false);
    expect(typeof cdp.cdpAccount).toBe('function');
  });
});
