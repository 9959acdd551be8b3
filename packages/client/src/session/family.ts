/**
 * The state one paying fetch family (a paying fetch and its children) shares for sessions:
 * the store, the methods, the locks, the idle timers and the in-process index of open
 * sessions. Made once per family and found again through the family's shared state.
 *
 * @module
 */
import type { Core } from '../fetch/core.js';
import { createKeyedLock, type KeyedLock } from '../purchase/lock.js';
import { createMemorySessionStore } from './memory.js';
import type { SessionMethod, SessionRecord, SessionStore, SessionsConfig } from './types.js';

/** Default idle close: 5 minutes (the spec's recommended server idle timeout). */
export const DEFAULT_IDLE_CLOSE_MS = 5 * 60_000;

/** The session state of one paying fetch family. */
export interface SessionFamily {
  readonly store: SessionStore;
  readonly methods: ReadonlyMap<string, SessionMethod>;
  /** Per scope: open, top-up and close are serialised. */
  readonly scopes: KeyedLock;
  /** Per session: counting a use (read-modify-write of `spentAtomic`) is serialised. */
  readonly counters: KeyedLock;
  /** Open sessions by origin (this process): the ones attached to requests. */
  readonly active: Map<string, Set<string>>;
  /** The idle timer of each open session. */
  readonly timers: Map<string, ReturnType<typeof setTimeout>>;
  /** The core each session was opened with (wallets, budget, ledger, send). */
  readonly cores: Map<string, Core>;
  readonly idleCloseMs: number;
  readonly topUp: boolean;
  readonly refundWaitMs: number;
  /** Set once `closeAll()` ran: no new idle timers. */
  stopped: boolean;
}

const families = new WeakMap<object, SessionFamily>();

/**
 * The family's session state, made on first use from `config` (children find their parent's).
 *
 * @example
 * ```ts
 * import { sessionFamily } from './family.js';
 * const family = sessionFamily(core.shared, config.sessions);
 * ```
 */
export function sessionFamily(shared: object, config: SessionsConfig): SessionFamily {
  let family = families.get(shared);
  if (family) return family;
  const methods = new Map<string, SessionMethod>();
  for (const method of config.methods) {
    if (!method || typeof method.method !== 'string' || typeof method.offers !== 'function') {
      throw new TypeError(
        'createPayingFetch({ sessions: { methods } }): each method must be a session method such as lightningSessionMethod()',
      );
    }
    methods.set(method.method, method);
  }
  const idle = config.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS;
  if (!Number.isFinite(idle) || idle < 0) {
    throw new TypeError(
      'createPayingFetch({ sessions: { idleCloseMs } }) must be a number of milliseconds ≥ 0 (0 turns idle closing off)',
    );
  }
  family = {
    store: config.store ?? createMemorySessionStore(),
    methods,
    scopes: createKeyedLock(),
    counters: createKeyedLock(),
    active: new Map(),
    timers: new Map(),
    cores: new Map(),
    idleCloseMs: idle,
    topUp: config.topUp ?? true,
    refundWaitMs: config.refundWaitMs ?? 10_000,
    stopped: false,
  };
  families.set(shared, family);
  return family;
}

/** Adds or removes a session from the in-process index of open sessions. */
export function indexSession(
  family: SessionFamily,
  origin: string,
  id: string,
  open: boolean,
): void {
  let ids = family.active.get(origin);
  if (open) {
    if (!ids) {
      ids = new Set();
      family.active.set(origin, ids);
    }
    ids.add(id);
  } else if (ids) {
    ids.delete(id);
    if (ids.size === 0) family.active.delete(origin);
  }
}

/**
 * The idle close delay of a session: the configured one, shortened to 90 % of the server's
 * stated idle timeout.
 *
 * @example
 * ```ts
 * import { idleMsOf } from './family.js';
 * const idleCloseAt = now + idleMsOf(family, session);
 * ```
 */
export function idleMsOf(family: SessionFamily, session: SessionRecord): number {
  const server = session.methodData.serverIdleMs;
  const margin = typeof server === 'number' && server > 0 ? Math.floor(server * 0.9) : Infinity;
  return Math.min(family.idleCloseMs, margin);
}
