/**
 * How the Redis stores talk to Redis: any client with node-redis's `sendCommand(args)`
 * (the stores never depend on a client's typed command methods), or one they create from a
 * URL with node-redis and close themselves. Scripts go by `EVALSHA`, loaded on `NOSCRIPT`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isStipendError, StipendError } from '@stipend/client';
import { createClient } from 'redis';
import { storeUnavailable } from '../errors.js';

/** The one method the stores need from a Redis client (node-redis v4+ has it). */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * What a Redis store does when the server could lose spend (see {@link checkDurability}):
 * `'require'` (default) refuses with `STORE_NOT_DURABLE`; `'warn'` checks, warns once and
 * goes on; `'ignore'` does not check.
 */
export type RedisDurability = 'require' | 'warn' | 'ignore';

/** Where a Redis store connects: an existing client, or a URL. */
export interface RedisConnectionOptions {
  /** A connected client (e.g. node-redis `createClient()` after `connect()`); not closed by the store. */
  readonly client?: RedisCommandClient;
  /** `redis://host:port/db`: the store creates a node-redis client, connects on first use, closes it on `close()`. */
  readonly url?: string;
  /**
   * Before its first command, the store reads the server's `appendonly`, `appendfsync`,
   * `save` and `maxmemory-policy` (`CONFIG GET`) and, by default (`'require'`), refuses to
   * work with a server that a restart or memory pressure would make forget spend: it needs
   * `appendonly yes` with `appendfsync everysec` or `always`, and `maxmemory-policy
   * noeviction`. Where `CONFIG` is disabled (managed Redis), it cannot check: confirm those
   * settings with your provider and pass `'warn'` (warns once) or `'ignore'`.
   */
  readonly durability?: RedisDurability;
}

/** A connection; see {@link connectRedis}. */
export interface RedisConnection {
  /** Runs one command. */
  send(args: readonly string[]): Promise<unknown>;
  /** Runs a Lua script (no KEYS) with these arguments. */
  script(source: string, args: readonly string[]): Promise<unknown>;
  /** Closes the client if the store created it. */
  close(): Promise<void>;
}

/**
 * Wraps a client or a URL into a connection.
 *
 * @example
 * ```ts
 * import { connectRedis } from './connection.js';
 * const redis = connectRedis({ url: 'redis://127.0.0.1:6379' }, 'the budget');
 * await redis.send(['PING']);
 * ```
 */
export function connectRedis(options: RedisConnectionOptions, describe: string): RedisConnection {
  if (!options?.client && typeof options?.url !== 'string') {
    throw storeUnavailable(
      `No Redis given for ${describe}.`,
      "Pass { client } (a connected node-redis client) or { url: 'redis://…' }.",
    );
  }
  const durability = options.durability ?? 'require';
  if (!['require', 'warn', 'ignore'].includes(durability)) {
    throw storeUnavailable(
      `Invalid durability ${JSON.stringify(durability)} for ${describe}.`,
      "Pass durability: 'require' (default), 'warn' or 'ignore'.",
    );
  }
  const owned = options.client
    ? undefined
    : createClient({
        url: options.url!,
        socket: {
          connectTimeout: 5_000,
          // A few quick retries, then fail the pending calls (STORE_UNAVAILABLE) instead of
          // queueing payments forever; the next call connects afresh.
          reconnectStrategy: (retries: number, cause: Error) =>
            retries >= 3 ? cause : 50 * (retries + 1),
        },
      });
  // Without a listener an 'error' event would crash the process; failures surface per command.
  owned?.on('error', () => undefined);
  let connecting: Promise<unknown> | undefined;
  let checked: Promise<void> | undefined = durability === 'ignore' ? Promise.resolve() : undefined;
  let closed = false;
  const shas = new Map<string, string>();

  async function client(): Promise<RedisCommandClient> {
    if (closed)
      throw storeUnavailable(`The Redis store ${describe} is closed.`, 'Create a new one.');
    if (options.client) return options.client;
    if (connecting && !owned!.isOpen) connecting = undefined;
    connecting ??= owned!.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    await connecting;
    return owned as unknown as RedisCommandClient;
  }

  /** Checks the server once (again after a failed check: the operator may fix it). */
  function durable(redis: RedisCommandClient): Promise<void> {
    checked ??= checkDurability(redis, describe).then((problem) => {
      if (!problem) return;
      if (durability === 'require') throw problem;
      console.warn(`[stipend] ${problem.message}`);
    });
    return checked.catch((error: unknown) => {
      checked = undefined;
      throw error;
    });
  }

  /** Runs a command; anything but a StipendError becomes STORE_UNAVAILABLE. */
  async function send(args: readonly string[]): Promise<unknown> {
    try {
      const redis = await client();
      await durable(redis);
      return await redis.sendCommand([...args]);
    } catch (error) {
      throw isStipendError(error) ? error : unavailable(describe, error);
    }
  }

  return {
    send,
    async script(source, args) {
      let sha = shas.get(source);
      if (!sha) {
        sha = createHash('sha1').update(source).digest('hex');
        shas.set(source, sha);
      }
      try {
        return await send(['EVALSHA', sha, '0', ...args]);
      } catch (error) {
        const cause = isStipendError(error) ? error.cause : error;
        if (!String((cause as Error)?.message).startsWith('NOSCRIPT')) throw error;
        return send(['EVAL', source, '0', ...args]);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      if (owned && connecting) {
        await connecting.catch(() => undefined);
        if (owned.isOpen) await owned.close();
      }
    },
  };
}

/** The settings {@link checkDurability} reads. */
const SETTINGS = ['appendonly', 'appendfsync', 'save', 'maxmemory-policy'] as const;

/**
 * Reads the server's persistence and eviction settings and says what would lose spend: no
 * AOF (`appendonly no`: a restart forgets everything since the last RDB snapshot, or
 * everything when `save` is empty), `appendfsync no` (the OS decides when to write), or an
 * eviction policy other than `noeviction` (an evicted key under-counts a budget).
 *
 * @returns `undefined` when durable, else a `STORE_NOT_DURABLE` error saying what to set
 * (also when `CONFIG` is refused, as managed Redis services do).
 * @throws {StipendError} `STORE_UNAVAILABLE` when Redis cannot be reached.
 *
 * @example
 * ```ts
 * import { checkDurability } from './connection.js';
 * const problem = await checkDurability(client, 'the Redis budget "agents:"');
 * if (problem) throw problem;
 * ```
 */
export async function checkDurability(
  redis: RedisCommandClient,
  describe: string,
): Promise<StipendError | undefined> {
  const config: Record<string, string> = {};
  for (const name of SETTINGS) {
    let reply: unknown;
    try {
      reply = await redis.sendCommand(['CONFIG', 'GET', name]);
    } catch (error) {
      const message = String((error as Error)?.message ?? error);
      if (!/^(ERR|NOPERM)\b/.test(message)) throw unavailable(describe, error);
      return notDurable(
        `Redis refused CONFIG GET for ${describe} (${message.split('\n')[0]}), so Stipend cannot check that a restart keeps the spend.`,
        [
          'Managed Redis services often disable CONFIG. Confirm with your provider that AOF persistence is on (appendonly yes, appendfsync everysec or always) and that maxmemory-policy is noeviction,',
          "then pass durability: 'warn' (warns once) or 'ignore' to the Redis store.",
        ],
        { config: 'unavailable' },
        error,
      );
    }
    config[name] = configValue(reply, name);
  }
  const problems: string[] = [];
  if (config.appendonly !== 'yes') {
    problems.push(
      config.save
        ? `appendonly is "${config.appendonly}": a restart forgets every reservation since the last RDB snapshot (save "${config.save}")`
        : `appendonly is "${config.appendonly}" and save is "": a restart forgets all spend`,
    );
  } else if (config.appendfsync === 'no') {
    problems.push('appendfsync is "no": the OS decides when spend reaches the disk');
  }
  if (config['maxmemory-policy'] !== 'noeviction') {
    problems.push(
      `maxmemory-policy is "${config['maxmemory-policy']}": under memory pressure Redis evicts keys and a budget under-counts`,
    );
  }
  if (problems.length === 0) return undefined;
  return notDurable(
    `Redis for ${describe} could lose spend: ${problems.join('; ')}.`,
    [
      'Set in redis.conf (or with CONFIG SET and CONFIG REWRITE): appendonly yes, appendfsync everysec, maxmemory-policy noeviction.',
      "To run anyway, pass durability: 'warn' (warns once) or 'ignore' to the Redis store.",
    ],
    {
      appendonly: config.appendonly,
      appendfsync: config.appendfsync,
      save: config.save,
      maxmemoryPolicy: config['maxmemory-policy'],
    },
  );
}

/** A value from a CONFIG GET reply: RESP2 `[name, value]` or a RESP3 map. */
function configValue(reply: unknown, name: string): string {
  if (Array.isArray(reply)) {
    const at = reply.findIndex((item, index) => index % 2 === 0 && String(item) === name);
    return at >= 0 ? String(reply[at + 1] ?? '') : '';
  }
  if (reply instanceof Map) return String(reply.get(name) ?? '');
  if (reply && typeof reply === 'object') {
    return String((reply as Record<string, unknown>)[name] ?? '');
  }
  return '';
}

function notDurable(
  message: string,
  fix: readonly string[],
  details: Record<string, unknown>,
  cause?: unknown,
): StipendError {
  return new StipendError('STORE_NOT_DURABLE', message, { metaMessages: fix, details, cause });
}

function unavailable(describe: string, cause: unknown) {
  return storeUnavailable(
    `Redis failed for ${describe}: ${String((cause as Error)?.message ?? cause)}`,
    'Check that Redis is reachable; retrying with the same id is safe (a reservation that did go through is returned, not made twice).',
    cause,
  );
}
