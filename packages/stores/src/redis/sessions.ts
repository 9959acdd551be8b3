/**
 * The Redis MPP session store, shared by every process on every machine using the same Redis
 * and prefix.
 *
 * `put` is one Lua script, so both of its rules hold atomically across machines: the
 * compare-and-set on the record's version (of N concurrent writes from one version exactly
 * one wins) and at most one live session per scope (of N concurrent opens of one scope
 * exactly one wins). Which states are live is the client's `LIVE_SESSION_STATES`, decided in
 * TypeScript and passed to the script as a flag.
 *
 * Data model (`P` = prefix): `P s:<id>` hash — `j` the record (JSON, `codec.ts`), `v` its
 * version, `sc` its scope, `b` its origin/realm/method key; `P live:<scope>` — the id of the
 * scope's live session; `P ids` list — every id in creation order; `P by:<b>` list — the ids
 * of one origin, realm and method in creation order. Nothing expires: a closed session is the
 * record of what its deposit bought.
 *
 * Records hold their secret (the bearer credential a session needs after a restart): protect
 * the Redis like the budget (ACLs, TLS). Secrets never appear in its errors.
 *
 * @module
 */
import type { SessionPutConflict, SessionRecord } from '@stipend/client';
import { storeUnavailable } from '../errors.js';
import type { PersistedSessionStore } from '../journal/sessions.js';
import {
  isLiveSession,
  matchesSessionFilter,
  sessionFromStore,
  sessionToStore,
} from '../sessions/record.js';
import { connectRedis, type RedisConnectionOptions } from './connection.js';

/** Options of {@link redisSessionStore}. */
export interface RedisSessionStoreOptions extends RedisConnectionOptions {
  /** Prefix of the store's keys (default `stipend:sessions:`). */
  readonly prefix?: string;
}

/** A session store in Redis. */
export interface RedisSessionStore extends PersistedSessionStore {
  readonly prefix: string;
}

/**
 * ARGV: prefix, id, expected version, scope, live ('1' | '0'), record JSON, by-key.
 * Returns `{'ok'}`, `{'version', <stored JSON or ''>}` or `{'scope', <live JSON or ''>}`.
 */
const PUT = `
local P, id, expected, scope, live, json, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local r = P .. 's:' .. id
local stored = redis.call('HMGET', r, 'v', 'sc', 'b')
local v, oldScope, oldBy = stored[1], stored[2], stored[3]
if (v or '0') ~= expected then return { 'version', redis.call('HGET', r, 'j') or '' } end
if live == '1' then
  local holder = redis.call('GET', P .. 'live:' .. scope)
  if holder and holder ~= id then
    return { 'scope', redis.call('HGET', P .. 's:' .. holder, 'j') or '' }
  end
end
if oldScope and redis.call('GET', P .. 'live:' .. oldScope) == id then
  redis.call('DEL', P .. 'live:' .. oldScope)
end
if live == '1' then redis.call('SET', P .. 'live:' .. scope, id) end
redis.call('HSET', r, 'j', json, 'v', string.format('%d', tonumber(expected) + 1), 'sc', scope, 'b', by)
if not v then redis.call('RPUSH', P .. 'ids', id) end
if oldBy ~= by then
  if oldBy then redis.call('LREM', P .. 'by:' .. oldBy, 0, id) end
  redis.call('RPUSH', P .. 'by:' .. by, id)
end
return { 'ok' }
`;

/** ARGV: prefix, list key (`ids` or `by:<b>`). Returns the records (JSON) in creation order. */
const LIST = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('LRANGE', P .. ARGV[2], 0, -1)) do
  local j = redis.call('HGET', P .. 's:' .. id, 'j')
  if j then out[#out + 1] = j end
end
return out
`;

/**
 * Creates an MPP session store in Redis, for `createPayingFetch({ sessions: { store } })`: an
 * open session survives a restart and is shared by every process that shares the Redis and
 * prefix (the processes that share a budget), and never two of them open a session for one
 * scope.
 *
 * @param options - `client` or `url`, `prefix` (default `stipend:sessions:`), `durability`
 * (as for the budget store: the server must keep what it confirmed, or a restart forgets a
 * paid deposit).
 * @returns The store; call `close()` when done.
 * @throws {StipendError} `STORE_CORRUPT` (from its methods) when a key under the prefix holds
 * a session it cannot read; `STORE_UNAVAILABLE` when Redis cannot be reached;
 * `STORE_NOT_DURABLE` as the budget store.
 *
 * @example
 * ```ts
 * import { createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * import { createRedisBudgetStore, redisSessionStore } from '@stipend/stores/redis';
 *
 * const url = 'redis://127.0.0.1:6379';
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   budget: createRedisBudgetStore({ url }),
 *   sessions: { methods: [lightningSessionMethod()], store: redisSessionStore({ url }) },
 * });
 * ```
 */
export function redisSessionStore(options: RedisSessionStoreOptions): RedisSessionStore {
  const prefix = options?.prefix ?? 'stipend:sessions:';
  if (typeof prefix !== 'string') {
    throw storeUnavailable('Invalid prefix.', "Pass a string prefix such as 'stipend:sessions:'.");
  }
  const describe = `the Redis session store "${prefix}"`;
  const redis = connectRedis(options, describe);
  const decode = (json: unknown) => sessionFromStore(String(json), describe);
  const byKey = (origin: string, realm: string, method: string) =>
    JSON.stringify([origin, realm, method]);

  async function records(list: string): Promise<SessionRecord[]> {
    return ((await redis.script(LIST, [prefix, list])) as unknown[]).map(decode);
  }

  return {
    prefix,
    close: () => redis.close(),

    async put(input, expectedVersion) {
      const { record, json } = sessionToStore(input, expectedVersion);
      const reply = (await redis.script(PUT, [
        prefix,
        record.id,
        String(expectedVersion),
        record.scope,
        isLiveSession(record) ? '1' : '0',
        JSON.stringify(json),
        byKey(record.origin, record.realm, record.method),
      ])) as unknown[];
      const [verdict, current] = Array.isArray(reply) ? reply : [];
      if (verdict === 'ok') return { ok: true, record };
      if (verdict === 'version' || verdict === 'scope') {
        return {
          ok: false,
          current: current ? decode(current) : undefined,
        } satisfies SessionPutConflict;
      }
      throw storeUnavailable(
        `Unexpected answer from ${describe}.`,
        'Check that the Redis server runs Lua scripts (EVALSHA) and is not a proxy that rewrites them.',
      );
    },

    async get(id) {
      const json = await redis.send(['HGET', `${prefix}s:${id}`, 'j']);
      return json ? decode(json) : undefined;
    },

    async list(filter) {
      return (await records('ids')).filter((record) => matchesSessionFilter(record, filter));
    },

    async byScope(origin, realm, method) {
      return (await records(`by:${byKey(origin, realm, method)}`)).filter(
        (record) => record.origin === origin && record.realm === realm && record.method === method,
      );
    },
  };
}
