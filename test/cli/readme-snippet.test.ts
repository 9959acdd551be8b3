/**
 * The README's library snippet, as written: extracted from README.md, type-checked under
 * `strict` against the packages' built types (what an installed user compiles against), then
 * run with Node against the testkit's x402 seller (the official @x402/hono middleware on a
 * local anvil chain) with the variables `stipend testkit serve` prints. Relies on the build
 * `pnpm test` makes first.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DEV_ACCOUNTS, type LocalChain, startChain } from '@stipend/testkit/chain';
import { startX402Server, type X402ServerHandle } from '@stipend/testkit/x402';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DIR = join(ROOT, 'test/.tmp/readme-snippet');

/** The ```ts block that follows "A paying fetch in a few lines" in README.md. */
function snippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf('A paying fetch in a few lines');
  expect(from).toBeGreaterThan(-1);
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(from));
  expect(match).not.toBeNull();
  return match![1]!;
}

let chain: LocalChain;
let seller: X402ServerHandle;

beforeAll(async () => {
  mkdirSync(DIR, { recursive: true });
  chain = await startChain();
  seller = await startX402Server({ chain });
});
afterAll(async () => {
  await seller?.close();
  await chain?.stop();
});

describe('the README snippet', () => {
  it('type-checks under strict TypeScript against the built packages', () => {
    writeFileSync(join(DIR, 'snippet.ts'), snippet());
    writeFileSync(
      join(DIR, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../../tsconfig.base.json',
        compilerOptions: {
          strict: true,
          noEmit: true,
          types: ['node'],
          customConditions: [], // the published `types`, not the workspace sources
        },
        files: ['snippet.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    let output = '';
    try {
      execFileSync(tsc, ['-p', join(DIR, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    }
    expect(output).toBe('');
  });

  it('pays the testkit x402 seller as written, with the variables testkit serve prints', async () => {
    const payer = DEV_ACCOUNTS[5]!;
    await chain.mint(payer.address, 1_000_000n);
    const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
    writeFileSync(join(DIR, 'snippet.ts'), snippet());
    execFileSync(
      esbuild,
      [join(DIR, 'snippet.ts'), `--outfile=${join(DIR, 'snippet.mjs')}`, '--format=esm'],
      {
        stdio: 'pipe',
      },
    );
    const token = chain.token;
    const assets = [
      {
        network: token.network,
        address: token.address,
        symbol: 'USDC',
        decimals: token.decimals,
        name: token.name,
        version: token.version,
        peg: 'USD',
      },
    ];
    const before = seller.settlements.length;
    // Asynchronously: the seller runs in this process and must keep answering.
    const { stdout: out } = await promisify(execFile)(
      process.execPath,
      [join(DIR, 'snippet.mjs'), `${seller.url}/weather`],
      {
        cwd: DIR,
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          STIPEND_EVM_PRIVATE_KEY: payer.privateKey,
          STIPEND_ASSETS: JSON.stringify(assets),
        },
      },
    );
    expect(out).toMatch(/^200 \{"report":\{"city":"Testville"/);
    expect(out).toMatch(/status: 'committed'/);
    expect(out).toMatch(/protocol: 'x402'/);
    expect(seller.settlements.length).toBe(before + 1);
  });
});
