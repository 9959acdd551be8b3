import { describe, expect, it } from 'vitest';
import { type LightningPaymentRecord, memoryPaymentStore } from './payments.js';

const record = (
  paymentHash: string,
  state: LightningPaymentRecord['state'],
): LightningPaymentRecord => ({
  paymentHash,
  invoice: 'lnbcrt1…',
  origin: 'https://api.example.com',
  rail: 'l402:bolt11',
  amountMsat: '1000',
  maxFeeMsat: '10',
  state,
  startedAt: 1,
  updatedAt: 1,
});

describe('memoryPaymentStore', () => {
  it('pending() lists exactly the records still pending: a settled record leaves it, a record put back to pending returns', async () => {
    const store = memoryPaymentStore();
    await store.put(record('a'.repeat(64), 'pending'));
    await store.put(record('b'.repeat(64), 'pending'));
    await store.put(record('c'.repeat(64), 'succeeded'));
    expect((await store.pending()).map((r) => r.paymentHash[0])).toEqual(['a', 'b']);

    await store.put(record('a'.repeat(64), 'succeeded'));
    await store.put(record('b'.repeat(64), 'failed'));
    expect(await store.pending()).toEqual([]);
    expect((await store.get('a'.repeat(64)))?.state).toBe('succeeded');

    await store.put(record('c'.repeat(64), 'pending'));
    expect((await store.pending()).map((r) => r.paymentHash[0])).toEqual(['c']);
  });

  it('keeps a copy: changing the record put does not change what is stored', async () => {
    const store = memoryPaymentStore();
    const mine = { ...record('d'.repeat(64), 'pending') };
    await store.put(mine);
    (mine as { state: string }).state = 'succeeded';
    expect((await store.get('d'.repeat(64)))?.state).toBe('pending');
    expect(await store.pending()).toHaveLength(1);
  });
});
