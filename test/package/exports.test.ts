/**
 * The public API of every entry of every published package, pinned: names AND types. Each
 * entry's API (every export with its kind and type, read by the TypeScript checker from the
 * sources) is kept in `test/package/api/<entry>.api.txt`, so adding, removing or retyping an
 * export changes that file and is seen in review (`vitest -u test/package/exports.test.ts`
 * to accept a deliberate change). The runtime exports must be exactly the value exports the
 * types declare.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiReader, type Entry, entriesOf } from './api.test-helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const packagesDir = join(root, 'packages');

/** The packages whose entries are pinned (every published one). */
const PINNED = [
  'client',
  'wallet-evm',
  'wallet-lightning',
  'wallet-stripe',
  'authority',
  'stores',
  'mcp',
  'cli',
] as const;
/** Published packages not pinned yet, each with the reason. */
const NOT_PINNED: Readonly<Record<string, string>> = {
  console: 'new in this round (issue 14); pin its entries when it lands',
};

const entries: Entry[] = PINNED.flatMap((folder) => entriesOf(packagesDir, folder));
let apiOf: (source: string) => string;

beforeAll(() => {
  apiOf = apiReader(
    entries.map((entry) => entry.source),
    root,
  );
}, 300_000);

/** `@stipend/client/x402` -> `client.x402.api.txt`. */
function fileOf(name: string): string {
  return `${name.replace('@stipend/', '').replaceAll('/', '.')}.api.txt`;
}

/** The value exports an API text declares (classes, functions, consts). */
function valuesIn(api: string): string[] {
  return [...api.matchAll(/^(?:class|function|const) ([A-Za-z0-9_$]+)/gm)]
    .map((m) => m[1]!)
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

describe('public API of every entry', () => {
  it('covers every published package', () => {
    const published = readdirSync(packagesDir).filter((folder) => {
      try {
        const manifest = JSON.parse(
          readFileSync(join(packagesDir, folder, 'package.json'), 'utf8'),
        );
        return manifest.private !== true;
      } catch {
        return false;
      }
    });
    const missing = published.filter(
      (folder) => !(PINNED as readonly string[]).includes(folder) && !(folder in NOT_PINNED),
    );
    expect(missing, 'add these packages to PINNED in test/package/exports.test.ts').toEqual([]);
  });

  it('pins the client entries an app chooses from', () => {
    expect(entries.map((entry) => entry.name)).toEqual(
      expect.arrayContaining([
        '@stipend/client',
        '@stipend/client/core',
        '@stipend/client/x402',
        '@stipend/client/l402',
        '@stipend/client/mpp',
        '@stipend/authority/remote',
        '@stipend/mcp',
        '@stipend/cli',
        '@stipend/wallet-evm/cdp',
        '@stipend/wallet-lightning/lnd-grpc',
        '@stipend/wallet-lightning/file',
        '@stipend/stores/file',
        '@stipend/stores/browser',
        '@stipend/stores/redis',
      ]),
    );
  });

  it.each(entries.map((entry) => [entry.name, entry] as const))(
    '%s: names and types',
    async (_name, entry) => {
      const api = apiOf(entry.source);
      await expect(`${api}\n`).toMatchFileSnapshot(join('api', fileOf(entry.name)));
      const module = (await import(pathToFileURL(entry.source).href)) as Record<string, unknown>;
      expect(
        Object.keys(module).sort(),
        'runtime exports = the value exports of the types',
      ).toEqual(valuesIn(api));
    },
    120_000,
  );
});
