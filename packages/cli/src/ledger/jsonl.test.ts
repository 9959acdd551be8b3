import { appendFileSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpendRecord } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { toJson } from '../output/json.js';
import { formatJsonl, openJsonlLedger, readLedgerFile } from './jsonl.js';

const record: SpendRecord = {
  id: 's_1',
  purchaseKey: 'GET https://a.example/x',
  reservationId: 'r_1',
  protocol: 'l402',
  scheme: 'bolt11',
  method: 'GET',
  origin: 'https://a.example',
  resource: 'https://a.example/x',
  payee: 'unverified',
  offerId: 'l402:1',
  amount: { value: 100_000n, unit: { kind: 'msat' } },
  reservedUsdMicros: 111_000n,
  rate: { numerator: 1n, denominator: 1000n, source: 'fixed', asOf: 5 },
  walletId: 'lightning',
  status: 'pending',
  tags: ['t'],
  createdAt: 10,
  updatedAt: 10,
};

describe('the JSON-lines ledger', () => {
  it('appends every state, reads the last one back with its bigints, and keeps history', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'stipend-ledger-')), 'sub', 'ledger.jsonl');
    const ledger = openJsonlLedger(path);
    ledger.append(record);
    ledger.update('s_1', { status: 'committed', committedUsdMicros: 101_100n, updatedAt: 11 });
    expect(() => ledger.append(record)).toThrow(/already exists/);
    expect(() => ledger.update('nope', {})).toThrow(/no spend record nope/);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const reread = readLedgerFile(path);
    expect(reread).toEqual([
      { ...record, status: 'committed', committedUsdMicros: 101_100n, updatedAt: 11 },
    ]);
    const reopened = openJsonlLedger(path);
    expect(reopened.history).toEqual(reread);
    expect(reopened.get('s_1')?.committedUsdMicros).toBe(101_100n);
    expect(formatJsonl(reread)).toContain('"committedUsdMicros":"101100"');
  });

  it('skips a torn last line, refuses a damaged one elsewhere, and reads a missing file as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-ledger-'));
    expect(readLedgerFile(join(dir, 'none.jsonl'))).toEqual([]);
    const torn = join(dir, 'torn.jsonl');
    appendFileSync(torn, `${formatJsonl([record])}{"id":"s_2","purch`);
    expect(readLedgerFile(torn).map((r) => r.id)).toEqual(['s_1']);
    const damaged = join(dir, 'damaged.jsonl');
    appendFileSync(damaged, `garbage\n${formatJsonl([record])}${formatJsonl([record])}`);
    expect(() => readLedgerFile(damaged)).toThrow(/damaged\.jsonl:1 is not JSON/);
    const wrong = join(dir, 'wrong.jsonl');
    appendFileSync(wrong, `${toJson({ ...record, reservedUsdMicros: 1.5 })}\n`);
    expect(() => readLedgerFile(wrong)).toThrow(
      /wrong\.jsonl:1: reservedUsdMicros is not an integer string/,
    );
  });
});
