/**
 * How a paying fetch finds the session manager without importing it: the session methods
 * (`lightningSessionMethod()`, `tempoSessionMethod()`) carry it under {@link SESSION_HOOKS}, so
 * an app that uses no sessions does not bundle the manager.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type { Core } from '../fetch/core.js';
import type { SessionHooks } from './manager.js';
import type { SessionMethod, SessionsApi, SessionsConfig } from './types.js';

/** The key under which a session method carries the session manager. */
export const SESSION_HOOKS: unique symbol = Symbol.for('@stipend/client.session-hooks');

/** What a session method carries under {@link SESSION_HOOKS}. */
export type SessionHooksFactory = (core: Core, config: SessionsConfig) => SessionHooks;

/** A session method that carries the session manager. */
export type PluggedSessionMethod = SessionMethod & {
  readonly [SESSION_HOOKS]?: SessionHooksFactory;
};

/**
 * The session hooks for a paying fetch's `sessions` option, or `undefined` without sessions.
 *
 * @throws {StipendError} `CONFIG_INVALID` when methods are given but none carries the manager
 *   (a hand-made method: build it with `lightningSessionMethod()`/`tempoSessionMethod()`).
 * @example
 * ```ts
 * const sessions = sessionHooksFor(core, config.sessions);
 * ```
 */
export function sessionHooksFor(
  core: Core,
  config: SessionsConfig | undefined,
): SessionHooks | undefined {
  if (!config || config.methods.length === 0) return undefined;
  for (const method of config.methods as readonly PluggedSessionMethod[]) {
    const factory = method[SESSION_HOOKS];
    if (factory) return factory(core, config);
  }
  throw new StipendError(
    'CONFIG_INVALID',
    'sessions.methods has no method made by lightningSessionMethod() or tempoSessionMethod(); build the methods with those functions.',
  );
}

/** `payingFetch.sessions` of a paying fetch without sessions: nothing to list or close. */
export const NO_SESSIONS: SessionsApi = Object.freeze({
  list: async () => [],
  get: async () => undefined,
  close: async (id: string) => {
    throw new StipendError(
      'PURCHASE_NOT_FOUND',
      `No session ${id}: this paying fetch has no sessions (createPayingFetch({ sessions: { methods } }) turns them on).`,
    );
  },
  closeAll: async () => [],
  reconcile: async () => [],
});
