/**
 * `stipend mcp` (the BUILT binary) speaks MCP over stdio: newline-delimited JSON-RPC, as an
 * MCP host sends it. Its `fetch` tool pays a 402 of the marketplace within the policy, with the
 * command's wallets, and records it in the command's ledger; loopback targets are refused
 * unless allowed.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Marketplace, startMarketplace } from '@stipend/testkit/market';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  BIN,
  childEnv,
  finished,
  ROOT,
  tempHome,
  walletsFile,
} from './cli.test-helpers.js';

let market: Marketplace;

beforeAll(async () => {
  assertBuilt();
  market = await startMarketplace();
});
afterAll(async () => {
  await market?.close();
});

/** A tiny MCP host: sends requests, waits for the response with the same id. */
function host(child: ChildProcessWithoutNullStreams) {
  let buffered = '';
  let nextId = 1;
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) {
        const message = JSON.parse(line) as Record<string, unknown>;
        if (typeof message.id === 'number') waiting.get(message.id)?.(message);
      }
      newline = buffered.indexOf('\n');
    }
  });
  const send = (message: Record<string, unknown>) =>
    child.stdin.write(`${JSON.stringify(message)}\n`);
  return {
    request(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      return new Promise<Record<string, unknown>>((resolve) => {
        waiting.set(id, resolve);
        send({ jsonrpc: '2.0', id, method, params });
      });
    },
    notify(method: string) {
      send({ jsonrpc: '2.0', method });
    },
  };
}

async function serve(args: readonly string[], home: string) {
  const child = spawn(process.execPath, [BIN, 'mcp', ...args], {
    cwd: ROOT,
    env: childEnv({ STIPEND_HOME: home }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const mcp = host(child);
  const init = await mcp.request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'stipend-cli-test', version: '0' },
  });
  mcp.notify('notifications/initialized');
  return { child, mcp, init };
}

describe('stipend mcp', () => {
  it('serves the fetch tool over stdio, paying a 402 with the configured wallets into the ledger', async () => {
    const home = tempHome();
    const wallets = walletsFile(market, home);
    const { child, mcp, init } = await serve(
      ['--wallets', wallets, '--allow-host', '127.0.0.1'],
      home,
    );
    const exited = finished(child, 30_000);
    expect(init).toMatchObject({ result: { serverInfo: { name: 'stipend' } } });
    const tools = (await mcp.request('tools/list')) as { result: { tools: { name: string }[] } };
    expect(tools.result.tools.map((tool) => tool.name).sort()).toEqual(['budget_status', 'fetch']);

    const before = await market.counters();
    const called = (await mcp.request('tools/call', {
      name: 'fetch',
      arguments: { url: `${market.urls.x402}/weather` },
    })) as { result: { isError?: boolean; content: { type: string; text: string }[] } };
    expect(called.result.isError ?? false).toBe(false);
    expect(JSON.stringify(called.result.content)).toContain('sunny');
    const after = await market.counters();
    expect(after.x402Settlements - before.x402Settlements).toBe(1);
    expect(before.agentTokenBalance - after.agentTokenBalance).toBe(1000n);

    child.stdin.end(); // the host goes away
    const run = await exited;
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^stipend mcp: serving MCP on stdio — policy default/);
    const ledger = readFileSync(join(home, 'ledger.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(ledger.at(-1)).toMatchObject({ status: 'committed', protocol: 'x402', tags: ['mcp'] });
  });

  it('refuses loopback targets unless allowed, paying nothing', async () => {
    const home = tempHome();
    const { child, mcp } = await serve(['--wallets', walletsFile(market, home)], home);
    const exited = finished(child, 30_000);
    const before = await market.counters();
    const called = (await mcp.request('tools/call', {
      name: 'fetch',
      arguments: { url: `${market.urls.x402}/weather` },
    })) as { result: { isError?: boolean; content: { text: string }[] } };
    expect(called.result.isError).toBe(true);
    expect(called.result.content[0]?.text).toMatch(/loopback|not public|allow/i);
    expect(await market.counters()).toEqual(before);
    child.stdin.end();
    expect((await exited).code).toBe(0);
  });
});
