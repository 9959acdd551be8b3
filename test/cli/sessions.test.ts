/**
 * `stipend sessions` end to end, in-process from the sources: `stipend fetch` opens a
 * Lightning session on the testkit's `lightning/session` seller (an aperture stand-in over the
 * simulator) and the next runs use it from `sessions.jsonl` (the session journal of
 * `@stipend/stores/file`); `stipend sessions` lists it,
 * `stipend ledger` groups its records, `stipend sessions close` closes it with the refund
 * confirmed on the agent's own node. Money is compared three ways: the CLI's outputs, the
 * seller's books, the rail (the simulator).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createLightningNetwork,
  type LndRestStandIn,
  startLndRestStandIn,
} from '@stipend/testkit/lightning';
import { type LightningSessionServer, startLightningSessionServer } from '@stipend/testkit/mpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../packages/cli/src/io.js';
import { main } from '../../packages/cli/src/main.js';
import { memoryIo } from '../../packages/cli/src/test-io.test-helpers.js';

const network = createLightningNetwork();
const agent = network.createNode({ alias: 'agent' });
let server: LightningSessionServer;
// The agent's LND over REST: pays, and issues and looks up the return invoice of the refund.
let lnd: LndRestStandIn;
let home: string;

beforeAll(async () => {
  server = await startLightningSessionServer({ network, priceSats: 2n, depositSats: 40n });
  lnd = await startLndRestStandIn(network, { node: agent });
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

/** The ledger's records as `stipend ledger --export jsonl` prints them (amounts as strings). */
const ledgerRecords = async () =>
  (await stipend('ledger', '--export', 'jsonl')).out
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as {
          id: string;
          purchaseKey: string;
          status: string;
          reservedUsdMicros: string;
        },
    );

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

  it('stipend reconcile never releases or touches an open session’s deposit: it stays held, counted and at the seller', async () => {
    const opened = await stipend('fetch', `${server.url}generate?n=reconcile`);
    expect(opened.code, opened.err).toBe(EXIT.ok);
    const [view] = JSON.parse((await stipend('sessions', '--json')).out).sessions.filter(
      (s: { state: string }) => s.state === 'open',
    );
    expect(view).toBeDefined();
    const records = async () =>
      (await ledgerRecords()).filter((r) => r.purchaseKey === `session:${view.id}`);
    const deposit = (await records()).find((r) => r.reservedUsdMicros !== '0');
    expect(deposit).toMatchObject({ status: 'held' });
    const before = { ledger: await records(), rail: agentPayments().length };
    const heldBefore = JSON.parse((await stipend('ledger', '--json')).out).sessions.find(
      (t: { id: string }) => t.id === view.id,
    ).heldUsdMicros;
    // The deposit and its routing-fee cap: what the deposit record reserved.
    expect(heldBefore).toMatchObject({ value: deposit!.reservedUsdMicros });
    expect(BigInt(heldBefore.value)).toBeGreaterThanOrEqual(40_000n);

    const plain = await stipend('reconcile');
    expect(plain.code, plain.err).toBe(EXIT.ok);
    for (const as of ['void', 'paid']) {
      const byHand = await stipend('reconcile', '--resolve', `${deposit!.id}=${as}`);
      expect(byHand.code).toBe(EXIT.error);
      expect(byHand.err).toContain(
        `belongs to payment session ${view.id}, which reconcile never settles`,
      );
      expect(byHand.err).toContain(`stipend sessions close ${view.id}`);
    }

    // Nothing moved: the ledger's session records, the budget's hold, the session, the seller, the rail.
    expect(await records()).toEqual(before.ledger);
    const after = JSON.parse((await stipend('ledger', '--json')).out);
    expect(after.sessions.find((t: { id: string }) => t.id === view.id)).toMatchObject({
      state: 'open',
      heldUsdMicros: heldBefore,
    });
    const stored = JSON.parse((await stipend('sessions', '--json')).out).sessions.find(
      (s: { id: string }) => s.id === view.id,
    );
    expect(stored).toMatchObject({ state: 'open', deposit: view.deposit, spent: view.spent });
    expect(agentPayments()).toHaveLength(before.rail);
    const books = [...server.sessions.values()].find((b) => b.status !== 'closed');
    expect(books).toBeDefined();
    // The session is still usable, and closes with its refund as usual.
    expect((await stipend('fetch', `${server.url}generate?n=after`)).code).toBe(EXIT.ok);
    expect(agentPayments()).toHaveLength(before.rail);
    const closed = await stipend('sessions', 'close', view.id);
    expect(closed.code, closed.err).toBe(EXIT.ok);
    expect(closed.out).toContain('refunded 36 sat (confirmed on your node)');
  }, 60_000);

  it('secrets never reach an output: the bearer preimage is in sessions.jsonl only', async () => {
    const file = join(home, 'sessions.jsonl');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Journal lines `{ o, w, e: { t: 'p', record } }`, one per write of a session.
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => (JSON.parse(line) as { e: { record: { secret?: Record<string, string> } } }).e,
      );
    const secrets = records.flatMap((entry) => Object.values(entry.record.secret ?? {}));
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
      /no session ses_nope in .*sessions\.jsonl .*; stipend sessions lists them/,
    );
    const both = await stipend('sessions', 'close', 'ses_nope', '--all');
    expect(both.err).toMatch(/a session id or --all, not both/);
    const listAll = await stipend('sessions', '--all');
    expect(listAll.err).toMatch(/write stipend sessions close --all/);
    const verb = await stipend('sessions', 'open');
    expect(verb.err).toMatch(/unknown action "open": write stipend sessions/);
  });
});
