import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAnvilBinary, startAnvil } from './anvil.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !isAlive(pid);
}

async function chainIdOf(rpcUrl: string): Promise<string> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  });
  const body = (await response.json()) as { result: string };
  return body.result;
}

describe('resolveAnvilBinary', () => {
  it('finds an executable anvil inside the @foundry-rs platform package', () => {
    const binary = resolveAnvilBinary();
    expect(binary).toMatch(/@foundry-rs[/\\]anvil-[a-z0-9]+-[a-z0-9]+[/\\]bin[/\\]anvil(\.exe)?$/);
    expect(() => accessSync(binary, constants.X_OK)).not.toThrow();
  });
});

describe('startAnvil', () => {
  it('starts on a free 127.0.0.1 port with the requested chain id and stops cleanly', async () => {
    const anvil = await startAnvil({ chainId: 1337 });
    try {
      expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`);
      expect(anvil.port).toBeGreaterThan(0);
      expect(anvil.chainId).toBe(1337);
      expect(await chainIdOf(anvil.rpcUrl)).toBe('0x539');
      expect(isAlive(anvil.pid)).toBe(true);
    } finally {
      await anvil.stop();
    }
    expect(await waitUntilDead(anvil.pid)).toBe(true);
    await expect(chainIdOf(anvil.rpcUrl)).rejects.toThrow();
    await anvil.stop(); // idempotent
  });

  it('runs two nodes side by side on different ports', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 84532 })]);
    try {
      expect(a.port).not.toBe(b.port);
      expect(await chainIdOf(a.rpcUrl)).toBe('0x7a69');
      expect(await chainIdOf(b.rpcUrl)).toBe('0x14a34');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('mines on an interval with blockTime (no transactions needed)', async () => {
    const anvil = await startAnvil({ blockTime: 1 });
    try {
      const blockNumber = async () => {
        const response = await fetch(anvil.rpcUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
        });
        return Number.parseInt(((await response.json()) as { result: string }).result, 16);
      };
      const first = await blockNumber();
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      expect(await blockNumber()).toBeGreaterThan(first);
    } finally {
      await anvil.stop();
    }
  });

  it('reports a useful error when anvil cannot start', async () => {
    const first = await startAnvil();
    try {
      await expect(startAnvil({ port: first.port, startupTimeoutMs: 10_000 })).rejects.toThrow(
        /anvil exited during startup|did not answer/,
      );
    } finally {
      await first.stop();
    }
  });
});

describe('anvil dies with the process that started it', () => {
  let dir: string;
  let script: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // Bundle anvil.ts (node built-ins only) so a plain `node` child can start anvil.
    dir = mkdtempSync(join(tmpdir(), 'stipend-anvil-'));
    const here = dirname(fileURLToPath(import.meta.url));
    await build({
      entryPoints: [join(here, 'anvil.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: join(dir, 'anvil.mjs'),
      logLevel: 'silent',
    });
    // The bundle resolves @foundry-rs/anvil from its own location: point it at the binary.
    script = join(dir, 'child.mjs');
    writeFileSync(
      script,
      [
        "import { startAnvil } from './anvil.mjs';",
        'const anvil = await startAnvil();',
        'process.stdout.write(JSON.stringify({ pid: anvil.pid, rpcUrl: anvil.rpcUrl }) + "\\n");',
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
  });

  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function startChild(): Promise<{ child: ChildProcess; pid: number }> {
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, STIPEND_ANVIL_BIN: resolveAnvilBinary() },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const newline = buffer.indexOf('\n');
        if (newline >= 0) resolve(buffer.slice(0, newline));
      });
      child.once('exit', (code) => reject(new Error(`child exited early with code ${code}`)));
    });
    const { pid } = JSON.parse(line) as { pid: number };
    return { child, pid };
  }

  it('is killed when its parent is SIGKILLed (no handler can run)', async () => {
    const { child, pid } = await startChild();
    expect(isAlive(pid)).toBe(true);
    child.kill('SIGKILL');
    expect(await waitUntilDead(pid)).toBe(true);
  });

  it('is killed when its parent gets SIGTERM, and the parent still exits', async () => {
    const { child, pid } = await startChild();
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await waitUntilDead(pid)).toBe(true);
  });
});
