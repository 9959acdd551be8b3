/**
 * How the Redis stores talk to Redis: any client with node-redis's `sendCommand(args)`
 * (the stores never depend on a client's typed command methods), or one they create from a
 * URL with node-redis and close themselves. Scripts go by `EVALSHA`, loaded on `NOSCRIPT`.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { isStipendError } from '@stipend/client';
import { createClient } from 'redis';
import { storeUnavailable } from '../errors.js';

/** The one method the stores need from a Redis client (node-redis v4+ has it). */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Where a Redis store connects: an existing client, or a URL. */
export interface RedisConnectionOptions {
  /** A connected client (e.g. node-redis `createClient()` after `connect()`); not closed by the store. */
  readonly client?: RedisCommandClient;
  /** `redis://host:port/db`: the store creates a node-redis client, connects on first use, closes it on `close()`. */
  readonly url?: string;
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

  /** Runs a command; anything but a StipendError becomes STORE_UNAVAILABLE. */
  async function send(args: readonly string[]): Promise<unknown> {
    try {
      return await (await client()).sendCommand([...args]);
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

function unavailable(describe: string, cause: unknown) {
  return storeUnavailable(
    `Redis failed for ${describe}: ${String((cause as Error)?.message ?? cause)}`,
    'Check that Redis is reachable; retrying with the same id is safe (a reservation that did go through is returned, not made twice).',
    cause,
  );
}
