import { describe, expect, it } from 'vitest';
import { exportLedgerCsv, exportLedgerJsonl, LEDGER_CSV_COLUMNS } from './export.js';
import { spendRecord } from './fixtures.test-helpers.js';

/** A small RFC 4180 parser, to check that quoting round-trips. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('exportLedgerJsonl', () => {
  it('writes one line per record with bigints as decimal strings', () => {
    const text = exportLedgerJsonl([
      spendRecord('a', { committedUsdMicros: 2n ** 70n, status: 'committed' }),
      spendRecord('b'),
    ]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const first = JSON.parse(lines[0]!);
    expect(first.committedUsdMicros).toBe('1180591620717411303424');
    expect(first.amount).toMatchObject({ value: '1000', unit: { decimals: 6 } });
    expect(first.rate).toMatchObject({ numerator: '1', denominator: '1' });
    expect(JSON.parse(lines[1]!).id).toBe('b');
    expect(exportLedgerJsonl([])).toBe('');
  });
});

describe('exportLedgerCsv', () => {
  it('writes a header and one quoted-as-needed row per record', () => {
    const tricky = spendRecord('id,1', {
      resource: 'https://api.example.com/search?q="a, b"\nnext',
      failure: { code: 'SETTLE_FAILED', message: 'said "no"\r\nand left' },
      committedUsdMicros: 999n,
      tags: ['x', 'y;z'],
    });
    const text = exportLedgerCsv([tricky, spendRecord('plain')]);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual([...LEDGER_CSV_COLUMNS]);
    expect(rows).toHaveLength(3);
    const row = Object.fromEntries(LEDGER_CSV_COLUMNS.map((c, i) => [c, rows[1]![i]]));
    expect(row).toMatchObject({
      id: 'id,1',
      resource: 'https://api.example.com/search?q="a, b"\nnext',
      failureMessage: 'said "no"\r\nand left',
      failureCode: 'SETTLE_FAILED',
      amount: '1000',
      unit: 'eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913',
      committedUsdMicros: '999',
      reservedUsdMicros: '1000',
      tags: 'x;y;z',
      createdAt: '1700000000000',
      outcome: '',
    });
    expect(rows[2]![0]).toBe('plain');
    expect(rows[2]![LEDGER_CSV_COLUMNS.indexOf('committedUsdMicros')]).toBe('');
  });

  it('defuses spreadsheet formulas in text cells unless told not to', () => {
    const hostile = spendRecord('=1+1', {
      payee: '@SUM(A1)',
      failure: { code: 'X', message: '=HYPERLINK("http://evil","click")' },
    });
    const row = parseCsv(exportLedgerCsv([hostile]))[1]!;
    expect(row[0]).toBe("'=1+1");
    expect(row[LEDGER_CSV_COLUMNS.indexOf('payee')]).toBe("'@SUM(A1)");
    expect(row[LEDGER_CSV_COLUMNS.indexOf('failureMessage')]).toBe(
      `'=HYPERLINK("http://evil","click")`,
    );
    const raw = parseCsv(exportLedgerCsv([hostile], { guardFormulas: false }))[1]!;
    expect(raw[0]).toBe('=1+1');
  });
});
