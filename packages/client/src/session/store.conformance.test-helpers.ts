/**
 * The conformance suite every {@link SessionStore} must pass (memory here; file, IndexedDB and
 * Redis in `@stipend/stores`): compare-and-set writes, at most one live session per scope
 * (also under concurrent creates, and across instances sharing the store), reads and filters,
 * bigint amounts kept exactly, the secret kept.
 *
 * Call {@link describeSessionStoreConformance} from a `*.test.ts` file, e.g. in
 * `@stipend/stores`: `import { describeSessionStoreConformance } from
 * '../../client/src/session/store.conformance.test-helpers.js'`.
 */
import { describe, expect, it } from 'vitest';
import { type SessionRecord, type SessionStore, scopeKey } from './types.js';

/** Options of {@link describeSessionStoreConformance}. */
export interface SessionStoreConformanceOptions {
  /** Opens a second instance on the same persisted state (another process, tab or machine). */
  readonly reopen?: (store: SessionStore) => Promise<SessionStore> | SessionStore;
}

const T0 = Date.UTC(2026, 0, 15, 12);

/**
 * A session record for tests (state `opening`, version 0).
 *
 * @example
 * ```ts
 * import { sessionRecord } from './store.conformance.test-helpers.js';
 * const record = sessionRecord('ses_1', { origin: 'https://a.example' });
 * ```
 */
export function sessionRecord(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const origin = overrides.origin ?? 'https://api.example.com';
  const realm = overrides.realm ?? 'api.example.com';
  const method = overrides.method ?? 'lightning';
  const walletId = overrides.walletId ?? 'wallet-1';
  return {
    id,
    scope: scopeKey(origin, realm, method, walletId),
    origin,
    realm,
    method,
    rail: `mpp:${method}.session`,
    walletId,
    unit: 'lightning:msat',
    payee: '02'.padEnd(66, 'a'),
    resource: `${origin}/generate`,
    unitPriceAtomic: 2_000n,
    depositAtomic: 0n,
    spentAtomic: 0n,
    refundedAtomic: 0n,
    uses: 0,
    state: 'opening',
    holds: [],
    version: 0,
    owner: 'p_test',
    createdAt: T0,
    updatedAt: T0,
    methodData: {},
    ...overrides,
  };
}

/**
 * Registers the conformance tests of a session store.
 *
 * @example
 * ```ts
 * import { createMemorySessionStore } from './memory.js';
 * import { describeSessionStoreConformance } from './store.conformance.test-helpers.js';
 * describeSessionStoreConformance('memory', () => createMemorySessionStore());
 * ```
 */
export function describeSessionStoreConformance(
  name: string,
  make: () => Promise<SessionStore> | SessionStore,
  options: SessionStoreConformanceOptions = {},
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    it('creates with expected version 0 once, and sets version 1', async () => {
      const store = await make();
      const first = await store.put(sessionRecord('ses_a'), 0);
      expect(first.ok && first.record.version).toBe(1);
      const again = await store.put(sessionRecord('ses_a'), 0);
      expect(again.ok).toBe(false);
      expect(!again.ok && again.current?.id).toBe('ses_a');
    });

    it('put is compare-and-set: a stale version is refused with the current record', async () => {
      const store = await make();
      const created = await store.put(sessionRecord('ses_b'), 0);
      if (!created.ok) throw new Error('create failed');
      const moved = await store.put({ ...created.record, state: 'open' }, 1);
      expect(moved.ok && moved.record.version).toBe(2);
      const stale = await store.put({ ...created.record, state: 'closing' }, 1);
      expect(stale.ok).toBe(false);
      expect(!stale.ok && stale.current?.state).toBe('open');
    });

    it('of concurrent writes from one version, exactly one wins', async () => {
      const store = await make();
      const created = await store.put(sessionRecord('ses_c'), 0);
      if (!created.ok) throw new Error('create failed');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.put({ ...created.record, uses: index + 1, spentAtomic: BigInt(index + 1) }, 1),
        ),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(1);
    });

    it('one live session per scope: a second create of the scope is refused, concurrently too', async () => {
      const store = await make();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => store.put(sessionRecord(`ses_d${index}`), 0)),
      );
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      const refused = results.find((result) => !result.ok);
      expect(refused && !refused.ok && refused.current?.state).toBe('opening');
    });

    it('a closed session frees its scope; another signer has its own scope', async () => {
      const store = await make();
      const first = await store.put(sessionRecord('ses_e1'), 0);
      if (!first.ok) throw new Error('create failed');
      expect((await store.put(sessionRecord('ses_e2', { walletId: 'wallet-2' }), 0)).ok).toBe(true);
      expect((await store.put(sessionRecord('ses_e3'), 0)).ok).toBe(false);
      await store.put({ ...first.record, state: 'closed' }, 1);
      expect((await store.put(sessionRecord('ses_e3'), 0)).ok).toBe(true);
    });

    it('an unknown outcome keeps the scope taken', async () => {
      const store = await make();
      const first = await store.put(sessionRecord('ses_f1'), 0);
      if (!first.ok) throw new Error('create failed');
      await store.put({ ...first.record, state: 'unknown' }, 1);
      expect((await store.put(sessionRecord('ses_f2'), 0)).ok).toBe(false);
    });

    it('keeps bigint amounts, holds, method data and the secret exactly', async () => {
      const store = await make();
      const big = 123_456_789_012_345_678_901_234_567_890n;
      await store.put(
        sessionRecord('ses_g', {
          depositAtomic: big,
          spentAtomic: 7n,
          holds: [
            {
              reservationId: 'r1',
              kind: 'open',
              atomic: big,
              feeAtomic: 3n,
              reservedUsdMicros: 99n,
              rate: { numerator: 1n, denominator: 1000n },
              reference: 'a'.repeat(64),
              state: 'paid',
            },
          ],
          methodData: { sessionId: 'b'.repeat(64), nested: { n: 1 } },
          secret: { bearer: 'c'.repeat(64) },
        }),
        0,
      );
      const stored = await store.get('ses_g');
      expect(stored?.depositAtomic).toBe(big);
      expect(stored?.holds[0]?.atomic).toBe(big);
      expect(stored?.holds[0]?.rate.denominator).toBe(1000n);
      expect(stored?.methodData).toEqual({ sessionId: 'b'.repeat(64), nested: { n: 1 } });
      expect(stored?.secret).toEqual({ bearer: 'c'.repeat(64) });
    });

    it('lists by state, origin and method, and finds by scope', async () => {
      const store = await make();
      const a = await store.put(sessionRecord('ses_h1'), 0);
      await store.put(sessionRecord('ses_h2', { origin: 'https://b.example', realm: 'b' }), 0);
      if (a.ok) await store.put({ ...a.record, state: 'open' }, 1);
      expect((await store.list({ states: ['open'] })).map((r) => r.id)).toContain('ses_h1');
      expect((await store.list({ states: ['open'] })).map((r) => r.id)).not.toContain('ses_h2');
      expect((await store.list({ origin: 'https://b.example' })).map((r) => r.id)).toEqual([
        'ses_h2',
      ]);
      const scoped = await store.byScope('https://b.example', 'b', 'lightning');
      expect(scoped.map((r) => r.id)).toEqual(['ses_h2']);
      expect(await store.get('ses_missing')).toBeUndefined();
    });

    it('a record read cannot change the stored one', async () => {
      const store = await make();
      await store.put(sessionRecord('ses_i'), 0);
      const read = (await store.get('ses_i')) as { state: string };
      try {
        read.state = 'closed';
      } catch {
        // frozen: fine
      }
      expect((await store.get('ses_i'))?.state).toBe('opening');
    });

    if (options.reopen) {
      const reopen = options.reopen;
      it('across instances: one live session per scope, and compare-and-set holds', async () => {
        const one = await make();
        const two = await reopen(one);
        const [a, b] = await Promise.all([
          one.put(sessionRecord('ses_j1'), 0),
          two.put(sessionRecord('ses_j2'), 0),
        ]);
        expect([a, b].filter((result) => result.ok)).toHaveLength(1);
        const winner = (a.ok ? a : b) as { ok: true; record: SessionRecord };
        const [x, y] = await Promise.all([
          one.put({ ...winner.record, state: 'open' }, 1),
          two.put({ ...winner.record, state: 'unknown' }, 1),
        ]);
        expect([x, y].filter((result) => result.ok)).toHaveLength(1);
      });
    }
  });
}
