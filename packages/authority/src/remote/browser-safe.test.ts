import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const sources = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.includes('.test'));
const allowed =
  /^(\.\/[a-z0-9-]+\.js|@stipend\/client(\/internal)?|@noble\/hashes\/(hmac|sha2)\.js)$/;

describe('@stipend/authority/remote stays browser-safe', () => {
  it('imports nothing but its own files, @stipend/client and @noble/hashes', () => {
    expect(sources.length).toBeGreaterThan(5);
    for (const file of sources) {
      // Code only: TSDoc examples import other entry points and mention Node on purpose.
      const text = readFileSync(`${here}${file}`, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const specifiers = [...text.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        expect(allowed.test(specifier), `${file} imports ${specifier}`).toBe(true);
        expect(builtinModules.includes(specifier.replace(/^node:/, ''))).toBe(false);
      }
      expect(text).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(/);
    }
  });
});
