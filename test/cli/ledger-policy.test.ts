/**
 * `stipend ledger` and `stipend policy check` (the BUILT binary, as a process), on files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, policyFile, stipend, tempHome } from './cli.test-helpers.js';

/** A spend record as the ledger file holds it (bigints as strings). */
function record(fields: Record<string, unknown>) {
  return {
    id: `s_${Math.random().toString(16).slice(2)}`,
    purchaseKey: 'k',
    reservationId: 'r',
    protocol: 'x402',
    scheme: 'exact',
    method: 'GET',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/data',
    payee: '0xabc',
    offerId: 'o',
    amount: {
      value: '1000',
      unit: { kind: 'token', network: 'eip155:8453', asset: '0x8335', decimals: 6, symbol: 'USDC' },
    },
    reservedUsdMicros: '1000',
    rate: { numerator: '1', denominator: '1', source: 'peg', asOf: 0 },
    walletId: 'evm:0x1',
    status: 'committed',
    committedUsdMicros: '1000',
    tags: [],
    createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    updatedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
    ...fields,
  };
}

let dir: string;
let ledger: string;

beforeAll(() => {
  assertBuilt();
  dir = tempHome();
  ledger = join(dir, 'ledger.jsonl');
  const pending = record({ id: 's_two', status: 'pending', committedUsdMicros: undefined });
  const lines = [
    record({ id: 's_one' }),
    pending,
    // A later state of the same record: the last line of an id wins.
    { ...pending, status: 'committed', committedUsdMicros: '900', outcome: 'accepted' },
    record({
      id: 's_three',
      protocol: 'l402',
      scheme: 'bolt11',
      origin: 'https://quotes.example.net',
      payee: 'unverified',
      amount: { value: '100000', unit: { kind: 'msat' } },
      reservedUsdMicros: '111000',
      committedUsdMicros: undefined,
      status: 'held',
      tags: ['research', 'q"1'],
    }),
    record({
      id: 's_four',
      status: 'released',
      committedUsdMicros: undefined,
      failure: { code: 'VERIFICATION_FAILED', message: 'bad, "signature"' },
    }),
  ];
  writeFileSync(ledger, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
});

describe('stipend ledger', () => {
  it('held purchases first, then totals per host and rail, with what moved nothing', async () => {
    const run = await stipend(['ledger', '--ledger', ledger]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `Ledger ${ledger} (4 records)`,
        '',
        'Held — 1 purchase whose outcome is unknown (the money may have moved; its budget stays reserved):',
        'record   since                 host                rail         amount     held  reference',
        '-------  --------------------  ------------------  -----------  -------  ------  ---------------------------',
        's_three  2026-01-02T03:04:05Z  quotes.example.net  l402:bolt11  100 sat  $0.111  none (the wallet gave none)',
        'Settle them with: stipend reconcile (asks each wallet), or, once you know the answer,',
        '  stipend reconcile --resolve <record>=paid   (it was paid)   or   --resolve <record>=void   (nothing moved)',
        '',
        'host                rail         paid    spent  unknown outcome  refused, nothing moved',
        '------------------  -----------  ----  -------  ---------------  ----------------------',
        'api.example.com     x402:exact      2  $0.0019  0                1',
        'quotes.example.net  l402:bolt11     0    $0.00  1 ($0.111)       0',
        '',
        'Total: 2 payments, $0.0019 spent; $0.111 held until their outcome is known.',
        '',
      ].join('\n'),
    );
  });

  it('exports JSON lines (final states) and CSV', async () => {
    const jsonl = await stipend(['ledger', '--ledger', ledger, '--export', 'jsonl']);
    const records = jsonl.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.map((r) => `${r.id} ${r.status} ${r.committedUsdMicros ?? '-'}`)).toEqual([
      's_one committed 1000',
      's_two committed 900',
      's_three held -',
      's_four released -',
    ]);
    const csv = await stipend(['ledger', '--ledger', ledger, '--export', 'csv']);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe(
      'id,created_at,status,outcome,method,resource,host,protocol,scheme,payee,network,amount,amount_atomic,unit,reserved_usd,committed_usd,wallet,reference,receipt,tags,failure',
    );
    expect(rows[1]).toBe(
      's_one,2026-01-02T03:04:05.000Z,committed,,GET,https://api.example.com/data,api.example.com,x402,exact,0xabc,,0.001 USDC,1000,eip155:8453/0x8335,0.001,0.001,evm:0x1,,,,',
    );
    expect(rows[3]).toContain(',100 sat,100000,lightning:msat,0.111,,');
    expect(rows[3]).toContain(',"research q""1",');
    expect(rows[4]).toMatch(/,"VERIFICATION_FAILED: bad, ""signature"""$/);
  });

  it('refuses a bad option and reads an empty ledger kindly', async () => {
    const bad = await stipend(['ledger', '--export', 'xml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('--export must be jsonl or csv, not "xml"\n');
    const empty = await stipend(['ledger'], { env: { STIPEND_HOME: tempHome() } });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(
      /\(0 records\)\n\nThe ledger is empty: nothing has been paid yet\.\n$/,
    );
  });
});

describe('stipend policy check', () => {
  it('explains a valid policy in plain words', async () => {
    const path = policyFile(dir, {
      global: {
        maxPerRequest: { usd: '0.10' },
        limits: [
          { usd: '5', window: { calendar: 'day' } },
          { usd: '1', window: { rolling: '1h' } },
        ],
        maxRequests: [{ count: 100, window: { calendar: 'day' } }],
        protocols: { allow: ['x402', 'l402'] },
      },
      hosts: {
        'api.example.com': { approveAbove: '0.05' },
        '*.sketchy.dev': { action: 'deny' },
      },
      tags: { research: { limits: [{ usd: '0.50', window: { calendar: 'week' } }] } },
      prefer: ['l402', 'x402:exact'],
    });
    const run = await stipend(['policy', 'check', path]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `✓ ${path} is a valid policy.`,
        '',
        'Everywhere (global):',
        '  • at most $0.10 per payment, fees included',
        '  • at most $5.00 per UTC day',
        '  • at most $1.00 in any hour',
        '  • at most 100 payments per UTC day',
        '  • protocols: only x402, l402',
        '',
        'On api.example.com (hosts["api.example.com"]), also:',
        '  • a person approves any payment above $0.05',
        '',
        'On any subdomain of sketchy.dev (hosts["*.sketchy.dev"]), also:',
        '  • nothing is paid (action "deny")',
        '',
        'For calls tagged "research", also:',
        '  • at most $0.50 per ISO week (UTC)',
        '',
        'Every matching rule applies at once and the most restrictive value wins (deny > ask > allow, the lowest cap, every limit). Each host and tag rule counts its limits separately.',
        'Among equally cheap offers, prefer: l402, x402:exact.',
        'A person has 120 s to answer an approval; no answer is a no.',
        'Prices older than 300 s are not used.',
        '',
      ].join('\n'),
    );
  });

  it('says which field to fix in an invalid policy, and what a missing global means', async () => {
    const bad = policyFile(dir, { global: { maxPerRequest: { usd: '0.1.0' } } }, 'bad.json');
    const run = await stipend(['policy', 'check', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^✗ ${bad} has a mistake:\n  ${bad}:1:29 policy\\.global\\.maxPerRequest\\.usd: `),
    );
    const typo = policyFile(dir, { global: { maxPerRequests: { usd: '1' } } }, 'typo.json');
    expect((await stipend(['policy', 'check', typo])).stderr).toMatch(/maxPerRequests/);
    const notJson = join(dir, 'broken.json');
    writeFileSync(notJson, '{ global: ');
    expect((await stipend(['policy', 'check', notJson])).stderr).toMatch(
      /^✗ .*broken\.json has a mistake:\n {2}.*broken\.json:1:3 not valid JSON: unexpected "g" \(expected a field name/,
    );

    const hostsOnly = policyFile(dir, { hosts: { '*': { action: 'ask' } } }, 'hosts-only.json');
    const explained = await stipend(['policy', 'check', hostsOnly]);
    expect(explained.stdout).toContain(
      'Everywhere — no global rule is written, so the fail-closed defaults apply:\n  • at most $0.10 per payment, fees included\n  • at most $1.00 per UTC day\n',
    );
    expect(explained.stdout).toContain(
      'On every host (hosts["*"]), also:\n  • a person approves every payment (action "ask")\n',
    );
  });
});
