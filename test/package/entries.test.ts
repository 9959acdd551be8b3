/**
 * One protocol per entry: an app that imports `@stipend/client/core` ships no protocol, and one
 * that imports `@stipend/client/<protocol>` ships that protocol only. Checked on the import
 * graph of the sources (every static and dynamic import, transitively), so a new import of
 * another protocol's folder (as `mpp/terms.ts` once took `readBolt11` from `l402/`) fails here.
 * What two protocols share has a shared home (`protocols/bolt11.ts`, `protocols/www-authenticate.ts`,
 * `money/`); the budget knows nothing of the policy.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as root from '@stipend/client';
import * as core from '@stipend/client/core';
import * as l402 from '@stipend/client/l402';
import * as mpp from '@stipend/client/mpp';
import * as sessions from '@stipend/client/sessions';
import * as x402 from '@stipend/client/x402';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../packages/client/src/', import.meta.url));
const PROTOCOLS = ['x402', 'l402', 'mpp'] as const;

/** Relative imports of a module's code (comments aside), resolved to `.ts` files. */
function importsOf(file: string, read: (file: string) => string): string[] {
  const code = read(file)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const specs = [
    ...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm),
  ].map((m) => m[1]!);
  return specs.map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** Every module reachable from `entry` (itself included), as paths relative to `base`. */
export function closureOf(
  entry: string,
  base: string,
  read: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): Set<string> {
  const seen = new Set<string>();
  const todo = [resolve(base, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const key = relative(base, file);
    if (seen.has(key)) continue;
    seen.add(key);
    todo.push(...importsOf(file, read));
  }
  return seen;
}

/** The modules of `closure` that belong to a protocol folder other than `own`. */
export function foreignProtocolModules(closure: Set<string>, own?: string): string[] {
  return [...closure].filter((file) => {
    const protocol = /^protocols\/([^/]+)\//.exec(file)?.[1];
    return protocol !== undefined && protocol !== own;
  });
}

describe('one protocol per entry', () => {
  it('the check sees a protocol importing another protocol, even through a shared module', () => {
    const files: Record<string, string> = {
      'entries/mpp.ts': "export { mppAdapter } from '../protocols/mpp/adapter.js';",
      'protocols/mpp/adapter.ts': "import { readBolt11 } from '../shared.js';",
      'protocols/shared.ts': "import { x } from './l402/bolt11.js';\n// import './x402/no.js'",
      'protocols/l402/bolt11.ts': 'export const x = 1;',
    };
    const read = (file: string) => files[relative('/v', file)] ?? '';
    const closure = closureOf('entries/mpp.ts', '/v', read);
    expect(foreignProtocolModules(closure, 'mpp')).toEqual(['protocols/l402/bolt11.ts']);
  });

  it.each(PROTOCOLS)('@stipend/client/%s imports no other protocol', (protocol) => {
    const closure = closureOf(`entries/${protocol}.ts`, src);
    expect(closure.has(`protocols/${protocol}/adapter.ts`)).toBe(true);
    expect(foreignProtocolModules(closure, protocol)).toEqual([]);
    // A protocol entry brings its adapter, not the paying fetch or the policy engine.
    expect([...closure].filter((file) => /^(fetch|policy|budget)\//.test(file))).toEqual([]);
  });

  it.each(PROTOCOLS)('every module of protocols/%s imports no other protocol', (protocol) => {
    const modules = [...closureOf(`entries/${protocol}.ts`, src)].filter((file) =>
      file.startsWith(`protocols/${protocol}/`),
    );
    for (const file of modules) {
      expect(foreignProtocolModules(closureOf(file, src), protocol), file).toEqual([]);
    }
  });

  it('@stipend/client/core imports no protocol adapter', () => {
    const closure = closureOf('entries/core.ts', src);
    expect(closure.has('fetch/createPayingFetch.ts')).toBe(true);
    expect(foreignProtocolModules(closure)).toEqual([]);
  });

  it('the budget knows nothing of the policy', () => {
    const closure = closureOf('budget/index.ts', src);
    expect([...closure].filter((file) => !/^(budget|errors)\//.test(file))).toEqual([]);
  });
});

describe('the entries', () => {
  it('the root (drop-in) offers everything the core and protocol entries offer', () => {
    const rootNames = new Set(Object.keys(root));
    const missing = [core, x402, l402, mpp, sessions]
      .flatMap((entry) => Object.keys(entry))
      .filter((name) => !rootNames.has(name));
    expect(missing).toEqual([]);
  });
});
