/**
 * Deadlines for every read and every request (invariant 7: every call ends). Browser- and
 * Node-safe: `AbortController`, `setTimeout` and, when the runtime has it, `unref` so that a
 * pending deadline never keeps a Node process alive.
 *
 * @module
 */
import { isStipendError, StipendError } from '../errors/base.js';

/** The longest delay `setTimeout` honours (larger ones fire at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** A deadline as an `AbortSignal`, and the function that stands it down. */
export interface Deadline {
  /** Aborts when the deadline passes (reason: a `TimeoutError`) or when the parent aborts. */
  readonly signal: AbortSignal;
  /** Stops the timer and detaches from the parent; call it once the work is done. */
  clear(): void;
}

/**
 * The abort reason of a passed deadline: a `DOMException` named `TimeoutError` (what
 * `AbortSignal.timeout` uses), or an `Error` with that name where `DOMException` is missing.
 */
function timeoutReason(ms: number): Error {
  const message = `The deadline of ${ms} ms passed.`;
  if (typeof DOMException === 'function') return new DOMException(message, 'TimeoutError');
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

function checkMs(ms: number): void {
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new StipendError(
      'CONFIG_INVALID',
      `A deadline must be a number of milliseconds ≥ 0 (got ${String(ms)}); check timeoutMs and payment.timeoutMs.`,
      { details: { timeoutMs: String(ms) } },
    );
  }
}

/**
 * A signal that aborts after `ms` milliseconds, or as soon as `parent` aborts (with the
 * parent's reason). `Infinity` means no deadline (only the parent can abort it). The timer is
 * `unref`ed where the runtime allows it.
 *
 * @example
 * ```ts
 * import { deadlineSignal } from './deadline.js';
 *
 * const deadline = deadlineSignal(5_000, init.signal ?? undefined);
 * try {
 *   return await fetch(url, { ...init, signal: deadline.signal });
 * } finally {
 *   deadline.clear();
 * }
 * ```
 */
export function deadlineSignal(ms: number, parent?: AbortSignal): Deadline {
  checkMs(ms);
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParentAbort = () => {
    clear();
    controller.abort(parent?.reason);
  };
  function clear(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    parent?.removeEventListener('abort', onParentAbort);
  }
  if (parent?.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, clear };
  }
  parent?.addEventListener('abort', onParentAbort, { once: true });
  if (Number.isFinite(ms)) {
    timer = setTimeout(
      () => {
        clear();
        controller.abort(timeoutReason(ms));
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    (timer as { unref?: () => void }).unref?.();
  }
  return { signal: controller.signal, clear };
}

/**
 * True when an error is the typed `TIMEOUT` of {@link withDeadline}.
 *
 * @example
 * ```ts
 * import { isDeadlineError } from './deadline.js';
 * if (isDeadlineError(error)) console.warn(error.shortMessage);
 * ```
 */
export function isDeadlineError(error: unknown): error is StipendError {
  return isStipendError(error) && error.code === 'TIMEOUT';
}

/** What {@link withDeadline} gives the work: a signal, created only if the work reads it. */
export interface DeadlineScope {
  /** Aborts when the deadline passes or the parent aborts. Created on first read (cheap if unused). */
  readonly signal: AbortSignal;
}

/**
 * Runs `work` with a deadline. Rejects with a `StipendError` of code `TIMEOUT` when `ms`
 * passes (`what` names who did not answer; a function is called only then), even if `work` ignores its signal (its late result is dropped, its late failure
 * swallowed); rejects with the parent's reason when `parent` aborts first. The `AbortSignal`
 * is made only when the work reads `scope.signal` (an `AbortSignal` costs about 10 µs in
 * Node; a body read or a parse does not need one).
 *
 * @example
 * ```ts
 * import { withDeadline } from './deadline.js';
 *
 * const response = await withDeadline(
 *   ({ signal }) => fetch(url, { ...init, signal }),
 *   30_000,
 *   `The server at ${url.origin}`,
 *   init.signal ?? undefined,
 * );
 * // on timeout: StipendError TIMEOUT "The server at https://… did not answer within 30000 ms; raise timeoutMs or payment.timeoutMs."
 * ```
 */
export function withDeadline<T>(
  work: (scope: DeadlineScope) => Promise<T>,
  ms: number,
  what: string | (() => string),
  parent?: AbortSignal,
): Promise<T> {
  checkMs(ms);
  if (parent?.aborted) return Promise.reject(parent.reason);
  return new Promise<T>((resolve, reject) => {
    const run = new DeadlineRun(ms, what, parent, resolve, reject);
    let running: Promise<T>;
    try {
      running = work(run);
    } catch (error) {
      running = Promise.reject(error);
    }
    Promise.resolve(running).then(run.onValue, run.onError);
  });
}

/**
 * One {@link withDeadline} call: its scope (the lazily made signal) and its settlement. A
 * class rather than closures: this runs for every request, and its cost is in the budget of a
 * pass-through.
 */
class DeadlineRun<T> implements DeadlineScope {
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the call ended early (deadline or parent), once it did. */
  private reason: unknown;
  private done = false;
  private readonly onParentAbort: (() => void) | undefined;

  constructor(
    private readonly ms: number,
    private readonly what: string | (() => string),
    private readonly parent: AbortSignal | undefined,
    private readonly resolve: (value: T) => void,
    private readonly reject: (reason: unknown) => void,
  ) {
    if (parent) {
      this.onParentAbort = () => this.stop(parent.reason);
      parent.addEventListener('abort', this.onParentAbort, { once: true });
    }
    if (Number.isFinite(ms)) {
      this.timer = setTimeout(this.onTimeout, Math.min(ms, MAX_TIMER_MS));
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  get signal(): AbortSignal {
    // A long deadline with no caller's signal to follow: one shared signal per slot of time
    // (an AbortSignal costs more than the rest of a purchase's bookkeeping in Node).
    if (!this.controller && !this.parent && this.reason === undefined) {
      const shared = sharedDeadlineSignal(this.ms);
      if (shared) return shared;
    }
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(causeOf(this.reason));
    }
    return this.controller.signal;
  }

  readonly onTimeout = (): void => this.stop(timeoutError(this.ms, this.what));

  readonly onValue = (value: T): void => {
    if (this.done) {
      dropLate(value);
      return;
    }
    this.settle();
    this.resolve(value);
  };

  readonly onError = (error: unknown): void => {
    if (this.done) return;
    this.settle();
    this.reject(error);
  };

  private settle(): void {
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    // A signal handed out (to fetch) keeps following the caller's: aborting the call later
    // still cancels a response body being read. Without one, nothing is left to follow.
    if (!this.controller && this.onParentAbort) {
      this.parent?.removeEventListener('abort', this.onParentAbort);
    }
  }

  private stop(why: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = why;
    this.controller?.abort(causeOf(why));
    // Already answered: only the signal handed out follows the caller's abort.
    if (this.done) return;
    this.settle();
    this.reject(why);
  }
}

/** Deadlines at least this long may share a signal (see {@link sharedDeadlineSignal}). */
const SHARED_FROM_MS = 1_000;
/** Shared signals by the time they abort at. */
const sharedSignals = new Map<string, AbortController>();

/**
 * A signal that aborts (with a `TimeoutError`) no sooner than `ms` from now and at most
 * `ms / 32` later: every deadline of the same length that starts in one slot of `ms / 32` gets
 * the same one, so a busy client makes one `AbortController` and one timer per slot instead of
 * one per call. `undefined` for deadlines under 1 s or infinite ones (those get their own).
 * Work that ignores it still ends on time: {@link withDeadline} rejects at the exact deadline.
 *
 * @example
 * ```ts
 * const signal = sharedDeadlineSignal(60_000) ?? AbortSignal.timeout(60_000);
 * ```
 */
export function sharedDeadlineSignal(ms: number): AbortSignal | undefined {
  if (!Number.isFinite(ms) || ms < SHARED_FROM_MS || ms > MAX_TIMER_MS) return undefined;
  const slot = Math.ceil(ms / 32);
  const now = Date.now();
  const at = Math.ceil((now + ms) / slot) * slot;
  const key = `${ms}@${at}`;
  let controller = sharedSignals.get(key);
  if (!controller) {
    const made = new AbortController();
    controller = made;
    sharedSignals.set(key, made);
    const timer = setTimeout(() => {
      sharedSignals.delete(key);
      made.abort(timeoutReason(ms));
    }, at - now);
    (timer as { unref?: () => void }).unref?.();
  }
  return controller.signal;
}

function causeOf(reason: unknown): unknown {
  return isStipendError(reason) ? reason.cause : reason;
}

/** A result that came after the deadline: a response's body is cancelled so its connection goes. */
function dropLate(value: unknown): void {
  const body = (value as { body?: { cancel?: () => Promise<void> } | null } | null)?.body;
  body?.cancel?.()?.catch(() => {});
}

function timeoutError(ms: number, described: string | (() => string)): StipendError {
  const what = typeof described === 'function' ? described() : described;
  return new StipendError(
    'TIMEOUT',
    `${what} did not answer within ${ms} ms; raise timeoutMs or payment.timeoutMs.`,
    { details: { timeoutMs: ms, what }, cause: timeoutReason(ms) },
  );
}
