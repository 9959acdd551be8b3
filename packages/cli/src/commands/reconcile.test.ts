import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpendRecord } from '@stipend/client';
import { describe, expect, it, vi } from 'vitest';
import { EXIT } from '../io.js';
import { openJsonlLedger } from '../ledger/jsonl.js';
import { memoryIo } from '../test-io.test-helpers.js';

/** The paying fetch's reconcile, as the command calls it; it settles the record it is told. */
const reconcile = vi.fn();
let ledgerPath = '';
vi.mock('./session.js', () => ({
  openSession: () => {
    const ledger = openJsonlLedger(ledgerPath);
    reconcile.mockImplementation(async (options?: { resolve?: { id: string; as: string } }) => {
      if (options?.resolve) {
        ledger.update(options.resolve.id, {
          status: options.resolve.as === 'paid' ? 'committed' : 'released',
        });
      }
      return { committed: 0, released: options?.resolve ? 1 : 0, pending: 0 };
    });
    return {
      ledger,
      payingFetch: { reconcile },
      progress: { step() {}, stop() {}, pause() {}, resume() {} },
      close: async () => {},
    };
  },
}));

const { reconcileCommand, parseResolution } = await import('./reconcile.js');
const { ledgerCommand } = await import('./ledger.js');

function heldLedger(): string {
  ledgerPath = join(mkdtempSync(join(tmpdir(), 'stipend-reconcile-')), 'ledger.jsonl');
  const ledger = openJsonlLedger(ledgerPath);
  const base = {
    purchaseKey: 'k',
    reservationId: 'r',
    protocol: 'x402',
    scheme: 'exact',
    method: 'GET',
    origin: 'http://127.0.0.1:4021',
    resource: 'http://127.0.0.1:4021/weather',
    payee: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    offerId: 'o',
    amount: {
      value: 1000n,
      unit: {
        kind: 'token',
        network: 'eip155:31337',
        asset: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        decimals: 6,
        symbol: 'USDC',
        peg: 'USD',
      },
    },
    reservedUsdMicros: 1000n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg', asOf: 0 },
    walletId: 'evm:0x1',
    tags: [],
    createdAt: Date.UTC(2026, 0, 2),
    updatedAt: Date.UTC(2026, 0, 2),
  } as const;
  ledger.append({
    ...base,
    id: 's_paid',
    status: 'committed',
    committedUsdMicros: 1000n,
  } as SpendRecord);
  ledger.append({ ...base, id: 's_held', status: 'held', reference: '0xabc123' } as SpendRecord);
  return ledgerPath;
}

describe('stipend ledger shows held purchases first', () => {
  it('lists each held record with its reference and how to settle it, before the totals', async () => {
    const io = memoryIo();
    expect(await ledgerCommand(['--ledger', heldLedger()], io)).toBe(EXIT.ok);
    const out = io.out();
    expect(out.indexOf('Held — 1 purchase')).toBeGreaterThan(-1);
    expect(out.indexOf('Held — 1 purchase')).toBeLessThan(out.indexOf('Total:'));
    expect(out).toMatch(/s_held .*x402:exact .*0\.001 USDC .*\$0\.001 +0xabc123/);
    expect(out).toMatch(/stipend reconcile --resolve <record>=paid/);
  });

  it('--json writes the held records first and every amount as { value, unit, display }', async () => {
    const io = memoryIo();
    await ledgerCommand(['--ledger', heldLedger(), '--json'], io);
    const json = JSON.parse(io.out());
    expect(Object.keys(json)).toEqual(['ledger', 'records', 'held', 'totals', 'sessions']);
    expect(json.held[0].amount).toEqual({
      value: '1000',
      unit: 'eip155:31337/0x5fbdb2315678afecb367f032d93f642f64180aa3',
      display: '0.001 USDC',
    });
    expect(json.held[0].reservedUsdMicros).toEqual({
      value: '1000',
      unit: 'usd:micro',
      display: '$0.001',
    });
    expect(json.totals[0].committedUsdMicros).toEqual({
      value: '1000',
      unit: 'usd:micro',
      display: '$0.001',
    });
  });
});

describe('stipend reconcile', () => {
  it('passes --resolve <record>=void to payingFetch.reconcile as { resolve: { id, as } }', async () => {
    heldLedger();
    const io = memoryIo();
    expect(await reconcileCommand(['--resolve', 's_held=void'], io)).toBe(EXIT.ok);
    expect(reconcile).toHaveBeenCalledWith({ resolve: { id: 's_held', as: 'void' } });
    expect(io.out()).toMatch(/s_held {2}settled: nothing moved \(budget released\) — as you said/);
  });

  it('without --resolve asks the wallets once (reconcile with no options)', async () => {
    heldLedger();
    reconcile.mockClear();
    const io = memoryIo();
    await reconcileCommand([], io);
    expect(reconcile).toHaveBeenCalledTimes(1);
    expect(reconcile.mock.calls[0]).toEqual([]);
    expect(io.out()).toMatch(/s_held {2}still held/);
  });

  it('refuses a record that is not held, listing those that are', async () => {
    heldLedger();
    const io = memoryIo();
    await expect(reconcileCommand(['--resolve', 's_paid=paid'], io)).rejects.toThrow(
      /s_paid is not a held record in .* \(held: s_held\); stipend ledger lists them/,
    );
  });

  it('reads --resolve as <record>=paid|void and says so otherwise', () => {
    expect(parseResolution('s_1=paid')).toEqual({ id: 's_1', as: 'paid' });
    expect(() => parseResolution('s_1=maybe')).toThrow(
      '--resolve takes <record>=paid or <record>=void (the record id from stipend ledger), not "s_1=maybe"',
    );
  });
});
