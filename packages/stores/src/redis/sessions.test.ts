/** The Redis session store against a real redis-server: conformance, corrupt keys, processes. */
import { isStipendError } from '@stipend/client';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeSessionStoreConformance,
  sessionRecord,
} from '../../../client/src/session/store.conformance.test-helpers.js';
import { stringifyJson } from '../codec.js';
import { describeSessionStoreProcesses } from '../sessions/processes.test-helpers.js';
import { type RedisServer, startRedisServer } from './server.test-helpers.js';
import { type RedisSessionStore, redisSessionStore } from './sessions.js';

let server: RedisServer;
let n = 0;
const opened: RedisSessionStore[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  await server?.stop();
});
function open(prefix = `sessions${n++}:`): RedisSessionStore {
  const store = redisSessionStore({ url: server.url, prefix });
  opened.push(store);
  return store;
}

describeSessionStoreConformance('redis', () => open(), {
  reopen: (store) => open((store as RedisSessionStore).prefix),
});
describeSessionStoreProcesses('redis', () => ['redis', server.url, `processes${n++}:`]);

const SECRET = 'f'.repeat(64);

function everything(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e), JSON.stringify(e), (e as Error).stack ?? '');
  }
  return parts.join('\n');
}

/** Writes a session's stored JSON by hand, as something else sharing the Redis could. */
async function overwrite(prefix: string, id: string, text: string): Promise<void> {
  const client = createClient({ url: server.url });
  await client.connect();
  try {
    await client.sendCommand(['HSET', `${prefix}s:${id}`, 'j', text]);
  } finally {
    await client.close();
  }
}

describe('Redis session store: stored data it cannot trust', () => {
  it('a malformed stored session is STORE_CORRUPT, not a crash, and its secret stays out of the error', async () => {
    const store = open();
    await store.put(sessionRecord('ses_ok'), 0);
    const bad = JSON.parse(stringifyJson({ ...sessionRecord('ses_ok'), version: 1 }));
    bad.spentAtomic = { $b: 'lots' };
    bad.secret = { bearer: SECRET };
    await overwrite(store.prefix, 'ses_ok', JSON.stringify(bad));
    for (const call of [() => store.get('ses_ok'), () => store.list()]) {
      const error = await call().catch((e: unknown) => e);
      expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
      expect(everything(error)).not.toContain(SECRET);
    }
    await overwrite(store.prefix, 'ses_ok', `{"id":"ses_ok","secret":"${SECRET}"`);
    const error = await store.get('ses_ok').catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
    expect(everything(error)).not.toContain(SECRET);
  });

  it('a conflict names the record in the way, read back with its bigints exact', async () => {
    const store = open();
    const big = 2n ** 130n + 7n;
    await store.put(sessionRecord('ses_a', { depositAtomic: big }), 0);
    const refused = await store.put(sessionRecord('ses_b'), 0);
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.current?.depositAtomic).toBe(big);
  });

  it('a session that moves to another scope frees the old one and takes the new one atomically', async () => {
    const store = open();
    const created = await store.put(sessionRecord('ses_m'), 0);
    if (!created.ok) throw new Error('create failed');
    const moved = sessionRecord('ses_m', { walletId: 'wallet-2' });
    expect((await store.put({ ...moved, scope: moved.scope }, 1)).ok).toBe(true);
    expect((await store.put(sessionRecord('ses_n'), 0)).ok).toBe(true);
    expect((await store.put(sessionRecord('ses_o', { walletId: 'wallet-2' }), 0)).ok).toBe(false);
  });
});
