import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpendRecord } from '@stipend/client';
import { afterAll, describe, expect, it } from 'vitest';
import { spendRecord } from '../ledger/fixtures.test-helpers.js';
import {
  createFileBudgetStore,
  createFileLedger,
  exportLedgerCsv,
  exportLedgerJsonl,
} from './index.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-file-'));
let n = 0;
const fresh = (name: string) => join(folder, `${name}-${n++}.jsonl`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('file ledger', () => {
  it('appends, updates and lists records across instances and reopening', async () => {
    const path = fresh('ledger');
    const a = createFileLedger({ path });
    const b = createFileLedger({ path });
    await a.append(spendRecord('s1'));
    await b.append(
      spendRecord('s2', { amount: { value: 2n ** 80n, unit: spendRecord('x').amount.unit } }),
    );
    await a.update('s2', { status: 'committed', committedUsdMicros: 1_500n, updatedAt: 5 });
    const listed = await b.list();
    expect(listed.map((r) => [r.id, r.status, r.committedUsdMicros])).toEqual([
      ['s1', 'pending', undefined],
      ['s2', 'committed', 1_500n],
    ]);
    expect(listed[1]?.amount.value).toBe(2n ** 80n);
    expect(Object.isFrozen(listed[0])).toBe(true);
    await a.close();
    await b.close();
    const again = createFileLedger({ path });
    expect(await again.list()).toEqual(listed);
    await again.close();
  });

  it('refuses a duplicate append and an update of an unknown record, writing nothing', async () => {
    const path = fresh('ledger');
    const ledger = createFileLedger({ path });
    await ledger.append(spendRecord('s1'));
    await expect(ledger.append(spendRecord('s1'))).rejects.toMatchObject({
      code: 'LEDGER_CONFLICT',
    });
    await expect(ledger.update('nope', { status: 'released' })).rejects.toMatchObject({
      code: 'LEDGER_NOT_FOUND',
    });
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(1);
    await ledger.close();
  });

  it('exports what it stored', async () => {
    const ledger = createFileLedger({ path: fresh('ledger') });
    const record: SpendRecord = spendRecord('s1', { failure: { code: 'X', message: 'a, "b"' } });
    await ledger.append(record);
    const records = await ledger.list();
    expect(exportLedgerJsonl(records)).toBe(exportLedgerJsonl([record]));
    expect(exportLedgerCsv(records)).toContain('"a, ""b"""');
    await ledger.close();
  });
});

describe('file budget store', () => {
  it('writes one fsynced journal line per state change and reports counters', async () => {
    const path = fresh('budget');
    const store = createFileBudgetStore({ path });
    const limits = [{ scope: 'g', window: { kind: 'total' as const }, maxUsdMicros: 10n }];
    const now = Date.UTC(2024, 0, 1);
    await store.reserve({ id: 'a', limits, usdMicros: 5n, now, expiresAt: now });
    await store.reserve({ id: 'a', limits, usdMicros: 5n, now, expiresAt: now });
    await store.commit('a', 4n);
    const lines = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.e.t)).toEqual(['r', 'c']);
    expect(lines[0].e.usd).toEqual({ $b: '5' });
    expect(store.fileStats()).toEqual({
      conflicts: 0,
      replayed: 0,
      junkLines: 0,
      voidLines: 0,
      staleLocksBroken: 0,
    });
    const reader = createFileBudgetStore({ path });
    expect((await reader.get('a'))?.committedUsdMicros).toBe(4n);
    expect(reader.fileStats().replayed).toBe(2);
    await store.close();
    await reader.close();
    await expect(store.get('a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
