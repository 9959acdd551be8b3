/**
 * The Redis purchase journal, shared by every process on every machine using the same Redis
 * and prefix.
 *
 * `open` and `transition` are compare-and-set Lua scripts: the rule of which purchases may
 * open stays in one place (`openConflict` of `@stipend/client`, applied here to the key's
 * purchases as read), and the script writes only if nothing changed since that read — the
 * key's version for `open`, the record's revision for `transition` — else the caller reads
 * again and decides again. So of N concurrent opens of one exclusive key exactly one
 * succeeds, and of N concurrent transitions from one state exactly one wins, across machines.
 *
 * Data model (`P` = prefix): `P r:<id>` hash — `j` the record (JSON, `codec.ts`), `v` its
 * revision; `P k:<key>` list — the key's purchase ids in open order; `P kv:<key>` — the key's
 * version, bumped by every open and transition of its purchases; `P ids` list — every id in
 * open order. Nothing expires: settled purchases are the proof that an idempotency key was
 * paid.
 *
 * @module
 */
import {
  openConflict,
  type PurchasePatch,
  type PurchaseRecord,
  type PurchaseState,
} from '@stipend/client';
import { parseJson, stringifyJson } from '../codec.js';
import { storeCorrupt, storeUnavailable } from '../errors.js';
import type { PersistedPurchaseJournal } from '../journal/purchases.js';
import {
  checkPurchaseRecord,
  checkState,
  moved,
  patchOf,
  purchaseExists,
} from '../purchases/state.js';
import { connectRedis, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisPurchaseJournal}. */
export interface RedisPurchaseJournalOptions extends RedisConnectionOptions {
  /** Prefix of the journal's keys (default `stipend:purchases:`). */
  readonly prefix?: string;
}

/** A purchase journal in Redis. */
export interface RedisPurchaseJournal extends PersistedPurchaseJournal {
  readonly prefix: string;
}

/** ARGV: prefix, key. Returns the key's version, then its records (JSON) in open order. */
const READ_KEY = `
local P, key = ARGV[1], ARGV[2]
local out = { redis.call('GET', P .. 'kv:' .. key) or '0' }
for _, id in ipairs(redis.call('LRANGE', P .. 'k:' .. key, 0, -1)) do
  local j = redis.call('HGET', P .. 'r:' .. id, 'j')
  if j then out[#out + 1] = j end
end
return out
`;

/** ARGV: prefix, key, version read, id, record JSON. Returns 'ok' | 'stale' | 'exists'. */
const OPEN = `
local P, key, version, id, json = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if (redis.call('GET', P .. 'kv:' .. key) or '0') ~= version then return 'stale' end
local r = P .. 'r:' .. id
if redis.call('EXISTS', r) == 1 then return 'exists' end
redis.call('HSET', r, 'j', json, 'v', '1')
redis.call('RPUSH', P .. 'k:' .. key, id)
redis.call('INCR', P .. 'kv:' .. key)
redis.call('RPUSH', P .. 'ids', id)
return 'ok'
`;

/** ARGV: prefix, id, revision read, key, new record JSON. Returns 'ok' | 'stale'. */
const TRANSITION = `
local P, id, revision, key, json = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local r = P .. 'r:' .. id
if redis.call('HGET', r, 'v') ~= revision then return 'stale' end
redis.call('HSET', r, 'j', json, 'v', string.format('%d', tonumber(revision) + 1))
redis.call('INCR', P .. 'kv:' .. key)
return 'ok'
`;

/** ARGV: prefix. Returns every record (JSON) in open order. */
const LIST = `
local P = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('LRANGE', P .. 'ids', 0, -1)) do
  local j = redis.call('HGET', P .. 'r:' .. id, 'j')
  if j then out[#out + 1] = j end
end
return out
`;

/** Returned by a compare-and-set attempt that lost the race: read again and decide again. */
const STALE: unique symbol = Symbol('stale');

/** Lost compare-and-sets in a row before giving up (each loss means someone else moved). */
const MAX_RACES = 50;

/**
 * Creates a purchase journal in Redis, for `createPayingFetch({ journal })`: idempotency keys
 * and unsettled purchases hold across every process that shares the Redis and prefix.
 *
 * @param options - `client` or `url`, `prefix`, `durability` (as for the budget store: the
 * server must keep what it confirmed).
 * @returns The journal; call `close()` when done.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createRedisBudgetStore, createRedisPurchaseJournal } from '@stipend/stores/redis';
 *
 * const url = 'redis://127.0.0.1:6379';
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   budget: createRedisBudgetStore({ url }),
 *   journal: createRedisPurchaseJournal({ url }),
 * });
 * ```
 */
export function createRedisPurchaseJournal(
  options: RedisPurchaseJournalOptions,
): RedisPurchaseJournal {
  const prefix = options.prefix ?? 'stipend:purchases:';
  if (typeof prefix !== 'string') {
    throw storeUnavailable('Invalid prefix.', 'Pass a string prefix.');
  }
  const describe = `the Redis purchase journal "${prefix}"`;
  const redis = connectRedis(options, describe);

  function decode(json: unknown): PurchaseRecord {
    try {
      return Object.freeze(parseJson(String(json)) as PurchaseRecord);
    } catch (error) {
      throw storeCorrupt(
        `Unreadable purchase in Redis under "${prefix}".`,
        'Keys under this prefix were written by something else; use another prefix.',
        error,
      );
    }
  }

  async function readKey(key: string): Promise<{ version: string; records: PurchaseRecord[] }> {
    const [version, ...records] = (await redis.script(READ_KEY, [prefix, key])) as string[];
    return { version: String(version), records: records.map(decode) };
  }

  async function race<T>(attempt: () => Promise<T | typeof STALE>): Promise<T> {
    for (let lost = 0; lost < MAX_RACES; lost++) {
      const result = await attempt();
      if (result !== STALE) return result;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** lost, 50)));
    }
    throw storeUnavailable(
      `Lost ${MAX_RACES} races in a row writing to ${describe}.`,
      'Other writers keep moving the same purchase; retry later.',
    );
  }

  return {
    prefix,
    close: () => redis.close(),

    async open(input) {
      const record = checkPurchaseRecord(input);
      const json = stringifyJson(record);
      return race(async () => {
        const { version, records } = await readKey(record.key);
        const blocking = openConflict(records, record.exclusive);
        if (blocking) return { ok: false as const, blocking };
        const reply = await redis.script(OPEN, [prefix, record.key, version, record.id, json]);
        if (reply === 'exists') throw purchaseExists(record.id);
        if (reply === 'stale') return STALE;
        return { ok: true as const };
      });
    },

    async transition(
      id: string,
      from: readonly PurchaseState[],
      to: PurchaseState,
      patch?: PurchasePatch,
      now = Date.now(),
    ) {
      checkState(to, 'to');
      const changes = patchOf(patch);
      return race(async () => {
        const [json, revision] = (await redis.send(['HMGET', `${prefix}r:${id}`, 'j', 'v'])) as (
          | string
          | null
        )[];
        if (!json || !revision) return undefined;
        const record = decode(json);
        if (!from.includes(record.state)) return undefined;
        const next = moved(record, to, changes, now);
        const reply = await redis.script(TRANSITION, [
          prefix,
          String(id),
          revision,
          record.key,
          stringifyJson(next),
        ]);
        return reply === 'ok' ? next : STALE;
      });
    },

    async get(id) {
      const json = await redis.send(['HGET', `${prefix}r:${id}`, 'j']);
      return json ? decode(json) : undefined;
    },

    async byKey(key) {
      return (await readKey(key)).records;
    },

    async list(filter) {
      const states = filter?.states;
      const records = ((await redis.script(LIST, [prefix])) as string[]).map(decode);
      return states ? records.filter((record) => states.includes(record.state)) : records;
    },
  };
}
