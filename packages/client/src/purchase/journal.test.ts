import { describe, expect, it } from 'vitest';
import { createMemoryPurchaseJournal, openConflict, type PurchaseRecord } from './journal.js';

let next = 0;
function record(overrides: Partial<PurchaseRecord> = {}): PurchaseRecord {
  next++;
  return {
    id: `s_${next}`,
    key: 'GET https://api.example.com/a',
    exclusive: false,
    state: 'decided',
    booked: true,
    reservationId: `r_${next}`,
    walletId: 'w',
    offerId: 'o',
    protocol: 'x402',
    scheme: 'exact',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/a',
    payee: '0xpayee',
    amount: { value: '1000', unit: 'token' },
    owner: 'p_1',
    createdAt: 0,
    updatedAt: 0,
    ...overrides,
  };
}

describe('createMemoryPurchaseJournal', () => {
  it('an idempotency key opens one purchase at a time, concurrently too', async () => {
    const journal = createMemoryPurchaseJournal();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => journal.open(record({ key: 'order-1', exclusive: true }))),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(1);
  });

  it('an idempotency key stays taken once delivered, and is free again once void', async () => {
    const journal = createMemoryPurchaseJournal();
    const first = record({ key: 'order-2', exclusive: true });
    await journal.open(first);
    await journal.transition(first.id, ['decided'], 'void');
    expect((await journal.open(record({ key: 'order-2', exclusive: true }))).ok).toBe(true);
    const [, second] = await journal.byKey('order-2');
    await journal.transition(second!.id, ['decided'], 'authorizing');
    await journal.transition(second!.id, ['authorizing'], 'signed');
    await journal.transition(second!.id, ['signed'], 'sent');
    await journal.transition(second!.id, ['sent'], 'delivered');
    const third = await journal.open(record({ key: 'order-2', exclusive: true }));
    expect(third.ok).toBe(false);
    expect(!third.ok && third.blocking.state).toBe('delivered');
  });

  it('an unknown outcome blocks every new purchase of its key until settled', async () => {
    const journal = createMemoryPurchaseJournal();
    const held = record({ state: 'unknown' });
    await journal.open({ ...held, state: 'decided' });
    await journal.transition(held.id, ['decided'], 'unknown');
    expect((await journal.open(record())).ok).toBe(false);
    await journal.transition(held.id, ['unknown'], 'void');
    expect((await journal.open(record())).ok).toBe(true);
  });

  it('calls without a key do not block each other', async () => {
    const journal = createMemoryPurchaseJournal();
    const results = await Promise.all(Array.from({ length: 5 }, () => journal.open(record())));
    expect(results.every((result) => result.ok)).toBe(true);
  });

  it('transition is compare-and-set: of two concurrent moves from one state, one wins', async () => {
    const journal = createMemoryPurchaseJournal();
    const one = record();
    await journal.open(one);
    const [a, b] = await Promise.all([
      journal.transition(one.id, ['decided'], 'authorizing'),
      journal.transition(one.id, ['decided'], 'void'),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
  });

  it('lists by state, and keeps a hot URL short: settled calls without a key leave byKey', async () => {
    const journal = createMemoryPurchaseJournal({ maxSettled: 3 });
    for (let index = 0; index < 10; index++) {
      const one = record();
      await journal.open(one);
      await journal.transition(one.id, ['decided'], 'void');
    }
    expect(await journal.byKey('GET https://api.example.com/a')).toEqual([]);
    expect((await journal.list({ states: ['void'] })).length).toBe(3);
  });

  it('openConflict is the one rule every journal applies', () => {
    expect(openConflict([record({ state: 'live' })], false)).toBeUndefined();
    expect(openConflict([record({ state: 'live', exclusive: true })], true)?.state).toBe('live');
    expect(openConflict([record({ state: 'paid' })], false)?.state).toBe('paid');
    expect(openConflict([record({ state: 'void', exclusive: true })], true)).toBeUndefined();
  });
});
