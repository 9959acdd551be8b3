import { describe, expect, it } from 'vitest';
import { spendRecord } from '../fixtures.test-helpers.js';
import { checkRecord, ledgerView, parseFilter } from './ledger.js';

describe('checkRecord: hostile or malformed records become invalid rows, never break the view', () => {
  it('a well-formed record becomes a row of text', () => {
    const checked = checkRecord(spendRecord({ tags: ['research'] }));
    expect('row' in checked && checked.row).toMatchObject({
      id: 'p_fixture',
      status: 'committed',
      host: 'api.example.com',
      rail: 'x402:exact',
      amount: '0.01 USDC',
      usd: '$0.01',
      usdMicros: '10000',
      tags: ['research'],
    });
  });

  it.each([
    ['not an object', null, 'not an object'],
    ['a number id', { id: 7 }, 'id is not a string'],
    ['an unknown status', { status: 'stolen' }, 'status is not known'],
    ['an origin that is not a URL', { origin: 'javascript:alert(1)//x y' }, 'origin is not a URL'],
    [
      'money as a JavaScript number',
      { reservedUsdMicros: 10_000 },
      'reservedUsdMicros is not a bigint',
    ],
    ['negative money', { committedUsdMicros: -1n }, 'committedUsdMicros is not a bigint'],
    ['an amount without unit', { amount: { value: 1n } }, 'amount is not an amount'],
    ['tags that are objects', { tags: [{ toString: 'x' }] }, 'tags are not a list of strings'],
    ['a time as text', { createdAt: 'yesterday' }, 'a time is not a number'],
    ['an object payee', { payee: { html: '<b>' } }, 'payee is not a string'],
    ['no rate', { rate: undefined }, 'rate is not a rate'],
  ])('%s', (_name, patch, problem) => {
    const value = patch === null ? null : spendRecord(patch as never);
    const checked = checkRecord(value);
    expect(checked).toMatchObject({ invalid: true, problem });
  });

  it('HTML stays the same text (the page writes it with textContent); control characters and megabytes are cut', () => {
    const html = '<img src=x onerror=alert(1)>';
    const checked = checkRecord(
      spendRecord({
        payee: html,
        resource: `https://a.example/${'x'.repeat(1_000_000)}`,
        method: 'GET\u2028<script>',
      }),
    );
    if (!('row' in checked)) throw new Error('expected a row');
    expect(checked.row.payee).toBe(html);
    expect(checked.row.resource.length).toBe(300);
    expect(checked.row.resource.endsWith('…')).toBe(true);
    expect(checked.row.method).toBe('GET<script>');
  });
});

describe('ledgerView', () => {
  const records = [
    spendRecord({ id: 'a', origin: 'https://one.example', tags: ['t1'], createdAt: 1000 }),
    spendRecord({
      id: 'b',
      origin: 'https://two.example',
      protocol: 'l402',
      scheme: 'bolt11',
      status: 'held',
      createdAt: 2000,
    }),
    { id: 'bad' },
  ].map(checkRecord);

  it('is newest first, with invalid rows shown only unfiltered or under status=invalid', () => {
    expect(ledgerView(records, {}, 10).rows.map((r) => r.id)).toEqual(['bad', 'b', 'a']);
    expect(ledgerView(records, { host: 'one.example' }, 10).rows.map((r) => r.id)).toEqual(['a']);
    expect(ledgerView(records, { status: 'invalid' }, 10).rows.map((r) => r.id)).toEqual(['bad']);
    expect(ledgerView(records, { rail: 'l402:bolt11' }, 10).rows.map((r) => r.id)).toEqual(['b']);
    expect(ledgerView(records, { tag: 't1' }, 10).rows.map((r) => r.id)).toEqual(['a']);
    expect(ledgerView(records, { from: 1500 }, 10).rows.map((r) => r.id)).toEqual(['b']);
    expect(ledgerView(records, { to: 1500 }, 10).rows.map((r) => r.id)).toEqual(['a']);
    const view = ledgerView(records, {}, 1);
    expect(view).toMatchObject({ matching: 3, total: 3, invalid: 1 });
    expect(view.rows).toHaveLength(1);
    expect(view.facets).toEqual({
      hosts: ['one.example', 'two.example'],
      rails: ['l402:bolt11', 'x402:exact'],
      tags: ['t1'],
    });
  });

  it('parseFilter keeps only known parameters and integer times', () => {
    expect(parseFilter(new URLSearchParams('host=ONE.example&from=12&to=soon&evil=1'))).toEqual({
      host: 'one.example',
      from: 12,
    });
  });
});
