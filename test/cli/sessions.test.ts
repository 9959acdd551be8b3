/**
 * `stipend sessions` end to end, in-process from the sources: `stipend fetch` opens a
 * Lightning session on the testkit's `lightning/session` seller (an aperture stand-in over the
 * simulator) and the next runs use it from `sessions.json`; `stipend sessions` lists it,
 * `stipend ledger` groups its records, `stipend sessions close` closes it with the refund
 * confirmed on the agent's own node. Money is compared three ways: the CLI's outputs, the
 * seller's books, the rail (the simulator).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLightningNetwork } from '@stipend/testkit/lightning';
import { type LightningSessionServer, startLightningSessionServer } from '@stipend/testkit/mpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../packages/cli/src/io.js';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';
import { type AgentLnd, startAgentLnd } from './lnd-invoices.fixture.js';

const network = createLightningNetwork();
const agent = network.createNode({ alias: 'agent' });
let server: LightningSessionServer;
let lnd: AgentLnd;
let home: string;

beforeAll(async () => {
  server = await startLightningSessionServer({ network, priceSats: 2n, depositSats: 40n });
  lnd = await startAgentLnd(network, agent);
  home = mkdtempSync(join(tmpdir(), 'stipend-sessions-e2e-'));
  writeFileSync(
    join(home, 'policy.json'),
    JSON.stringify({
      global: {
        maxPerRequest: { usd: '0.01' },
        limits: [{ usd: '5', window: { calendar: 'day' } }],
      },
      hosts: { '127.0.0.1': { maxDeposit: { usd: '0.10' } } },
    }),
  );
});
afterAll(async () => {
  await server.close();
  await lnd.close();
  network.close();
});

async function stipend(...args: string[]) {
  const io = memoryIo({
    env: {
      STIPEND_HOME: home,
      STIPEND_LND_REST_URL: lnd.url,
      STIPEND_LND_MACAROON: lnd.macaroonHex,
      STIPEND_LIGHTNING_NETWORK: 'regtest',
      STIPEND_BTC_USD: '100000',
    },
  });
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

const agentPayments = () =>
  network.payments.filter((p) => p.payer === 'agent' && p.status === 'succeeded');

describe('stipend sessions', () => {
  it('fetch opens one session and later runs use it; sessions lists it; close refunds what was not spent: CLI = seller = rail', async () => {
    for (let i = 0; i < 3; i++) {
      const run = await stipend('fetch', `${server.url}generate?n=${i}`);
      expect(run.code, run.err).toBe(EXIT.ok);
    }
    // One deposit on the rail for three calls, one session at the seller.
    expect(agentPayments()).toHaveLength(1);
    expect(server.sessions.size).toBe(1);
    const [books] = [...server.sessions.values()];
    expect(books!.uses).toBe(3);

    const listed = await stipend('sessions', '--json');
    expect(listed.code).toBe(EXIT.ok);
    const [view] = JSON.parse(listed.out).sessions;
    expect(view).toMatchObject({
      state: 'open',
      method: 'lightning',
      origin: server.origin,
      uses: 3,
      deposit: { value: '40000', unit: 'lightning:msat', display: '40 sat' },
      spent: { value: '6000', display: '6 sat' },
    });
    const table = await stipend('sessions');
    expect(table.out).toContain(view.id);
    expect(table.out).toMatch(/open .*40 sat .*6 sat \(3 uses\)/);
    expect(table.out).toContain('stipend sessions close --all');

    // While open, the deposit is held by the session, not a purchase of unknown outcome.
    const ledgerOpen = await stipend('ledger');
    expect(ledgerOpen.out).not.toContain('whose outcome is unknown');
    expect(ledgerOpen.out).toMatch(new RegExp(`${view.id} .* open .*40 sat .*6 sat \\(3 uses\\)`));

    const closed = await stipend('sessions', 'close', view.id);
    expect(closed.code, closed.err).toBe(EXIT.ok);
    expect(closed.out).toContain(
      `✓ ${view.id} closed: deposit 40 sat, spent 6 sat (3 uses), refunded 34 sat (confirmed on your node).`,
    );
    // The seller's books and the rail say the same.
    expect(books!.status).toBe('closed');
    expect(books!.spentSats).toBe(6n);
    expect(books!.refundedSats).toBe(34n);
    expect(agentPayments().reduce((s, p) => s + (p.amountMsat ?? 0n), 0n)).toBe(40_000n);

    const ledger = JSON.parse((await stipend('ledger', '--json')).out);
    expect(ledger.held).toEqual([]);
    expect(ledger.sessions).toHaveLength(1);
    expect(ledger.sessions[0]).toMatchObject({
      id: view.id,
      state: 'closed',
      uses: 3,
      deposit: { value: '40000' },
      spent: { value: '6000' },
      refunded: { value: '34000' },
      // $100,000 per BTC: 1 msat = 1 µUSD; spent 6 sat + the routing fee.
      heldUsdMicros: { value: '0' },
    });
    const fee = agentPayments()[0]!.feeMsat ?? 0n;
    expect(ledger.sessions[0].committedUsdMicros.value).toBe(String(6_000n + fee));

    const again = await stipend('sessions', 'close', '--all');
    expect(again.out).toContain('Nothing to close');
  }, 60_000);

  it('secrets never reach an output: the bearer preimage is in sessions.json only', async () => {
    const file = JSON.parse(readFileSync(join(home, 'sessions.json'), 'utf8'));
    const secrets = Object.values(
      file.sessions as Record<string, { secret?: Record<string, string> }>,
    ).flatMap((s) => Object.values(s.secret ?? {}));
    expect(secrets.length).toBeGreaterThan(0);
    const outputs = [
      await stipend('sessions'),
      await stipend('sessions', '--json'),
      await stipend('ledger'),
      await stipend('ledger', '--json'),
      await stipend('ledger', '--export', 'jsonl'),
    ].map((run) => run.out + run.err);
    for (const secret of secrets) for (const out of outputs) expect(out).not.toContain(secret);
  });

  it('every message names its fix: close without an id, an unknown id, list with --all', async () => {
    const none = await stipend('sessions', 'close');
    expect(none.code).toBe(EXIT.usage);
    expect(none.err).toMatch(/needs a session id \(stipend sessions lists them\) or --all/);
    const unknown = await stipend('sessions', 'close', 'ses_nope');
    expect(unknown.code).toBe(EXIT.error);
    expect(unknown.err).toMatch(
      /no session ses_nope in .*sessions\.json .*; stipend sessions lists them/,
    );
    const both = await stipend('sessions', 'close', 'ses_nope', '--all');
    expect(both.err).toMatch(/a session id or --all, not both/);
    const listAll = await stipend('sessions', '--all');
    expect(listAll.err).toMatch(/write stipend sessions close --all/);
    const verb = await stipend('sessions', 'open');
    expect(verb.err).toMatch(/unknown action "open": write stipend sessions/);
  });
});
