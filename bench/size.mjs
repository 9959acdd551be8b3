// Browser bundle sizes (figures, never assertions): each entry below is bundled with esbuild
// for the browser (ESM, minified, es2022), as an application would ship it, and measured
// minified and gzipped (level 9). Stipend resolves to its built dist/ (`pnpm build` first).
//
// What loads on the page is measured: targets of dynamic `import()` (loaded only when a
// feature that needs them is used: the CDP SDK behind cdpAccount() in @stipend/wallet-evm,
// Node's crypto fallback in Alby's tools, viem's optional websocket and CCIP code) are left
// out of every bundle alike and listed.
//
// Run with `pnpm bench`, or `node bench/size.mjs` after building.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import ts from 'typescript';
import { emit } from './lib.mjs';

/** A fixed dev key (anvil's account #1): bundles only, nothing is signed. */
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

export const BUNDLES = [
  {
    id: 'client',
    label: '`@stipend/client` alone',
    source: `import { createPayingFetch } from '@stipend/client';
globalThis.payingFetch = createPayingFetch;`,
    goal: { gzip: 10_000, text: '≤ 10 kB gzipped' },
  },
  {
    id: 'client-evm',
    label: '`@stipend/client` + `@stipend/wallet-evm` + viem private-key account',
    source: `import { createPayingFetch } from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import { privateKeyToAccount } from 'viem/accounts';
globalThis.payingFetch = createPayingFetch({
  wallets: [evmWallet({ account: privateKeyToAccount('${KEY}') })],
});`,
    goal: { gzip: 40_000, text: '≤ 40 kB gzipped' },
  },
  {
    id: 'x402-fetch',
    label: '`@x402/fetch` + `@x402/evm` (exact) + the same viem account',
    source: `import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
globalThis.payingFetch = wrapFetchWithPayment(
  fetch,
  new x402Client().register('eip155:*', new ExactEvmScheme(privateKeyToAccount('${KEY}'))),
);`,
    peer: true,
  },
  {
    id: 'mppx',
    label: '`mppx` client (`Mppx.create` + `stripe.charge`)',
    source: `import { Mppx, stripe } from 'mppx/client';
globalThis.mppx = Mppx.create({
  polyfill: false,
  methods: [stripe.charge({ createToken: async () => 'spt_x' })],
});`,
    peer: true,
  },
  {
    id: 'alby',
    label: "Alby's `fetch402` (`@getalby/lightning-tools`)",
    source: `import { fetch402 } from '@getalby/lightning-tools';
globalThis.fetch402 = fetch402;`,
    peer: true,
  },
];

/** Leaves every dynamic import() out of the bundle, and records it. */
function lazyImports(seen) {
  return {
    name: 'lazy-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind !== 'dynamic-import') return undefined;
        seen.add(args.path);
        return { path: args.path, external: true };
      });
    },
  };
}

/** Bundles one entry; sizes in bytes and the largest packages in it. */
export async function measure(source, resolveDir) {
  const lazy = new Set();
  const result = await build({
    stdin: { contents: source, resolveDir, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [lazyImports(lazy)],
  });
  const code = result.outputFiles[0].contents;
  const byPackage = {};
  /** Stipend's own bytes per package folder (`client/policy`, `client/protocols/x402`…). */
  const byFolder = {};
  for (const [file, { bytesInOutput }] of Object.entries(
    Object.values(result.metafile.outputs)[0].inputs,
  )) {
    if (file === '<stdin>') continue;
    const own = /packages\/([^/]+)\/dist\/(.+)$/.exec(file);
    const pkg = own
      ? `@stipend/${own[1]}`
      : (/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ??
        file);
    byPackage[pkg] = (byPackage[pkg] ?? 0) + bytesInOutput;
    if (own) {
      const parts = own[2].replace(/\.js$/, '').split('/');
      const folder = `${own[1]}/${parts.slice(0, parts[0] === 'protocols' ? 2 : 1).join('/')}`;
      byFolder[folder] = (byFolder[folder] ?? 0) + bytesInOutput;
    }
  }
  const sorted = (map) =>
    Object.entries(map)
      .filter(([, bytes]) => bytes > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, bytes]) => ({ name, bytes }));
  return {
    minified: code.length,
    messages: messageBytes(result.outputFiles[0].text),
    gzip: gzipSync(code, { level: 9 }).length,
    packages: sorted(byPackage),
    folders: sorted(byFolder),
    lazy: [...lazy].sort(),
  };
}

/**
 * How much of a minified bundle is message text: string and template literal parts longer than
 * 24 characters (error messages and hints; short ones are mostly keys and codes), and the
 * gzipped size with them emptied, i.e. what the code alone weighs.
 */
function messageBytes(code) {
  const file = ts.createSourceFile(
    'bundle.js',
    code,
    ts.ScriptTarget.ES2022,
    true,
    ts.ScriptKind.JS,
  );
  const spans = [];
  const visit = (node) => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const start = node.getStart(file);
      if (node.getEnd() - start > 24) spans.push([start, node.getEnd()]);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  spans.sort((a, b) => a[0] - b[0]);
  let stripped = '';
  let at = 0;
  let bytes = 0;
  for (const [start, end] of spans) {
    bytes += end - start;
    // Keep the delimiters (a quote, a backtick, `}` before and `${` after) so the code keeps
    // its shape.
    const text = code.slice(start, end);
    const tail = text.endsWith('${') ? 2 : 1;
    stripped += code.slice(at, start) + text.slice(0, 1) + text.slice(-tail);
    at = end;
  }
  stripped += code.slice(at);
  return { minified: bytes, gzipWithout: gzipSync(stripped, { level: 9 }).length };
}

const here = fileURLToPath(new URL('.', import.meta.url));
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = [];
  for (const bundle of BUNDLES) {
    rows.push({ ...bundle, ...(await measure(bundle.source, here)) });
  }
  const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;
  console.log('\n## Browser bundle sizes (esbuild, ESM, minified, es2022; gzip -9)\n');
  console.log('| bundle | minified | gzipped | goal | largest parts (minified) |');
  console.log('|---|---:|---:|---|---|');
  for (const row of rows) {
    const goal = row.goal
      ? `${row.goal.text}: ${row.gzip <= row.goal.gzip ? 'met' : 'not met'}`
      : 'peer';
    const parts = row.packages
      .slice(0, 4)
      .map((p) => `${p.name} ${kB(p.bytes)}`)
      .join(', ');
    console.log(`| ${row.label} | ${kB(row.minified)} | ${kB(row.gzip)} | ${goal} | ${parts} |`);
  }
  emit({
    bench: 'size',
    bundles: rows.map(({ source: _source, ...row }) => row),
  });
}
