/**
 * The Redis budget store: one atomic Lua script per reservation checks and writes every
 * window of every limit, so any number of processes on any number of machines can share one
 * budget through one Redis. See `scripts.ts` for the data model.
 *
 * @module
 */
import {
  type BudgetLimit,
  type BudgetStore,
  type BudgetUsage,
  type BudgetWindow,
  type Reservation,
  type ReserveRequest,
  StipendError,
  windowStart,
} from '@stipend/client';
import { parseJson, stringifyJson } from '../codec.js';
import { budgetInvalid, storeCorrupt } from '../errors.js';
import { copyLimit, validateCommitAmount, validateReserveRequest } from '../validate.js';
import { connectRedis, type RedisConnectionOptions } from './connection.js';
import { EXPIRED, RESERVE, SETTLE, USAGE } from './scripts.js';

/** Options of {@link createRedisBudgetStore}. */
export interface RedisBudgetStoreOptions extends RedisConnectionOptions {
  /** Prefix of every key (default `stipend:budget:`). Stores with different prefixes are independent. */
  readonly prefix?: string;
  /**
   * How long (ms) settled reservations and past calendar periods are kept (default 35 days):
   * replaying a reserve with a settled id within this time returns it instead of reserving
   * again, and `usage` stays exact for moments up to this far back.
   */
  readonly retainMs?: number;
  /**
   * Whose clock decides the time a spend counts at, and so its rolling window and its
   * calendar day, week and month:
   * - `'redis'` (default): the Redis server's own clock (`TIME` inside the reservation
   *   script). Every process of a fleet counts spend in the same periods whatever its own
   *   clock says, so a process whose clock runs hours ahead cannot open tomorrow's budget
   *   at midnight. `request.now` is then only checked, and `Reservation.at` is the
   *   server's time.
   * - `'caller'`: each reservation's `now`. For tests and simulations that drive time
   *   themselves, or deployments whose hosts keep one clock (NTP-synchronised); a skewed
   *   host then counts spend in its own periods.
   *
   * Either way, trimming never goes past min(server time, `now`), so a clock running ahead
   * cannot erase other processes' history. `usage(limit, now)` and `expired(now)` answer
   * for the `now` they are given.
   */
  readonly clock?: 'redis' | 'caller';
}

/** A budget store in Redis. */
export interface RedisBudgetStore extends BudgetStore {
  readonly prefix: string;
  /** Closes the Redis client if the store created it from `url`. */
  close(): Promise<void>;
}

const DAY = 86_400_000;
const DEFAULT_RETAIN_MS = 35 * DAY;

/** The stored, immutable part of a reservation. */
interface Stored {
  readonly id: string;
  readonly limits: readonly BudgetLimit[];
  /** Older entries only: the time is the hash's `a` field. */
  readonly at?: number;
  readonly exp: number;
  readonly meta?: Readonly<Record<string, string>>;
}

/**
 * Creates a budget store in Redis, shared by every process that uses the same Redis and
 * prefix. Same semantics as the in-memory store of `@stipend/client`: all-or-nothing
 * reservations across every limit (one Lua script), idempotent ids, commit at most the
 * reserved amount, rolling / calendar / total windows, count limits, `expired`.
 *
 * Redis must keep what it confirmed: before its first command the store checks that the
 * server has `appendonly yes` (with `appendfsync everysec` or `always`) and
 * `maxmemory-policy noeviction`, and refuses with `STORE_NOT_DURABLE` otherwise (see
 * `durability`). A spend counts at the Redis server's time by default (see `clock`).
 *
 * @param options - `client` (a connected node-redis client) or `url`; `prefix`; `retainMs`;
 * `clock`; `durability`.
 * @returns The store.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createRedisBudgetStore } from '@stipend/stores/redis';
 *
 * // Redis with appendonly yes and maxmemory-policy noeviction.
 * const budget = createRedisBudgetStore({ url: 'redis://127.0.0.1:6379', prefix: 'agents:' });
 * const payingFetch = createPayingFetch({ wallets: [], budget });
 * // …
 * await budget.close();
 * ```
 */
export function createRedisBudgetStore(options: RedisBudgetStoreOptions): RedisBudgetStore {
  const prefix = options.prefix ?? 'stipend:budget:';
  const retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
  if (typeof prefix !== 'string') throw budgetInvalid('Invalid prefix.', 'Pass a string prefix.');
  if (!Number.isSafeInteger(retainMs) || retainMs < 1) {
    throw budgetInvalid(
      `Invalid retainMs ${String(retainMs)}.`,
      'Use a positive whole number of ms.',
    );
  }
  const clock = options.clock ?? 'redis';
  if (clock !== 'redis' && clock !== 'caller') {
    throw budgetInvalid(`Invalid clock ${String(clock)}.`, "Pass clock: 'redis' or 'caller'.");
  }
  const redis = connectRedis(options, `the Redis budget "${prefix}"`);

  function reservation(
    json: string,
    usd: string,
    state: string,
    committed?: string,
    at?: string,
  ): Reservation {
    let stored: Stored;
    try {
      stored = parseJson(json) as Stored;
    } catch (error) {
      throw storeCorrupt(
        `Unreadable reservation in Redis under "${prefix}".`,
        'Keys under this prefix were written by something else; use another prefix.',
        error,
      );
    }
    const status = state === 'c' ? 'committed' : state === 'x' ? 'released' : 'held';
    return Object.freeze({
      id: stored.id,
      limits: Object.freeze(stored.limits.map(copyLimit)),
      usdMicros: BigInt(usd),
      // The time it counts at is the `a` field (the Redis clock's, by default); older
      // entries also kept it in the JSON.
      at: at ? Number(at) : stored.at!,
      expiresAt: stored.exp,
      state: status,
      ...(status === 'committed' ? { committedUsdMicros: BigInt(committed ?? '0') } : {}),
      ...(stored.meta ? { meta: Object.freeze({ ...stored.meta }) } : {}),
    });
  }

  async function settle(id: string, action: 'c' | 'x', actual?: bigint): Promise<Reservation> {
    const verb = action === 'c' ? 'commit' : 'release';
    const reply = (await redis.script(SETTLE, [
      prefix,
      String(id),
      actual?.toString() ?? '',
      action,
      String(retainMs),
    ])) as string[];
    switch (reply[0]) {
      case 'notfound':
        throw new StipendError('BUDGET_NOT_FOUND', `Cannot ${verb} unknown reservation "${id}".`, {
          metaMessages: ['Reserve it first; settled reservations are forgotten after retainMs.'],
          details: { id: String(id) },
        });
      case 'committed': {
        const full = reservation(reply[1]!, reply[3]!, 'c', reply[2], reply[4]);
        if (action === 'c' && full.committedUsdMicros === actual) return full;
        if (action === 'c') {
          throw new StipendError(
            'BUDGET_CONFLICT',
            `Reservation "${id}" is already committed at ${full.committedUsdMicros} µUSD, not ${actual}.`,
            {
              metaMessages: [
                'A reservation is committed once; replay the same amount or leave it.',
              ],
              details: { id, committedUsdMicros: full.committedUsdMicros, actualUsdMicros: actual },
            },
          );
        }
        throw new StipendError(
          'BUDGET_CONFLICT',
          `Reservation "${id}" is committed; it cannot be released.`,
          {
            metaMessages: ['A committed payment was made; refunds are not releases.'],
            details: { id, state: 'committed' },
          },
        );
      }
      case 'released': {
        if (action === 'x') return reservation(reply[1]!, reply[2]!, 'x', undefined, reply[3]);
        throw new StipendError(
          'BUDGET_CONFLICT',
          `Reservation "${id}" was released; it cannot be committed.`,
          {
            metaMessages: ['Reserve again with a new id before paying.'],
            details: { id, state: 'released' },
          },
        );
      }
      case 'over':
        throw new StipendError(
          'BUDGET_INVALID',
          `Cannot commit ${actual} µUSD on reservation "${id}": only ${reply[2]} µUSD was reserved.`,
          {
            metaMessages: [
              'A payment cannot cost more than was approved; reserve the worst-case cost.',
            ],
            details: { id, usdMicros: BigInt(reply[2]!), actualUsdMicros: actual },
          },
        );
      case 'ok':
        return reservation(reply[1]!, reply[2]!, action, actual?.toString(), reply[3]);
      default:
        throw unexpected(reply);
    }
  }

  async function get(id: string): Promise<Reservation | undefined> {
    if (typeof id !== 'string') return undefined;
    const [json, usd, state, committed, at] = (await redis.send([
      'HMGET',
      `${prefix}r:${id}`,
      'j',
      'u',
      's',
      'c',
      'a',
    ])) as (string | null)[];
    if (!json || !usd || !state) return undefined;
    return reservation(json, usd, state, committed ?? undefined, at ?? undefined);
  }

  return {
    prefix,
    close: () => redis.close(),

    async reserve(request) {
      validateReserveRequest(request);
      const limits = request.limits.map(copyLimit);
      const scopes = [...new Set(limits.map((limit) => limit.scope))];
      const rolls = scopes.map((scope) =>
        Math.max(0, ...limits.filter((l) => l.scope === scope).map(rollingMs)),
      );
      const args = [
        prefix,
        request.id,
        request.usdMicros.toString(),
        clock === 'caller' ? score(request.now) : '',
        score(request.expiresAt),
        stringifyJson({
          id: request.id,
          limits,
          exp: request.expiresAt,
          meta: request.meta ? { ...request.meta } : undefined,
        }),
        String(retainMs),
        scopes.map((scope) => encodeURIComponent(scope)).join('\n'),
        rolls.join(','),
        String(limits.length),
      ];
      for (const limit of limits) {
        args.push(
          encodeURIComponent(limit.scope),
          kindOf(limit.window),
          limit.maxUsdMicros?.toString() ?? '',
          limit.maxCount?.toString() ?? '',
        );
      }
      const reply = (await redis.script(RESERVE, args)) as string[];
      if (reply[0] === 'ok') {
        return {
          ok: true,
          reservation: Object.freeze({
            id: request.id,
            limits: Object.freeze(limits),
            usdMicros: request.usdMicros,
            at: Number(reply[1]),
            expiresAt: request.expiresAt,
            state: 'held' as const,
            ...(request.meta ? { meta: Object.freeze({ ...request.meta }) } : {}),
          }),
        };
      }
      if (reply[0] === 'refused') {
        const limit = limits[Number(reply[1]) - 1];
        if (!limit) throw unexpected(reply);
        return {
          ok: false,
          limit,
          exceeded: reply[2] === 'count' ? 'count' : 'usd',
          remaining: BigInt(reply[3]!),
        };
      }
      if (reply[0] === 'exists') {
        const existing = reservation(
          reply[1]!,
          reply[4]!,
          reply[2]!,
          reply[3] || undefined,
          reply[5] ?? undefined,
        );
        return { ok: true, reservation: sameReservation(existing, request, scopes) };
      }
      throw unexpected(reply);
    },

    async commit(id, actualUsdMicros) {
      validateCommitAmount(id, actualUsdMicros);
      return settle(id, 'c', actualUsdMicros);
    },

    async release(id) {
      return settle(id, 'x');
    },

    async usage(limit, now): Promise<BudgetUsage> {
      if (typeof limit?.scope !== 'string') {
        throw budgetInvalid(
          `Invalid budget scope ${String(limit?.scope)}.`,
          'Pass a limit with a string scope.',
        );
      }
      const start = windowStart(limit.window, now);
      const [held, committed, count] = (await redis.script(USAGE, [
        prefix,
        encodeURIComponent(limit.scope),
        kindOf(limit.window),
        score(start),
      ])) as string[];
      return {
        committedUsdMicros: BigInt(committed!),
        heldUsdMicros: BigInt(held!),
        count: Number(count),
      };
    },

    get,

    async expired(now) {
      if (typeof now !== 'number' || Number.isNaN(now)) {
        throw budgetInvalid(
          `Invalid time ${String(now)}.`,
          'Pass ms since epoch, e.g. Date.now().',
        );
      }
      const flat = (await redis.script(EXPIRED, [prefix, score(now)])) as string[];
      const due: { reservation: Reservation; seq: number }[] = [];
      for (let i = 0; i + 3 < flat.length; i += 4) {
        due.push({
          reservation: reservation(
            flat[i]!,
            flat[i + 1]!,
            'h',
            undefined,
            flat[i + 3] || undefined,
          ),
          seq: Number(flat[i + 2]),
        });
      }
      due.sort((a, b) => a.reservation.expiresAt - b.reservation.expiresAt || a.seq - b.seq);
      return due.map((entry) => entry.reservation);
    },
  };
}

/** Checks an idempotent replay against the stored reservation. */
function sameReservation(
  existing: Reservation,
  request: ReserveRequest,
  scopes: readonly string[],
): Reservation {
  if (existing.state === 'released') {
    throw new StipendError('BUDGET_CONFLICT', `Reservation "${existing.id}" was released.`, {
      metaMessages: ['Use a new reservation id for each payment attempt.'],
      details: { id: existing.id, state: existing.state },
    });
  }
  const stored = [...new Set(existing.limits.map((limit) => limit.scope))];
  const sameScopes = scopes.length === stored.length && scopes.every((s) => stored.includes(s));
  if (existing.usdMicros !== request.usdMicros || !sameScopes) {
    throw new StipendError(
      'BUDGET_CONFLICT',
      `Reservation "${existing.id}" already exists with a different amount or scopes.`,
      {
        metaMessages: [
          `It holds ${existing.usdMicros} µUSD in ${stored.join(', ') || 'no scope'}; ` +
            `the new request asks ${request.usdMicros} µUSD in ${scopes.join(', ') || 'no scope'}.`,
          'Replay the same request, or use a new reservation id.',
        ],
        details: {
          id: existing.id,
          usdMicros: existing.usdMicros,
          requestedUsdMicros: request.usdMicros,
        },
      },
    );
  }
  return existing;
}

function kindOf(window: BudgetWindow): string {
  if (window.kind === 'rolling') return `rolling:${window.ms}`;
  return window.kind === 'calendar' ? window.unit : window.kind;
}

function rollingMs(limit: BudgetLimit): number {
  return limit.window.kind === 'rolling' ? limit.window.ms : 0;
}

/** A time as a Redis score. */
function score(time: number): string {
  if (time === Number.POSITIVE_INFINITY) return '+inf';
  if (time === Number.NEGATIVE_INFINITY) return '-inf';
  return String(time);
}

function unexpected(reply: unknown): StipendError {
  return storeCorrupt(
    `Unexpected reply from the Redis budget script: ${JSON.stringify(reply)}.`,
    'Another program may use the same key prefix; pick a prefix of your own.',
  );
}
