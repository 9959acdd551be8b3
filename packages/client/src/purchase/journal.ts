/**
 * The purchase journal: one record per purchase, with its lifecycle state, shared by a paying
 * fetch and all its children, and backed by the persistent stores (file, IndexedDB, Redis) so
 * that idempotency keys and unsettled purchases hold across every process that shares it.
 *
 * Records are secret-free and serialisable (strings, numbers, booleans): proofs never go in
 * the journal. A journal is a compare-and-set store; the rules of what may follow what live in
 * `state.ts` and the request flow.
 *
 * @module
 */
import type { PurchaseState } from './state.js';

/** One purchase, as journaled. Secret-free by construction. */
export interface PurchaseRecord {
  /** The purchase id; also the id of its spend record in the ledger. */
  readonly id: string;
  /** What it is bought for: the caller's idempotency key, else `METHOD url` (query redacted). */
  readonly key: string;
  /** True when `key` is a caller's idempotency key: at most one purchase of it ever pays. */
  readonly exclusive: boolean;
  readonly state: PurchaseState;
  /** True once the budget store matches the state (committed, released, or held as it should). */
  readonly booked: boolean;
  readonly reservationId: string;
  readonly walletId: string;
  readonly offerId: string;
  readonly protocol: string;
  readonly scheme: string;
  readonly origin: string;
  /** The resource, with its query string redacted. */
  readonly resource: string;
  readonly payee: string;
  /** CAIP-2 network and asset of the offer, when it has them (for lookups after a restart). */
  readonly network?: string;
  readonly asset?: string;
  /** The offered amount: atomic units as a decimal string, and the unit key. */
  readonly amount: { readonly value: string; readonly unit: string };
  /** `final` (money moves when the wallet pays) or `authorization` (when the seller settles). */
  readonly settlement?: 'final' | 'authorization';
  /** Secret-free reference the rail can be asked about (payment hash, nonce, token ref). */
  readonly reference?: string;
  /** Until when a signed authorization can still move money (ms since epoch). */
  readonly liveUntil?: number;
  /** Which paying-fetch instance (process) opened it, to find orphans after a crash. */
  readonly owner: string;
  /** The last failure, secret-free. */
  readonly failure?: { readonly code: string; readonly message: string };
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What may change with a transition. */
export type PurchasePatch = Partial<
  Pick<PurchaseRecord, 'booked' | 'reference' | 'liveUntil' | 'settlement' | 'failure'>
>;

/** Why a purchase could not be opened: another purchase of the same key must settle first. */
export interface OpenRefusal {
  readonly ok: false;
  /** The purchase in the way (newest first). */
  readonly blocking: PurchaseRecord;
}

/**
 * Where purchases are journaled. Implementations: memory (this package), and file, IndexedDB
 * and Redis in `@stipend/stores`; all pass the same conformance suite.
 *
 * @example
 * ```ts
 * import { createMemoryPurchaseJournal, createPayingFetch } from '@stipend/client';
 *
 * const journal = createMemoryPurchaseJournal();
 * const payingFetch = createPayingFetch({ wallets, journal });
 * console.warn(await journal.list({ states: ['unknown', 'live'] }));
 * ```
 */
export interface PurchaseJournal {
  /**
   * Atomically opens a purchase (state `decided`) unless another purchase of the same key is
   * in the way ({@link openConflict}): for an exclusive key, any purchase that is not `void`;
   * for any key, one whose state is `unknown` or `paid` (its outcome must be settled, or the
   * purchase delivered, first).
   */
  open(record: PurchaseRecord): Promise<{ readonly ok: true } | OpenRefusal>;
  /**
   * Compare-and-set: moves purchase `id` to `to` (with `patch`) only if its state is one of
   * `from`. Returns the new record, or `undefined` when the state was not in `from` (someone
   * else moved it) or the purchase is unknown.
   */
  transition(
    id: string,
    from: readonly PurchaseState[],
    to: PurchaseState,
    patch?: PurchasePatch,
    now?: number,
  ): Promise<PurchaseRecord | undefined>;
  get(id: string): Promise<PurchaseRecord | undefined>;
  /**
   * The purchases of a key that matter to a new one, oldest first: every one not settled, and
   * for an exclusive key its settled ones too. (A non-exclusive key's settled purchases, one
   * per call to a URL, may be left out, so this stays short on a hot URL.)
   */
  byKey(key: string): Promise<readonly PurchaseRecord[]>;
  /** Purchases in the given states (all when omitted), oldest first. */
  list(filter?: { readonly states?: readonly PurchaseState[] }): Promise<readonly PurchaseRecord[]>;
}

/** States that block any new purchase of the same key until settled. */
const BLOCKS_ANY: ReadonlySet<PurchaseState> = new Set(['unknown', 'paid']);

/**
 * Decides whether `existing` purchases of a key let a new one open. Shared by every journal
 * implementation so that they all apply one rule.
 *
 * @example
 * ```ts
 * import { openConflict } from '@stipend/client';
 * const blocking = openConflict(await journal.byKey('order-1'), true);
 * ```
 */
export function openConflict(
  existing: readonly PurchaseRecord[],
  exclusive: boolean,
): PurchaseRecord | undefined {
  for (let index = existing.length - 1; index >= 0; index--) {
    const record = existing[index]!;
    if (BLOCKS_ANY.has(record.state)) return record;
    if ((exclusive || record.exclusive) && record.state !== 'void') return record;
  }
  return undefined;
}

/** Options of {@link createMemoryPurchaseJournal}. */
export interface MemoryPurchaseJournalOptions {
  /** How many settled purchases (`delivered`/`void` and booked) are kept. Default 10,000. */
  readonly maxSettled?: number;
}

/**
 * A purchase journal kept in memory (one process). The default of `createPayingFetch`.
 *
 * @example
 * ```ts
 * import { createMemoryPurchaseJournal } from '@stipend/client';
 * const journal = createMemoryPurchaseJournal();
 * ```
 */
export function createMemoryPurchaseJournal(
  options: MemoryPurchaseJournalOptions = {},
): PurchaseJournal {
  const maxSettled = options.maxSettled ?? 10_000;
  const records = new Map<string, PurchaseRecord>();
  const keys = new Map<string, string[]>();
  // Settled purchases, oldest first, for pruning.
  const settled = new Set<string>();

  const ofKey = (key: string): PurchaseRecord[] => {
    const ids = keys.get(key);
    if (!ids) return [];
    const out: PurchaseRecord[] = [];
    for (const id of ids) {
      const record = records.get(id);
      if (record) out.push(record);
    }
    return out;
  };

  function unindex(record: PurchaseRecord): void {
    const ids = keys.get(record.key);
    if (!ids) return;
    const rest = ids.filter((other) => other !== record.id);
    if (rest.length === 0) keys.delete(record.key);
    else keys.set(record.key, rest);
  }

  function prune(): void {
    for (const id of settled) {
      if (settled.size <= maxSettled) return;
      settled.delete(id);
      const record = records.get(id);
      if (!record) continue;
      records.delete(id);
      unindex(record);
    }
  }

  return {
    async open(record) {
      const blocking = openConflict(ofKey(record.key), record.exclusive);
      if (blocking) return { ok: false, blocking };
      if (records.has(record.id)) throw new Error(`purchase ${record.id} already exists`);
      records.set(record.id, { ...record });
      const ids = keys.get(record.key);
      if (ids) ids.push(record.id);
      else keys.set(record.key, [record.id]);
      return { ok: true };
    },
    async transition(id, from, to, patch = {}, now = Date.now()) {
      const record = records.get(id);
      if (!record || !from.includes(record.state)) return undefined;
      // Not frozen on the hot path: records are never handed out as they are stored (get and
      // list give copies), so nobody can change one behind the journal's back.
      const next: PurchaseRecord = { ...record, ...patch, state: to, updatedAt: now };
      records.set(id, next);
      if ((to === 'delivered' || to === 'void') && next.booked && !settled.has(id)) {
        settled.add(id);
        if (!next.exclusive) unindex(next);
        prune();
      }
      return next;
    },
    async get(id) {
      const record = records.get(id);
      return record && Object.freeze({ ...record });
    },
    async byKey(key) {
      return ofKey(key).map((record) => Object.freeze({ ...record }));
    },
    async list(filter) {
      const states = filter?.states;
      const out: PurchaseRecord[] = [];
      for (const record of records.values())
        if (!states || states.includes(record.state)) out.push(Object.freeze({ ...record }));
      return out;
    },
  };
}
