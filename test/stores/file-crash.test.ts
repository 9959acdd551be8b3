/**
 * The file budget store survives `kill -9`: two worker slots pay 500 payments each into one
 * journal through child processes that are SIGKILLed at random moments (often while holding
 * the lock or mid-append) and restarted from the first payment they did not report. At the
 * end every payment is committed exactly once: the journal's committed total equals the
 * number of payments the children reported, each id once, and nothing was refused (a doubled
 * payment would have hit the budget, which fits exactly 1 000).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileBudgetStore } from '../../packages/stores/src/file/index.js';
import { bundleChild, type ChildBundle } from './bundle.test-helpers.js';

const PAYMENTS = 1_000;
const SLOTS = 2;
const PRICE = 1_234n;
/** Kills per slot; after that the slot's child may finish, which bounds the run time. */
const KILLS_PER_SLOT = 15;
const running = new Set<ChildProcess>();
let bundle: ChildBundle;

beforeAll(async () => {
  bundle = await bundleChild(new URL('./file-crash.child.ts', import.meta.url));
});
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  bundle?.remove();
});
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A small seeded generator, so a failing run can be replayed with STIPEND_CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

interface SlotReport {
  committed: number[];
  staleLocksBroken: number;
  refused: string[];
  kills: number;
  starts: number;
}

/** Runs one slot's payments [from, to) to the end, killing its child at random moments. */
async function runSlot(
  path: string,
  from: number,
  to: number,
  rand: () => number,
  log: string[],
): Promise<SlotReport> {
  const report: SlotReport = {
    committed: [],
    staleLocksBroken: 0,
    refused: [],
    kills: 0,
    starts: 0,
  };
  let next = from;
  while (next < to) {
    report.starts++;
    const child = spawn(
      process.execPath,
      [bundle.file, path, String(next), String(to), PRICE.toString(), String(PAYMENTS)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    running.add(child);
    let broken = 0;
    let buffered = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const [word, index, stale] = line.split(' ');
        if (word === 'committed') {
          report.committed.push(Number(index));
          next = Number(index) + 1;
          broken = Number(stale);
          if (--killAfter === 0) scheduleKill(Math.floor(rand() * 4));
        } else if (word === 'refused') report.refused.push(line);
        newline = buffered.indexOf('\n');
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Mostly kill a few ms after a random number (1–25) of payments, which lands anywhere
    // in the next reserve or commit (waiting for the lock, holding it, mid-append, between
    // append and fsync); sometimes during start-up and replay instead. After KILLS_PER_SLOT
    // kills the child is left to finish (15 × 25 < 500, so every slot gets all its kills).
    let timer: NodeJS.Timeout | undefined;
    let delay = -1;
    const scheduleKill = (ms: number) => {
      if (report.kills >= KILLS_PER_SLOT) return;
      delay = ms;
      timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          report.kills++;
        }
      }, ms);
    };
    let killAfter = 0;
    if (rand() < 0.2) scheduleKill(Math.floor(rand() * 150));
    else killAfter = 1 + Math.floor(rand() * 25);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once('close', (c, s) => resolve([c, s])),
    );
    clearTimeout(timer);
    running.delete(child);
    report.staleLocksBroken += broken;
    log.push(`slot ${from}: exit ${code ?? signal} (kill after ${delay} ms), next ${next}`);
    if (report.refused.length > 0) return report;
    if (code !== 0 && signal !== 'SIGKILL') {
      throw new Error(`child failed (${code ?? signal}): ${stderr}`);
    }
  }
  return report;
}

describe('file budget store under kill -9', () => {
  it('loses and doubles nothing across 1 000 payments with children killed at random', async () => {
    const seed = Number(process.env.STIPEND_CRASH_SEED) || Date.now();
    const rand = random(seed);
    const path = join(bundle.folder, 'budget.jsonl');
    const log: string[] = [`seed ${seed}`];
    const per = PAYMENTS / SLOTS;
    const started = Date.now();
    const reports = await Promise.all(
      Array.from({ length: SLOTS }, (_, slot) =>
        runSlot(path, slot * per, (slot + 1) * per, rand, log),
      ),
    );
    const elapsed = Date.now() - started;
    const kills = reports.reduce((sum, r) => sum + r.kills, 0);
    const reported = reports.flatMap((r) => r.committed);
    const context = log.join('\n');
    if (process.env.STIPEND_CRASH_LOG) console.log(context);

    expect(
      reports.flatMap((r) => r.refused),
      context,
    ).toEqual([]);
    // Each payment was reported once: no id lost, none reported twice.
    expect(reported.length, context).toBe(PAYMENTS);
    expect(new Set(reported).size, context).toBe(PAYMENTS);
    expect(Math.max(...reported)).toBe(PAYMENTS - 1);
    // The children really died mid-run, repeatedly.
    expect(kills, context).toBe(SLOTS * KILLS_PER_SLOT);

    // The journal, replayed by a fresh process-equivalent store, agrees exactly.
    const store = createFileBudgetStore({ path });
    const now = Date.UTC(2024, 0, 15, 12);
    expect(await store.usage({ scope: 'global', window: { kind: 'total' } }, now)).toEqual({
      committedUsdMicros: PRICE * BigInt(PAYMENTS),
      heldUsdMicros: 0n,
      count: PAYMENTS,
    });
    expect(await store.expired(Number.POSITIVE_INFINITY)).toEqual([]);
    for (let i = 0; i < PAYMENTS; i += 97) {
      expect(await store.get(`pay-${i}`)).toMatchObject({
        state: 'committed',
        committedUsdMicros: PRICE,
      });
    }
    const stats = store.fileStats();
    await store.close();

    // An independent scan of the raw journal: one reserve and one commit line per id.
    const reserves = new Map<string, number>();
    const commits = new Map<string, number>();
    let offset = 0;
    let torn = 0;
    const bytes = readFileSync(path);
    for (let start = 0; start < bytes.length; ) {
      const end = bytes.indexOf(0x0a, start);
      const line = bytes.subarray(start, end < 0 ? bytes.length : end).toString();
      offset = start;
      start = end < 0 ? bytes.length : end + 1;
      let record: { o: number; e: { t: string; id: string; usd?: { $b: string } } };
      try {
        record = JSON.parse(line);
      } catch {
        torn++;
        continue;
      }
      if (record.o !== offset) continue;
      const counts = record.e.t === 'r' ? reserves : record.e.t === 'c' ? commits : undefined;
      counts?.set(record.e.id, (counts.get(record.e.id) ?? 0) + 1);
      if (record.e.t === 'c') expect(record.e.usd).toEqual({ $b: PRICE.toString() });
    }
    expect(reserves.size).toBe(PAYMENTS);
    expect(commits.size).toBe(PAYMENTS);
    expect([...reserves.values(), ...commits.values()].every((n) => n === 1)).toBe(true);
    expect(stats.junkLines).toBe(torn);

    console.log(
      `file-crash: ${PAYMENTS} payments in ${elapsed} ms, ${kills} kills, ` +
        `${reports.reduce((s, r) => s + r.starts, 0)} child starts, ${torn} torn lines, ` +
        `${stats.voidLines} void lines, ` +
        `${reports.reduce((s, r) => s + r.staleLocksBroken, 0)}+ stale locks broken (seed ${seed})`,
    );
  }, 90_000);
});
