/**
 * Child process of redis-fleet.test.ts: one "machine" of the fleet. Connects, prints
 * `ready`, waits for `go` on stdin, then fires its payments all at once (reserve, then
 * commit the same amount) and prints one JSON line: the ids it committed and how many were
 * refused.
 *
 * argv: redis url, key prefix, worker name, payments, budget payments, price (µUSD).
 */
import { createRedisBudgetStore } from '../../packages/stores/src/redis/index.js';

const [url, prefix, worker, paymentsText, budgetText, priceText] = process.argv.slice(2);
const payments = Number(paymentsText);
const price = BigInt(priceText!);
const budget = BigInt(budgetText!);
const store = createRedisBudgetStore({ url: url!, prefix: prefix! });
const now = Date.now();
const limits = [
  { scope: 'global', window: { kind: 'total' }, maxUsdMicros: price * budget },
  { scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxCount: Number(budget) },
  { scope: 'host:api.example.com', window: { kind: 'rolling', ms: 3_600_000 } },
  { scope: `worker:${worker}`, window: { kind: 'calendar', unit: 'month' } },
] as const;

await store.get('warm-up');
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const outcomes = await Promise.all(
  Array.from({ length: payments }, async (_, i) => {
    const id = `${worker}-${i}`;
    const reserved = await store.reserve({
      id,
      limits,
      usdMicros: price,
      now,
      expiresAt: now + 60_000,
    });
    if (!reserved.ok) return { id, ok: false, remaining: reserved.remaining.toString() };
    await store.commit(id, price);
    return { id, ok: true };
  }),
);
await store.close();
process.stdout.write(
  `${JSON.stringify({
    committed: outcomes.filter((o) => o.ok).map((o) => o.id),
    refused: outcomes.filter((o) => !o.ok).length,
  })}\n`,
);
