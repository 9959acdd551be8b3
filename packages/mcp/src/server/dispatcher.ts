/**
 * An undici dispatcher that refuses non-public targets at connect time, after DNS resolution:
 * a host name is resolved through a guarded `lookup` that drops every address outside public
 * ranges (unless allow-listed) and fails when none is left; an IP literal is checked before
 * connecting; and the connected socket's remote address is checked once more. Redirects go
 * through the same dispatcher, so every hop is checked.
 *
 * @module
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { type AllowList, nonPublicRange, TargetBlockedError } from './address-guard.js';

/** Node's `lookup` option of `net.connect`. */
type LookupFunction = (
  hostname: string,
  options: { all?: boolean; family?: number | string; hints?: number },
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | LookupAddress[],
    family?: number,
  ) => void,
) => void;

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions {
  /** Hosts and addresses allowed although not public. */
  readonly allow: AllowList;
  /** Connect timeout in ms. Default 10 000. */
  readonly connectTimeoutMs?: number;
  /** The DNS lookup to guard (tests). Default `node:dns` `lookup`. */
  readonly lookup?: typeof dnsLookup;
}

function blockedOf(addresses: readonly string[], allow: AllowList) {
  const blocked: { address: string; range: string }[] = [];
  const permitted: string[] = [];
  for (const address of addresses) {
    const range = nonPublicRange(address);
    if (range === undefined || allow.allowsAddress(address)) permitted.push(address);
    else blocked.push({ address, range });
  }
  return { blocked, permitted };
}

/**
 * A `lookup` for `net.connect` that resolves every address and keeps only those a model may
 * reach; it fails with a {@link TargetBlockedError} when none is left.
 *
 * @example
 * ```ts
 * import { guardedLookup, parseAllowList } from '@stipend/mcp/server';
 * const lookup = guardedLookup(parseAllowList([]));
 * lookup('localhost', { all: true }, (error) => console.warn(error?.code)); // 'TARGET_BLOCKED'
 * ```
 */
export function guardedLookup(allow: AllowList, resolve: typeof dnsLookup = dnsLookup) {
  const lookup: LookupFunction = (hostname, options, callback) => {
    const query: LookupAllOptions = {
      ...(options.family !== undefined ? { family: options.family as number } : {}),
      ...(options.hints !== undefined ? { hints: options.hints } : {}),
      all: true,
    };
    resolve(hostname, query, (error, addresses) => {
      if (error) {
        callback(error, options.all ? [] : '');
        return;
      }
      const named = allow.allowsName(hostname);
      const { blocked, permitted } = blockedOf(
        addresses.map((item) => item.address),
        allow,
      );
      const kept = named ? addresses : addresses.filter((item) => permitted.includes(item.address));
      if (kept.length === 0) {
        callback(new TargetBlockedError(hostname, blocked), options.all ? [] : '');
        return;
      }
      if (options.all) callback(null, kept);
      else callback(null, kept[0]!.address, kept[0]!.family);
    });
  };
  return lookup;
}

/**
 * Creates the guarded undici `Agent`.
 *
 * @example
 * ```ts
 * import { createGuardedAgent, parseAllowList } from '@stipend/mcp/server';
 * import { fetch } from 'undici';
 *
 * const dispatcher = createGuardedAgent({ allow: parseAllowList(['127.0.0.1']) });
 * await fetch('http://127.0.0.1:8080/', { dispatcher }); // allowed
 * await fetch('http://10.0.0.1/', { dispatcher }); // TypeError: fetch failed (cause: TargetBlockedError)
 * ```
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { allow } = options;
  const connect = buildConnector({
    timeout: options.connectTimeoutMs ?? 10_000,
    lookup: guardedLookup(allow, options.lookup),
  } as buildConnector.BuildOptions);
  return new Agent({
    connect(opts, callback) {
      const host =
        opts.hostname.startsWith('[') && opts.hostname.endsWith(']')
          ? opts.hostname.slice(1, -1)
          : opts.hostname;
      if (isIP(host) !== 0 && !allow.allowsName(host)) {
        const { blocked } = blockedOf([host], allow);
        if (blocked.length > 0) {
          callback(new TargetBlockedError(host, blocked), null);
          return;
        }
      }
      connect(opts, (error, socket) => {
        if (error || !socket) {
          callback(error ?? new Error('connection failed'), null);
          return;
        }
        // Defence in depth: whatever resolved the name, the peer must be allowed.
        const remote = (socket as Socket).remoteAddress;
        if (remote !== undefined && !allow.allowsName(host)) {
          const { blocked } = blockedOf([remote], allow);
          if (blocked.length > 0) {
            socket.destroy();
            callback(new TargetBlockedError(host, blocked), null);
            return;
          }
        }
        callback(null, socket);
      });
    },
  });
}

/**
 * A `fetch` (undici's) that sends every request through `dispatcher`.
 *
 * @example
 * ```ts
 * import { createGuardedAgent, guardedFetch, parseAllowList } from '@stipend/mcp/server';
 * const fetchPublic = guardedFetch(createGuardedAgent({ allow: parseAllowList([]) }));
 * ```
 */
export function guardedFetch(dispatcher: Agent): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], {
      ...(init as Parameters<typeof undiciFetch>[1]),
      dispatcher,
    })) as unknown as typeof fetch;
}

/**
 * Finds the {@link TargetBlockedError} behind a failed fetch (`TypeError: fetch failed` → cause).
 *
 * @example
 * ```ts
 * import { blockedTargetOf } from '@stipend/mcp/server';
 * try { await fetchPublic('http://localhost/'); } catch (e) { blockedTargetOf(e)?.hostname; } // 'localhost'
 * ```
 */
export function blockedTargetOf(error: unknown): TargetBlockedError | undefined {
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (current instanceof TargetBlockedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
