/**
 * The conformance suite every {@link PurchaseJournal} must pass (memory, file, IndexedDB,
 * Redis): the shared `openConflict` rule, compare-and-set transitions, reads, and the
 * concurrency rules the purchase lifecycle rests on — of N concurrent opens of one exclusive
 * key exactly one succeeds, of N concurrent transitions from one state exactly one wins —
 * within one instance and, for persistent journals, across instances sharing the store.
 *
 * Call {@link describePurchaseJournalConformance} from a `*.test.ts` file.
 */
import {
  openConflict,
  type PurchaseJournal,
  type PurchaseRecord,
  type PurchaseState,
} from '@stipend/client';
import { afterEach, describe, expect, it } from 'vitest';

/** Options of {@link describePurchaseJournalConformance}. */
export interface PurchaseJournalConformanceOptions {
  /** Opens a second instance on the same persisted state (another process, tab or machine). */
  readonly reopen?: (journal: PurchaseJournal) => Promise<PurchaseJournal> | PurchaseJournal;
}

const T0 = Date.UTC(2024, 0, 15, 12);
const RACERS = 25;

/** How a purchase reaches each state from `decided`. */
const PATHS: Readonly<Record<PurchaseState, readonly PurchaseState[]>> = {
  decided: [],
  authorizing: ['authorizing'],
  signed: ['authorizing', 'signed'],
  sent: ['authorizing', 'signed', 'sent'],
  delivered: ['authorizing', 'signed', 'sent', 'delivered'],
  live: ['authorizing', 'signed', 'sent', 'live'],
  unknown: ['authorizing', 'unknown'],
  paid: ['authorizing', 'paid'],
  void: ['void'],
};

/**
 * A purchase record for tests.
 *
 * @example
 * ```ts
 * import { purchaseRecord } from './purchase-journal.conformance.test-helpers.js';
 * const record = purchaseRecord('p1', 'order-1', { exclusive: true });
 * ```
 */
export function purchaseRecord(
  id: string,
  key: string,
  overrides: Partial<PurchaseRecord> = {},
): PurchaseRecord {
  return {
    id,
    key,
    exclusive: false,
    state: 'decided',
    booked: true,
    reservationId: `r-${id}`,
    walletId: 'wallet-1',
    offerId: 'offer-1',
    protocol: 'x402',
    scheme: 'exact',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/data?[redacted]',
    payee: '0x00000000000000000000000000000000000000aa',
    network: 'eip155:8453',
    asset: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913',
    amount: { value: '10000', unit: 'eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913' },
    owner: 'process-a',
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/**
 * Declares the conformance tests for a purchase journal.
 *
 * @param name - Shown in test names.
 * @param factory - Makes a fresh, empty journal each call.
 * @param options - `reopen` enables the sharing tests.
 *
 * @example
 * ```ts
 * import { createMemoryPurchaseJournal } from '@stipend/client';
 * import { describePurchaseJournalConformance } from './purchase-journal.conformance.test-helpers.js';
 *
 * describePurchaseJournalConformance('memory', () => createMemoryPurchaseJournal());
 * ```
 */
export function describePurchaseJournalConformance(
  name: string,
  factory: () => Promise<PurchaseJournal> | PurchaseJournal,
  options: PurchaseJournalConformanceOptions = {},
): void {
  const open: PurchaseJournal[] = [];
  const make = async () => {
    const journal = await factory();
    open.push(journal);
    return journal;
  };
  const reopen = async (journal: PurchaseJournal) => {
    const again = await options.reopen!(journal);
    open.push(again);
    return again;
  };
  /** Instances to race on: one, or three sharing the store. */
  const instances = async (): Promise<PurchaseJournal[]> => {
    const first = await make();
    if (!options.reopen) return [first];
    return [first, await reopen(first), await reopen(first)];
  };
  afterEach(async () => {
    for (const journal of open.splice(0)) {
      await (journal as { close?: () => Promise<void> }).close?.();
    }
  });

  describe(`${name}: PurchaseJournal conformance`, () => {
    it('opens a purchase and reads it back by id, by key and by state, every field intact', async () => {
      const journal = await make();
      const full = purchaseRecord('p1', 'order-1', {
        exclusive: true,
        settlement: 'authorization',
        reference: 'nonce:0x01',
        liveUntil: T0 + 60_000,
        failure: { code: 'PAYMENT_FAILED', message: 'declined' },
      });
      expect(await journal.open(full)).toEqual({ ok: true });
      expect(await journal.get('p1')).toEqual(full);
      expect(await journal.byKey('order-1')).toEqual([full]);
      expect(await journal.list()).toEqual([full]);
      expect(await journal.list({ states: ['decided'] })).toEqual([full]);
      expect(await journal.list({ states: ['sent'] })).toEqual([]);
      expect(await journal.get('missing')).toBeUndefined();
      expect(await journal.byKey('missing')).toEqual([]);
    });

    it('refuses a second purchase of an exclusive key until the first is void', async () => {
      const journal = await make();
      const first = purchaseRecord('p1', 'order-1', { exclusive: true });
      await journal.open(first);
      const refused = await journal.open(purchaseRecord('p2', 'order-1', { exclusive: true }));
      expect(refused).toEqual({ ok: false, blocking: first });
      // Not even a non-exclusive purchase of the same key gets in.
      expect((await journal.open(purchaseRecord('p3', 'order-1'))).ok).toBe(false);
      await journal.transition('p1', ['decided'], 'void', {}, T0 + 1);
      expect(await journal.open(purchaseRecord('p2', 'order-1', { exclusive: true }))).toEqual({
        ok: true,
      });
      expect((await journal.byKey('order-1')).map((r) => [r.id, r.state])).toEqual([
        ['p1', 'void'],
        ['p2', 'decided'],
      ]);
    });

    it('refuses an exclusive key that was delivered: it is paid at most once, ever', async () => {
      const journal = await make();
      await journal.open(purchaseRecord('p1', 'order-1', { exclusive: true }));
      await journal.transition('p1', ['decided'], 'authorizing');
      await journal.transition('p1', ['authorizing'], 'signed');
      await journal.transition('p1', ['signed'], 'sent');
      await journal.transition('p1', ['sent'], 'delivered');
      const again = await journal.open(purchaseRecord('p2', 'order-1', { exclusive: true }));
      expect(again.ok).toBe(false);
      expect(!again.ok && again.blocking.state).toBe('delivered');
    });

    it('applies the shared openConflict rule to every state of an earlier purchase', async () => {
      const journal = await make();
      let n = 0;
      for (const [state, path] of Object.entries(PATHS)) {
        for (const earlierExclusive of [false, true]) {
          for (const exclusive of [false, true]) {
            const key = `key-${n++}`;
            await journal.open(purchaseRecord(`${key}-a`, key, { exclusive: earlierExclusive }));
            let from: PurchaseState = 'decided';
            for (const to of path) {
              expect(await journal.transition(`${key}-a`, [from], to)).toMatchObject({ state: to });
              from = to;
            }
            expect((await journal.get(`${key}-a`))?.state).toBe(state);
            // A journal may drop settled purchases of a non-exclusive key from byKey (memory
            // does, to stay bounded); open must agree with the rule over what byKey returns.
            const existing = await journal.byKey(key);
            const blocking = openConflict(existing, exclusive);
            const result = await journal.open(purchaseRecord(`${key}-b`, key, { exclusive }));
            expect(result).toEqual(blocking ? { ok: false, blocking } : { ok: true });
          }
        }
      }
    });

    it('rejects opening an id twice', async () => {
      const journal = await make();
      await journal.open(purchaseRecord('p1', 'k1'));
      await expect(journal.open(purchaseRecord('p1', 'k2'))).rejects.toThrow(/already exists/);
      expect(await journal.byKey('k2')).toEqual([]);
    });

    it('moves a purchase only from the states it names (compare-and-set)', async () => {
      const journal = await make();
      const record = purchaseRecord('p1', 'k');
      await journal.open(record);
      expect(await journal.transition('p1', ['sent', 'signed'], 'delivered')).toBeUndefined();
      expect(await journal.transition('nope', ['decided'], 'void')).toBeUndefined();
      expect(await journal.get('p1')).toEqual(record);
      const next = await journal.transition(
        'p1',
        ['decided'],
        'authorizing',
        { booked: false, reference: 'hash:ab', liveUntil: T0 + 5 },
        T0 + 10,
      );
      const expected = {
        ...record,
        state: 'authorizing',
        booked: false,
        reference: 'hash:ab',
        liveUntil: T0 + 5,
        updatedAt: T0 + 10,
      };
      expect(next).toEqual(expected);
      expect(await journal.get('p1')).toEqual(expected);
      // A patch in place (same state) is a transition too.
      const patched = await journal.transition('p1', ['authorizing'], 'authorizing', {
        booked: true,
      });
      expect(patched).toMatchObject({ state: 'authorizing', booked: true, reference: 'hash:ab' });
    });

    it('lists purchases by state, oldest first', async () => {
      const journal = await make();
      for (const id of ['a', 'b', 'c', 'd']) await journal.open(purchaseRecord(id, `k-${id}`));
      await journal.transition('b', ['decided'], 'authorizing');
      await journal.transition('b', ['authorizing'], 'unknown');
      await journal.transition('d', ['decided'], 'void');
      expect((await journal.list()).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
      expect((await journal.list({ states: ['unknown', 'void'] })).map((r) => r.id)).toEqual([
        'b',
        'd',
      ]);
    });

    it(`lets exactly one of ${RACERS} concurrent opens of one exclusive key succeed`, async () => {
      const racers = await instances();
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          racers[i % racers.length]!.open(purchaseRecord(`p${i}`, 'order-1', { exclusive: true })),
        ),
      );
      const winners = results.flatMap((r, i) => (r.ok ? [`p${i}`] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) if (!r.ok) expect(r.blocking.id).toBe(winners[0]);
      for (const journal of racers) {
        expect((await journal.byKey('order-1')).map((r) => r.id)).toEqual(winners);
      }
    });

    it(`lets exactly one of ${RACERS} concurrent transitions from one state win`, async () => {
      const racers = await instances();
      await racers[0]!.open(purchaseRecord('p1', 'k', { exclusive: true }));
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) =>
          racers[i % racers.length]!.transition('p1', ['decided'], 'authorizing', {
            reference: `attempt-${i}`,
          }),
        ),
      );
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      for (const journal of racers) {
        expect(await journal.get('p1')).toEqual(winners[0]);
      }
    });

    if (options.reopen) {
      it('a reopened journal sees every purchase, state and key rule', async () => {
        const first = await make();
        await first.open(purchaseRecord('p1', 'order-1', { exclusive: true }));
        await first.open(purchaseRecord('p2', 'GET /x'));
        await first.transition('p2', ['decided'], 'authorizing', { reference: 'r2' }, T0 + 3);
        const second = await reopen(first);
        expect(await second.list()).toEqual(await first.list());
        expect((await second.open(purchaseRecord('p3', 'order-1', { exclusive: true }))).ok).toBe(
          false,
        );
        expect(await second.transition('p2', ['authorizing'], 'unknown')).toMatchObject({
          state: 'unknown',
          reference: 'r2',
        });
        expect((await first.get('p2'))?.state).toBe('unknown');
      });
    }
  });
}
