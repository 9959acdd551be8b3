/**
 * The Redis spend ledger: append-only operations in a Redis list (`<prefix>ops`), with the
 * set of record ids (`<prefix>ids`) checked by the same Lua script that appends, so two
 * machines can never both append one id. `list()` folds the operations into records.
 *
 * @module
 */
import type { SpendRecord } from '@stipend/client';
import { StipendError } from '@stipend/client';
import { storeCorrupt } from '../errors.js';
import type { PersistedLedger } from '../journal/ledger.js';
import {
  applyLedgerOp,
  decodeLedgerOp,
  emptyLedger,
  encodeLedgerOp,
  type LedgerOp,
} from '../ledger/state.js';
import { connectRedis, type RedisConnectionOptions } from './connection.js';

/** Options of {@link createRedisLedger}. */
export interface RedisLedgerOptions extends RedisConnectionOptions {
  /** Prefix of the ledger's keys (default `stipend:ledger:`). */
  readonly prefix?: string;
}

/** A spend ledger in Redis. */
export interface RedisLedger extends PersistedLedger {
  readonly prefix: string;
}

/** ARGV: prefix, id, operation JSON, mode ('a' append | 'u' update). */
const WRITE = `
local P, id, op, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if mode == 'a' then
  if redis.call('SADD', P .. 'ids', id) == 0 then return 'exists' end
elseif redis.call('SISMEMBER', P .. 'ids', id) == 0 then
  return 'missing'
end
redis.call('RPUSH', P .. 'ops', op)
return 'ok'
`;

/**
 * Creates a spend ledger in Redis, shared by every process using the same Redis and prefix.
 *
 * @param options - `client` or `url`, and `prefix`.
 * @returns The ledger.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createRedisLedger, exportLedgerJsonl } from '@stipend/stores/redis';
 *
 * const ledger = createRedisLedger({ url: 'redis://127.0.0.1:6379' });
 * const payingFetch = createPayingFetch({ wallets: [], ledger });
 * const jsonl = exportLedgerJsonl(await ledger.list());
 * ```
 */
export function createRedisLedger(options: RedisLedgerOptions): RedisLedger {
  const prefix = options.prefix ?? 'stipend:ledger:';
  const redis = connectRedis(options, `the Redis ledger "${prefix}"`);

  async function write(op: LedgerOp): Promise<void> {
    const id = op.t === 'a' ? op.record?.id : op.id;
    // Validates the operation the same way every ledger does.
    if (op.t === 'a') applyLedgerOp(emptyLedger(), op);
    const reply = await redis.script(WRITE, [
      prefix,
      String(id),
      JSON.stringify(encodeLedgerOp(op)),
      op.t,
    ]);
    if (reply === 'exists') {
      throw new StipendError('LEDGER_CONFLICT', `Spend record "${id}" already exists.`, {
        metaMessages: ['Append a record once, then update it by id.'],
        details: { id },
      });
    }
    if (reply === 'missing') {
      throw new StipendError('LEDGER_NOT_FOUND', `No spend record "${id}" to update.`, {
        metaMessages: ['Append the record before updating it.'],
        details: { id: String(id) },
      });
    }
  }

  return {
    prefix,
    append: (record: SpendRecord) => write({ t: 'a', record }),
    update: (id: string, patch: Partial<SpendRecord>) => write({ t: 'u', id, patch }),
    async list() {
      const lines = (await redis.send(['LRANGE', `${prefix}ops`, '0', '-1'])) as string[];
      const state = emptyLedger();
      for (const line of lines) {
        try {
          applyLedgerOp(state, decodeLedgerOp(JSON.parse(line)));
        } catch (error) {
          throw storeCorrupt(
            `Cannot replay a ledger entry under "${prefix}".`,
            'Keys under this prefix were written by something else; use another prefix.',
            error,
          );
        }
      }
      return state.records.slice();
    },
    close: () => redis.close(),
  };
}
