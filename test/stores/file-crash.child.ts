/**
 * Child process of file-crash.test.ts: pays `pay-<from>` … `pay-<to - 1>` through the file
 * budget store (reserve, then commit), printing `committed <i> <stale locks broken so far>`
 * after each commit returns.
 * Reserving an id again after a restart is idempotent, so the parent restarts a killed child
 * from the first payment it did not see reported.
 *
 * argv: journal path, from, to, price (µUSD), budget payments.
 */
import { createFileBudgetStore } from '../../packages/stores/src/file/index.js';

const [path, fromText, toText, priceText, paymentsText] = process.argv.slice(2);
const from = Number(fromText);
const to = Number(toText);
const price = BigInt(priceText!);
const payments = Number(paymentsText);
const store = createFileBudgetStore({ path: path! });
const limits = [
  { scope: 'global', window: { kind: 'total' }, maxUsdMicros: price * BigInt(payments) },
  { scope: 'global', window: { kind: 'calendar', unit: 'month' }, maxCount: payments },
  { scope: 'host:crash.test', window: { kind: 'rolling', ms: 3_600_000 } },
] as const;
// A fixed time keeps every replayed request identical.
const now = Date.UTC(2024, 0, 15, 12);
// Opening replays the journal (and may find a lock or a torn line left by a killed child).
await store.get(`pay-${from}`);

for (let i = from; i < to; i++) {
  const id = `pay-${i}`;
  const reserved = await store.reserve({
    id,
    limits,
    usdMicros: price,
    now,
    expiresAt: now + 60_000,
    meta: { worker: String(process.pid) },
  });
  if (!reserved.ok) {
    process.stdout.write(`refused ${i} ${reserved.exceeded} ${reserved.remaining}\n`);
    process.exit(2);
  }
  await store.commit(id, price);
  process.stdout.write(`committed ${i} ${store.fileStats().staleLocksBroken}\n`);
}
await store.close();
process.stdout.write('done\n');
