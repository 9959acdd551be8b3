import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowList, TargetBlockedError } from './address-guard.js';
import { blockedTargetOf, createGuardedAgent, guardedFetch, guardedLookup } from './dispatcher.js';

type Resolver = Parameters<typeof guardedLookup>[1];

/** A resolver answering from a table (no DNS traffic). */
function table(entries: Record<string, { address: string; family: number }[]>): Resolver {
  return ((hostname: string, _options: unknown, callback: (...args: unknown[]) => void) => {
    const found = entries[hostname];
    if (!found) callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    else callback(null, found);
  }) as unknown as Resolver;
}

function lookupOnce(
  lookup: ReturnType<typeof guardedLookup>,
  hostname: string,
  all: boolean,
): Promise<{ error: unknown; address: unknown; family?: number }> {
  return new Promise((resolve) => {
    lookup(hostname, { all }, (error, address, family) =>
      resolve({ error, address, ...(family !== undefined ? { family } : {}) }),
    );
  });
}

describe('guardedLookup', () => {
  const resolver = table({
    'mixed.test': [
      { address: '10.0.0.7', family: 4 },
      { address: '93.184.216.34', family: 4 },
      { address: '::1', family: 6 },
    ],
    'inside.test': [
      { address: '192.168.0.10', family: 4 },
      { address: 'fd00::10', family: 6 },
    ],
  });

  it('keeps only public addresses of a name', async () => {
    const lookup = guardedLookup(parseAllowList([]), resolver);
    expect(await lookupOnce(lookup, 'mixed.test', true)).toEqual({
      error: null,
      address: [{ address: '93.184.216.34', family: 4 }],
    });
    expect(await lookupOnce(lookup, 'mixed.test', false)).toEqual({
      error: null,
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('fails with TargetBlockedError when no public address is left', async () => {
    const lookup = guardedLookup(parseAllowList([]), resolver);
    const { error } = await lookupOnce(lookup, 'inside.test', true);
    expect(error).toBeInstanceOf(TargetBlockedError);
    expect((error as TargetBlockedError).addresses).toEqual([
      { address: '192.168.0.10', range: 'private' },
      { address: 'fd00::10', range: 'unique local (private)' },
    ]);
  });

  it('lets allow-listed names and addresses through', async () => {
    const byName = guardedLookup(parseAllowList(['inside.test']), resolver);
    expect((await lookupOnce(byName, 'inside.test', true)).address).toHaveLength(2);
    const byAddress = guardedLookup(parseAllowList(['fd00::/8']), resolver);
    expect(await lookupOnce(byAddress, 'inside.test', true)).toEqual({
      error: null,
      address: [{ address: 'fd00::10', family: 6 }],
    });
  });

  it('passes resolver errors on', async () => {
    const lookup = guardedLookup(parseAllowList([]), resolver);
    const { error } = await lookupOnce(lookup, 'missing.test', true);
    expect((error as { code?: string }).code).toBe('ENOTFOUND');
  });
});

describe('createGuardedAgent (real connections to 127.0.0.1)', () => {
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      if (request.url === '/redirect') {
        response.writeHead(302, { location: 'http://10.255.255.1/inside' }).end();
      } else response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function attempt(allow: string[], url: string) {
    const agent = createGuardedAgent({ allow: parseAllowList(allow) });
    try {
      const response = await guardedFetch(agent)(url);
      return { status: response.status, body: await response.text() };
    } catch (error) {
      return { blocked: blockedTargetOf(error) };
    } finally {
      await agent.close();
    }
  }

  it('refuses loopback by default, by IP and by DNS name, before any byte is sent', async () => {
    const before = hits.length;
    const byIp = await attempt([], `http://127.0.0.1:${port}/`);
    expect(byIp.blocked?.addresses).toEqual([{ address: '127.0.0.1', range: 'loopback' }]);
    const byName = await attempt([], `http://localhost:${port}/`);
    expect(byName.blocked?.hostname).toBe('localhost');
    expect(byName.blocked?.addresses.map((a) => a.range)).toContain('loopback');
    expect(hits).toHaveLength(before);
  });

  it('connects to an allow-listed address, under its IP or a name resolving to it', async () => {
    expect(await attempt(['127.0.0.1'], `http://127.0.0.1:${port}/`)).toEqual({
      status: 200,
      body: 'ok',
    });
    expect(await attempt(['127.0.0.1'], `http://localhost:${port}/`)).toEqual({
      status: 200,
      body: 'ok',
    });
  });

  it('an allow-listed name does not open its IP literal', async () => {
    expect((await attempt(['localhost'], `http://localhost:${port}/`)).status).toBe(200);
    expect((await attempt(['localhost'], `http://127.0.0.1:${port}/`)).blocked).toBeInstanceOf(
      TargetBlockedError,
    );
  });

  it('checks every redirect hop', async () => {
    const result = await attempt(['127.0.0.1'], `http://127.0.0.1:${port}/redirect`);
    expect(result.blocked?.addresses).toEqual([{ address: '10.255.255.1', range: 'private' }]);
    expect(hits.at(-1)).toBe('/redirect');
  });
});
