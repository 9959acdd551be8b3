/**
 * `stipend console` (in-process on the sources): the URL with its token is the first line on
 * stdout, the page answers with the token and refuses without it, a non-loopback address needs
 * --allow-remote, and SIGTERM stops it (the port is closed afterwards).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleCommand } from '../../packages/cli/src/commands/console.js';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';

async function firstLine(io: ReturnType<typeof memoryIo>): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const out = io.out();
    if (out.includes('\n')) return out.slice(0, out.indexOf('\n'));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no URL printed; stderr: ${io.err()}`);
}

describe('stipend console', () => {
  it('prints the URL with its token first, serves the page with it, refuses without it, stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-console-'));
    const io = memoryIo();
    const running = main(['console', '--dir', dir], io);
    const url = await firstLine(io);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{20,}\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const origin = new URL(url).origin;
    const refused = await fetch(`${origin}/api/state`);
    expect(refused.status).toBe(403);
    await refused.text();
    expect(io.err()).toMatch(/budget: .*budget\.jsonl/);

    process.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    expect(io.err()).toMatch(/stipend console: stopped/);
    await expect(fetch(url)).rejects.toThrow();
  });

  it('--port and --policy are passed through; the policy file is checked first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-console-'));
    const io = memoryIo();
    let stop!: () => void;
    const until = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const bad = join(dir, 'nope.json');
    await expect(consoleCommand(['--dir', dir, '--policy', bad], io, { until })).rejects.toThrow(
      /Cannot read the policy file/,
    );
    const running = consoleCommand(['--dir', dir, '--port', '0'], io, { until });
    expect(await firstLine(io)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    stop();
    expect(await running).toBe(0);
  });

  it('refuses a non-loopback address without --allow-remote, naming the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-console-'));
    const io = memoryIo();
    expect(await main(['console', '--dir', dir, '--host', '0.0.0.0'], io)).toBe(2);
    expect(io.err()).toMatch(/--allow-remote/);
    expect(io.out()).toBe('');
  });

  it('says where to point it when no store is named', async () => {
    const io = memoryIo();
    expect(await main(['console'], io)).toBe(2);
    expect(io.err()).toMatch(/--dir <folder>/);
  });
});
