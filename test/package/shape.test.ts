/**
 * Package shape: every publishable package passes publint (strict) against its built
 * `dist/`, and the client's build imports no Node built-ins (it must run in browsers).
 * Needs `pnpm build` first (the root `pnpm test` does it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../packages/', import.meta.url));
const publishable = ['client', 'wallet-evm', 'wallet-lightning', 'wallet-stripe'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('package shape', () => {
  it.each(publishable)('@stipend/%s passes publint --strict', async (name) => {
    const pkgDir = join(root, name);
    const { messages } = await publint({ pkgDir, strict: true, level: 'suggestion' });
    expect(messages.map((m) => `${m.type}: ${m.code} ${JSON.stringify(m.args)}`)).toEqual([]);
  });

  it.each(publishable)(
    '@stipend/%s has an explicit exports map with types and sideEffects: false',
    (name) => {
      const pkg = JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8'));
      expect(pkg.type).toBe('module');
      expect(pkg.sideEffects).toBe(false);
      expect(pkg.exports['.']).toMatchObject({
        types: './dist/index.d.ts',
        default: './dist/index.js',
      });
    },
  );

  it('the built client imports no Node built-ins and no wallet', () => {
    const dist = join(root, 'client', 'dist');
    const offenders: string[] = [];
    for (const file of files(dist).filter((f) => f.endsWith('.js'))) {
      // Code only: TSDoc examples in comments may show how to import wallets.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
        (m) => m[1]!,
      );
      for (const spec of imports) {
        if (spec.startsWith('.')) continue;
        if (
          spec.startsWith('node:') ||
          /^(fs|path|http|https|net|crypto|stream|buffer|os|url|util|events|zlib)$/.test(spec) ||
          spec.startsWith('@stipend/wallet-')
        ) {
          offenders.push(`${file}: ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
    expect(files(dist).some((f) => f.endsWith('index.js'))).toBe(true);
  });

  it('the client has no runtime dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'client', 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  });
});
