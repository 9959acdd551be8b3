/**
 * An in-memory {@link BudgetStore}: correct under any interleaving of calls within one JS realm
 * (one process, tab or worker). Every method does its whole job synchronously, without an
 * `await`, so the check and the write of a reservation cannot be split by another call.
 *
 * Counting rules:
 *
 * - A reservation counts in every scope named by its limits (each scope once, whatever the
 *   windows), so a limit added later still sees earlier spend in its scope.
 * - In a window at time `now` it counts when its `at` is at or after
 *   `windowStart(window, now)`. Reservations stamped *later* than `now` count too: callers'
 *   clocks drift by a few ms, and a budget may over-count but must never under-count.
 * - Held reservations count at their reserved amount, committed ones at their committed
 *   amount, released ones not at all. `count` is held + committed.
 *
 * Costs: per scope the store keeps reservations sorted by time plus one running sum per
 * window (moved as time advances) and one all-time sum for `total` windows, so `reserve`,
 * `commit` and `release` are about O(scopes × windows + log n) for times that mostly increase.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type {
  BudgetLimit,
  BudgetStore,
  BudgetWindow,
  Reservation,
  ReserveRefusal,
  ReserveRequest,
} from './store.js';
import { windowKey, windowStart } from './window.js';

/** Options of {@link createMemoryBudgetStore}. */
export interface MemoryBudgetStoreOptions {
  /**
   * How many reservations to remember before forgetting old settled ones. Default 10 000.
   *
   * Only a committed or released reservation that no longer counts in any window seen for its
   * scopes, and is older than `retainMs`, is ever forgotten; held ones never are. When nothing
   * may be forgotten the store grows past this number rather than under-count a budget.
   * `total` windows keep all-time running sums, so forgetting never changes them.
   */
  readonly maxEntries?: number;
  /**
   * The slack, in ms, kept behind the latest reservation time before a settled reservation
   * may be forgotten (default 3 600 000: one hour). Sums stay exact for any `now` no more than
   * this far behind the latest `reserve` time, and a forgotten id can no longer be replayed.
   */
  readonly retainMs?: number;
}

/** A {@link BudgetStore} held in memory. */
export interface MemoryBudgetStore extends BudgetStore {
  /** How many reservations the store currently remembers (held and settled). */
  readonly size: number;
}

/** Mutable sums of one window. */
interface Sums {
  committed: bigint;
  held: bigint;
  count: number;
}

/** One reservation as the store keeps it. */
interface Entry {
  readonly id: string;
  /** Insertion order, the tie-break between equal times. */
  readonly seq: number;
  readonly at: number;
  /** The distinct scopes of its limits. */
  readonly scopes: readonly string[];
  snapshot: Reservation;
}

/** A running sum over `entries[head..]` where `head` is the first entry at or after `start`. */
interface WindowSum extends Sums {
  readonly window: BudgetWindow;
  start: number;
  head: number;
}

/** Everything kept for one scope. */
interface ScopeIndex {
  /** Sorted by `at`, then insertion order. */
  entries: Entry[];
  /** All-time sums (the `total` window); forgetting entries never touches them. */
  readonly totals: Sums;
  /** Running sums of non-total windows, by window key. */
  readonly windows: Map<string, WindowSum>;
  /** Every non-total window used with this scope, for deciding what may be forgotten. */
  readonly seen: Map<string, BudgetWindow>;
}

const DEFAULT_MAX_ENTRIES = 10_000;
const DEFAULT_RETAIN_MS = 60 * 60 * 1000;

/**
 * Creates an in-memory budget store.
 *
 * Idempotency: reserving an id again returns the existing reservation when it is held or
 * committed and the request has the same `usdMicros` and the same scopes; otherwise (a
 * different amount or scopes, or an id that was released) it throws `BUDGET_CONFLICT`, so
 * use one id per payment attempt. A forgotten id (see `maxEntries`) reserves anew.
 *
 * Errors (all {@link StipendError}): `BUDGET_INVALID` for malformed input or a commit above
 * the reserved amount, `BUDGET_NOT_FOUND` for an unknown id, `BUDGET_CONFLICT` for a
 * transition the reservation's state forbids.
 *
 * @param options - See {@link MemoryBudgetStoreOptions}.
 * @returns The store.
 *
 * @example
 * ```ts
 * import { createMemoryBudgetStore } from '@stipend/client';
 *
 * const store = createMemoryBudgetStore();
 * const limits = [
 *   { scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxUsdMicros: 1_000_000n },
 *   { scope: 'host:api.example.com', window: { kind: 'rolling', ms: 3_600_000 }, maxCount: 10 },
 * ] as const;
 * const now = Date.now();
 * const result = await store.reserve({ id: 'pay-1', limits, usdMicros: 10_000n, now, expiresAt: now + 60_000 });
 * if (result.ok) await store.commit('pay-1', 9_500n);
 * else console.warn(`over ${result.limit.scope}: ${result.remaining} left`);
 * ```
 */
export function createMemoryBudgetStore(options: MemoryBudgetStoreOptions = {}): MemoryBudgetStore {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const retainMs = options.retainMs ?? DEFAULT_RETAIN_MS;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw invalid(`Invalid maxEntries ${String(maxEntries)}.`, 'Use a positive whole number.');
  }
  if (typeof retainMs !== 'number' || !Number.isFinite(retainMs) || retainMs < 0) {
    throw invalid(`Invalid retainMs ${String(retainMs)}.`, 'Use a finite number of ms >= 0.');
  }

  const byId = new Map<string, Entry>();
  const held = new Map<string, Entry>();
  const scopes = new Map<string, ScopeIndex>();
  let seq = 0;
  let latest = Number.NEGATIVE_INFINITY;
  let nextPruneAt = maxEntries;

  function scopeIndex(scope: string): ScopeIndex {
    let index = scopes.get(scope);
    if (!index) {
      index = {
        entries: [],
        totals: { committed: 0n, held: 0n, count: 0 },
        windows: new Map(),
        seen: new Map(),
      };
      scopes.set(scope, index);
    }
    return index;
  }

  /** Sums of `scope` in `window` at `now`, moving that window's running sum to `now`. */
  function sumsAt(index: ScopeIndex, window: BudgetWindow, now: number): Sums {
    if (window.kind === 'total') return index.totals;
    const key = windowKey(window);
    const start = windowStart(window, now);
    const { entries } = index;
    let sum = index.windows.get(key);
    if (!sum) {
      index.seen.set(key, window);
      const head = firstAtOrAfter(entries, start);
      sum = { window, start, head, committed: 0n, held: 0n, count: 0 };
      for (let i = head; i < entries.length; i++) add(sum, entries[i]!.snapshot, 1);
      index.windows.set(key, sum);
      return sum;
    }
    if (start > sum.start) {
      while (sum.head < entries.length && entries[sum.head]!.at < start) {
        add(sum, entries[sum.head]!.snapshot, -1);
        sum.head++;
      }
    } else if (start < sum.start) {
      while (sum.head > 0 && entries[sum.head - 1]!.at >= start) {
        sum.head--;
        add(sum, entries[sum.head]!.snapshot, 1);
      }
    }
    sum.start = start;
    return sum;
  }

  function insert(entry: Entry): void {
    for (const scope of entry.scopes) {
      const index = scopeIndex(scope);
      const position = firstAfter(index.entries, entry.at);
      index.entries.splice(position, 0, entry);
      add(index.totals, entry.snapshot, 1);
      for (const sum of index.windows.values()) {
        if (entry.at >= sum.start) add(sum, entry.snapshot, 1);
        else sum.head++;
      }
    }
  }

  function transition(entry: Entry, next: Reservation): Reservation {
    const previous = entry.snapshot;
    for (const scope of entry.scopes) {
      const index = scopeIndex(scope);
      add(index.totals, previous, -1);
      add(index.totals, next, 1);
      for (const sum of index.windows.values()) {
        if (entry.at < sum.start) continue;
        add(sum, previous, -1);
        add(sum, next, 1);
      }
    }
    entry.snapshot = next;
    if (next.state === 'held') held.set(entry.id, entry);
    else held.delete(entry.id);
    return next;
  }

  /** Forgets the oldest settled reservations that can no longer count anywhere. */
  function prune(): void {
    const target = Math.floor((maxEntries * 3) / 4);
    const horizon = latest - retainMs;
    const cutoffs = new Map<string, number>();
    const cutoff = (scope: string): number => {
      let value = cutoffs.get(scope);
      if (value === undefined) {
        value = horizon;
        const index = scopes.get(scope);
        for (const window of index?.seen.values() ?? []) {
          value = Math.min(value, windowStart(window, horizon));
        }
        cutoffs.set(scope, value);
      }
      return value;
    };
    const touched = new Set<string>();
    for (const entry of byId.values()) {
      if (byId.size <= target) break;
      if (entry.snapshot.state === 'held') continue;
      if (!entry.scopes.every((scope) => entry.at < cutoff(scope))) continue;
      byId.delete(entry.id);
      for (const scope of entry.scopes) touched.add(scope);
    }
    for (const scope of touched) {
      const index = scopes.get(scope);
      if (!index) continue;
      index.entries = index.entries.filter((entry) => byId.get(entry.id) === entry);
      // Running sums are rebuilt lazily from the remaining entries on their next use.
      index.windows.clear();
    }
    nextPruneAt = byId.size <= target ? maxEntries : Math.max(maxEntries, 2 * byId.size);
  }

  function existing(
    entry: Entry,
    request: ReserveRequest,
    scopeList: readonly string[],
  ): { readonly ok: true; readonly reservation: Reservation } {
    const current = entry.snapshot;
    if (current.state === 'released') {
      throw new StipendError('BUDGET_CONFLICT', `Reservation "${entry.id}" was released.`, {
        metaMessages: ['Use a new reservation id for each payment attempt.'],
        details: { id: entry.id, state: current.state },
      });
    }
    const sameScopes =
      scopeList.length === entry.scopes.length &&
      scopeList.every((scope) => entry.scopes.includes(scope));
    if (current.usdMicros !== request.usdMicros || !sameScopes) {
      throw new StipendError(
        'BUDGET_CONFLICT',
        `Reservation "${entry.id}" already exists with a different amount or scopes.`,
        {
          metaMessages: [
            `It holds ${current.usdMicros} µUSD in ${entry.scopes.join(', ') || 'no scope'}; ` +
              `the new request asks ${request.usdMicros} µUSD in ${scopeList.join(', ') || 'no scope'}.`,
            'Replay the same request, or use a new reservation id.',
          ],
          details: {
            id: entry.id,
            usdMicros: current.usdMicros,
            requestedUsdMicros: request.usdMicros,
          },
        },
      );
    }
    return { ok: true, reservation: current };
  }

  function find(id: string, action: string): Entry {
    const entry = typeof id === 'string' ? byId.get(id) : undefined;
    if (!entry) {
      throw new StipendError('BUDGET_NOT_FOUND', `Cannot ${action} unknown reservation "${id}".`, {
        metaMessages: ['Reserve it first; settled reservations may be forgotten after a while.'],
        details: { id: String(id) },
      });
    }
    return entry;
  }

  return {
    get size() {
      return byId.size;
    },

    async reserve(request) {
      validateRequest(request);
      const limits = request.limits.map(copyLimit);
      const scopeList = [...new Set(limits.map((limit) => limit.scope))];
      const found = byId.get(request.id);
      if (found) return existing(found, request, scopeList);

      for (const limit of limits) {
        const index = scopes.get(limit.scope);
        const sums = index
          ? sumsAt(index, limit.window, request.now)
          : { committed: 0n, held: 0n, count: 0 };
        const refusal = check(limit, sums, request.usdMicros);
        if (refusal) return refusal;
      }

      const reservation: Reservation = Object.freeze({
        id: request.id,
        limits: Object.freeze(limits),
        usdMicros: request.usdMicros,
        at: request.now,
        expiresAt: request.expiresAt,
        state: 'held' as const,
        ...(request.meta ? { meta: Object.freeze({ ...request.meta }) } : {}),
      });
      const entry: Entry = {
        id: request.id,
        seq: seq++,
        at: request.now,
        scopes: scopeList,
        snapshot: reservation,
      };
      byId.set(entry.id, entry);
      held.set(entry.id, entry);
      insert(entry);
      for (const limit of limits) {
        if (limit.window.kind !== 'total') {
          scopeIndex(limit.scope).seen.set(windowKey(limit.window), limit.window);
        }
      }
      latest = Math.max(latest, request.now);
      if (byId.size > nextPruneAt) prune();
      return { ok: true, reservation };
    },

    async commit(id, actualUsdMicros) {
      if (typeof actualUsdMicros !== 'bigint' || actualUsdMicros < 0n) {
        throw invalid(
          `Invalid committed amount ${String(actualUsdMicros)} for reservation "${id}".`,
          'Pass the actual cost as a bigint of USD micro-units, 0n or more.',
        );
      }
      const entry = find(id, 'commit');
      const current = entry.snapshot;
      if (current.state === 'committed') {
        if (current.committedUsdMicros === actualUsdMicros) return current;
        throw new StipendError(
          'BUDGET_CONFLICT',
          `Reservation "${id}" is already committed at ${current.committedUsdMicros} µUSD, not ${actualUsdMicros}.`,
          {
            metaMessages: ['A reservation is committed once; replay the same amount or leave it.'],
            details: { id, committedUsdMicros: current.committedUsdMicros, actualUsdMicros },
          },
        );
      }
      if (current.state === 'released') {
        throw new StipendError(
          'BUDGET_CONFLICT',
          `Reservation "${id}" was released; it cannot be committed.`,
          {
            metaMessages: ['Reserve again with a new id before paying.'],
            details: { id, state: current.state },
          },
        );
      }
      if (actualUsdMicros > current.usdMicros) {
        throw new StipendError(
          'BUDGET_INVALID',
          `Cannot commit ${actualUsdMicros} µUSD on reservation "${id}": only ${current.usdMicros} µUSD was reserved.`,
          {
            metaMessages: [
              'A payment cannot cost more than was approved; reserve the worst-case cost.',
            ],
            details: { id, usdMicros: current.usdMicros, actualUsdMicros },
          },
        );
      }
      return transition(
        entry,
        Object.freeze({ ...current, state: 'committed', committedUsdMicros: actualUsdMicros }),
      );
    },

    async release(id) {
      const entry = find(id, 'release');
      const current = entry.snapshot;
      if (current.state === 'released') return current;
      if (current.state === 'committed') {
        throw new StipendError(
          'BUDGET_CONFLICT',
          `Reservation "${id}" is committed; it cannot be released.`,
          {
            metaMessages: ['A committed payment was made; refunds are not releases.'],
            details: { id, state: current.state },
          },
        );
      }
      return transition(entry, Object.freeze({ ...current, state: 'released' }));
    },

    async usage(limit, now) {
      if (typeof limit?.scope !== 'string') {
        throw invalid(
          `Invalid budget scope ${String(limit?.scope)}.`,
          'Pass a limit with a string scope.',
        );
      }
      // Validates the window and the time even for a scope with no reservations yet.
      windowStart(limit.window, now);
      const index = scopes.get(limit.scope);
      if (!index) return { committedUsdMicros: 0n, heldUsdMicros: 0n, count: 0 };
      const sums = sumsAt(index, limit.window, now);
      return { committedUsdMicros: sums.committed, heldUsdMicros: sums.held, count: sums.count };
    },

    async get(id) {
      return byId.get(id)?.snapshot;
    },

    async expired(now) {
      if (typeof now !== 'number' || Number.isNaN(now)) {
        throw invalid(`Invalid time ${String(now)}.`, 'Pass ms since epoch, e.g. Date.now().');
      }
      const due: Entry[] = [];
      for (const entry of held.values()) if (entry.snapshot.expiresAt <= now) due.push(entry);
      due.sort((a, b) => a.snapshot.expiresAt - b.snapshot.expiresAt || a.seq - b.seq);
      return due.map((entry) => entry.snapshot);
    },
  };
}

/** Adds (`sign` 1) or removes (`sign` -1) one reservation's contribution to sums. */
function add(sums: Sums, reservation: Reservation, sign: 1 | -1): void {
  if (reservation.state === 'released') return;
  const factor = BigInt(sign);
  if (reservation.state === 'held') sums.held += factor * reservation.usdMicros;
  else sums.committed += factor * (reservation.committedUsdMicros ?? 0n);
  sums.count += sign;
}

function check(limit: BudgetLimit, sums: Sums, usdMicros: bigint): ReserveRefusal | undefined {
  if (limit.maxUsdMicros !== undefined) {
    const used = sums.committed + sums.held;
    if (used + usdMicros > limit.maxUsdMicros) {
      const left = limit.maxUsdMicros - used;
      return { ok: false, limit, exceeded: 'usd', remaining: left > 0n ? left : 0n };
    }
  }
  if (limit.maxCount !== undefined && sums.count + 1 > limit.maxCount) {
    return {
      ok: false,
      limit,
      exceeded: 'count',
      remaining: BigInt(Math.max(0, limit.maxCount - sums.count)),
    };
  }
  return undefined;
}

/** The index of the first entry with `at >= time` (entries sorted by `at`). */
function firstAtOrAfter(entries: readonly Entry[], time: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.at < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The index of the first entry with `at > time`, where a new entry at `time` goes. */
function firstAfter(entries: readonly Entry[], time: number): number {
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (entries[middle]!.at <= time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function copyLimit(limit: BudgetLimit): BudgetLimit {
  return Object.freeze({
    scope: limit.scope,
    window: Object.freeze({ ...limit.window }),
    ...(limit.maxUsdMicros !== undefined ? { maxUsdMicros: limit.maxUsdMicros } : {}),
    ...(limit.maxCount !== undefined ? { maxCount: limit.maxCount } : {}),
  });
}

function validateRequest(request: ReserveRequest): void {
  if (typeof request !== 'object' || request === null) {
    throw invalid(
      'Invalid reservation request.',
      'Pass { id, limits, usdMicros, now, expiresAt }.',
    );
  }
  if (typeof request.id !== 'string' || request.id === '') {
    throw invalid(`Invalid reservation id ${String(request.id)}.`, 'Use a non-empty string id.');
  }
  if (typeof request.usdMicros !== 'bigint' || request.usdMicros < 0n) {
    throw invalid(
      `Invalid amount ${String(request.usdMicros)} for reservation "${request.id}".`,
      'Pass usdMicros as a bigint of USD micro-units, 0n or more.',
    );
  }
  if (typeof request.now !== 'number' || !Number.isFinite(request.now)) {
    throw invalid(
      `Invalid now ${String(request.now)} for reservation "${request.id}".`,
      'Pass ms since epoch.',
    );
  }
  if (typeof request.expiresAt !== 'number' || Number.isNaN(request.expiresAt)) {
    throw invalid(
      `Invalid expiresAt ${String(request.expiresAt)} for reservation "${request.id}".`,
      'Pass ms since epoch.',
    );
  }
  if (!Array.isArray(request.limits)) {
    throw invalid(
      `Invalid limits for reservation "${request.id}".`,
      'Pass an array of limits (may be empty).',
    );
  }
  for (const limit of request.limits as readonly BudgetLimit[]) {
    if (typeof limit?.scope !== 'string' || limit.scope === '') {
      throw invalid(
        `Invalid limit scope ${String(limit?.scope)}.`,
        'Use a non-empty string such as "global".',
      );
    }
    windowKey(limit.window);
    if (
      limit.maxUsdMicros !== undefined &&
      (typeof limit.maxUsdMicros !== 'bigint' || limit.maxUsdMicros < 0n)
    ) {
      throw invalid(
        `Invalid maxUsdMicros ${String(limit.maxUsdMicros)} for scope "${limit.scope}".`,
        'Use a bigint of USD micro-units, 0n or more.',
      );
    }
    if (
      limit.maxCount !== undefined &&
      (!Number.isSafeInteger(limit.maxCount) || limit.maxCount < 0)
    ) {
      throw invalid(
        `Invalid maxCount ${String(limit.maxCount)} for scope "${limit.scope}".`,
        'Use a whole number of payments, 0 or more.',
      );
    }
  }
}

function invalid(message: string, fix: string): StipendError {
  return new StipendError('BUDGET_INVALID', message, { metaMessages: [fix] });
}
