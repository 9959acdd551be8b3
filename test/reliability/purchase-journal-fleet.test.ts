/**
 * The durable purchase journals hold across processes: real child processes race on one file
 * journal (and one file approval store) and on one Redis journal, every attempt fired at once.
 * Of all opens of one exclusive idempotency key exactly one succeeds in the whole fleet; of
 * all transitions of one purchase from `decided` exactly one wins; of all claims of one
 * approved approval exactly one returns true (finding 5 store side, findings 20 and 21: an
 * idempotency key holds across every process that shares the store). Writers killed with
 * SIGKILL mid-write lose no confirmed step, and another process lists their orphans.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PurchaseJournal } from '@stipend/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pendingApproval } from '../../packages/stores/src/approvals.conformance.test-helpers.js';
import {
  createFileApprovalStore,
  createFilePurchaseJournal,
} from '../../packages/stores/src/file/index.js';
import { purchaseRecord } from '../../packages/stores/src/purchase-journal.conformance.test-helpers.js';
import { createRedisPurchaseJournal } from '../../packages/stores/src/redis/index.js';
import {
  type RedisServer,
  startRedisServer,
} from '../../packages/stores/src/redis/server.test-helpers.js';
import { bundleChild, type ChildBundle } from '../stores/bundle.test-helpers.js';

const PROCESSES = 4;
const ATTEMPTS = 10;
const running = new Set<ChildProcess>();
let bundle: ChildBundle;
let server: RedisServer;
let folder: string;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'stipend-journal-fleet-'));
  [server, bundle] = await Promise.all([
    startRedisServer(),
    bundleChild(new URL('./purchase-journal-fleet.child.ts', import.meta.url)),
  ]);
}, 60_000);
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  bundle?.remove();
  await server?.stop();
  rmSync(folder, { recursive: true, force: true });
});

interface Report {
  readonly opened: string[];
  readonly moved: string[];
  readonly claimed: number;
}

function startWorker(args: readonly string[]) {
  const child = spawn(process.execPath, [bundle.file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const result = new Promise<Report>((resolve, reject) => {
    child.once('close', (code) => {
      running.delete(child);
      if (code !== 0) reject(new Error(`worker exited ${code}: ${err}`));
      else resolve(JSON.parse(out.split('\n')[1]!));
    });
  });
  return { child, ready: Promise.race([ready, result.then(() => undefined)]), result };
}

async function race(kind: string, location: string, prefix: string): Promise<Report[]> {
  const workers = Array.from({ length: PROCESSES }, (_, i) =>
    startWorker([kind, location, prefix, `w${i}`, String(ATTEMPTS)]),
  );
  await Promise.all(workers.map((w) => w.ready));
  for (const worker of workers) worker.child.stdin!.end('go\n');
  return Promise.all(workers.map((w) => w.result));
}

async function expectOneWinner(reports: Report[], journal: PurchaseJournal): Promise<void> {
  const opened = reports.flatMap((r) => r.opened);
  expect(opened).toHaveLength(1);
  expect((await journal.byKey('order-1')).map((r) => r.id)).toEqual(opened);
  const moved = reports.flatMap((r) => r.moved);
  expect(moved).toHaveLength(1);
  expect(await journal.get('shared')).toMatchObject({ state: 'authorizing', reference: moved[0] });
}

describe('purchase journals shared by processes', () => {
  it(`file: ${PROCESSES} processes × ${ATTEMPTS} attempts → one open, one transition, one approval claim`, async () => {
    const journal = createFilePurchaseJournal({ path: join(folder, 'purchases.jsonl') });
    const approvals = createFileApprovalStore({ path: join(folder, 'approvals.jsonl') });
    await journal.open(purchaseRecord('shared', 'shared-key'));
    await approvals.put(pendingApproval('a1', 'order-1', { state: 'approved' }));
    const reports = await race('file', folder, '');
    await expectOneWinner(reports, journal);
    expect(reports.reduce((sum, r) => sum + r.claimed, 0)).toBe(1);
    expect((await approvals.get('a1'))?.state).toBe('used');
    await journal.close();
    await approvals.close();
  }, 60_000);

  it('file: processes killed with SIGKILL mid-write leave every confirmed step, and their orphans are listed', async () => {
    const dir = mkdtempSync(join(folder, 'crash-'));
    const confirmed = { opened: new Set<string>(), moved: new Set<string>() };
    for (let round = 0; round < 6; round++) {
      const child = spawn(
        process.execPath,
        [bundle.file, 'file-crash', dir, '', `c${round}`, '0'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      running.add(child);
      let out = '';
      let err = '';
      let done = false;
      child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise((resolve) => child.once('close', resolve)).then(() => {
        done = true;
      });
      // Kill it at a varying moment once it is writing.
      while (!out.includes('moved')) {
        if (done) throw new Error(`crash child exited early: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + round * 37));
      child.kill('SIGKILL');
      await exited;
      running.delete(child);
      for (const line of out.split('\n')) {
        const [step, id] = line.split(' ');
        if (step === 'opened') confirmed.opened.add(id!);
        if (step === 'moved') confirmed.moved.add(id!);
      }
    }
    const journal = createFilePurchaseJournal({ path: join(dir, 'purchases.jsonl') });
    const all = await journal.list();
    const ids = new Set(all.map((r) => r.id));
    for (const id of confirmed.opened) expect(ids.has(id)).toBe(true);
    for (const id of confirmed.moved) expect((await journal.get(id))?.state).toBe('authorizing');
    // At most the one step each killed process was in the middle of is beyond what it reported.
    expect(all.length - confirmed.opened.size).toBeLessThanOrEqual(6);
    // Another process sees every killed writer's purchase whose money may move: the orphans.
    const orphans = await journal.list({ states: ['authorizing'] });
    expect(new Set(orphans.map((r) => r.owner)).size).toBe(6);
    expect(orphans.length).toBeGreaterThanOrEqual(confirmed.moved.size);
    // And the journal still takes writes.
    expect((await journal.open(purchaseRecord('after', 'after-key'))).ok).toBe(true);
    await journal.close();
  }, 60_000);

  it(`redis: ${PROCESSES} processes × ${ATTEMPTS} attempts → one open, one transition`, async () => {
    const prefix = 'fleet-journal:';
    const journal = createRedisPurchaseJournal({ url: server.url, prefix });
    await journal.open(purchaseRecord('shared', 'shared-key'));
    await expectOneWinner(await race('redis', server.url, prefix), journal);
    await journal.close();
  }, 60_000);
});
