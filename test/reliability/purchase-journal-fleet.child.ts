/**
 * Child process of purchase-journal-fleet.test.ts: one "machine" racing the others on one
 * shared purchase journal (file or Redis) and, for files, one approval store. Prints `ready`,
 * waits for `go` on stdin, then fires all its attempts at once and prints one JSON line:
 * the purchase ids it opened, the attempts whose transition won, and how many claims of the
 * approval returned true.
 *
 * With kind `file-crash` it instead opens and moves purchases one after another until it is
 * killed, printing `opened <id>` / `moved <id>` once each step is confirmed.
 *
 * argv: kind (file | redis | file-crash), location (folder | redis url), prefix, worker name,
 * attempts.
 */
import type { PurchaseJournal, PurchaseRecord } from '@stipend/client';
import {
  createFileApprovalStore,
  createFilePurchaseJournal,
} from '../../packages/stores/src/file/index.js';
import { createRedisPurchaseJournal } from '../../packages/stores/src/redis/index.js';

const [kind, location, prefix, worker, attemptsText] = process.argv.slice(2);
const attempts = Number(attemptsText);

const journal: PurchaseJournal & { close(): Promise<void> } =
  kind === 'file' || kind === 'file-crash'
    ? createFilePurchaseJournal({ path: `${location}/purchases.jsonl` })
    : createRedisPurchaseJournal({ url: location!, prefix: prefix! });
const approvals =
  kind === 'file' ? createFileApprovalStore({ path: `${location}/approvals.jsonl` }) : undefined;

function tag(i: number): string {
  return `${worker}-${i}`;
}

function record(id: string): PurchaseRecord {
  const now = Date.now();
  return {
    id,
    key: 'order-1',
    exclusive: true,
    state: 'decided',
    booked: true,
    reservationId: `r-${id}`,
    walletId: 'w',
    offerId: 'o',
    protocol: 'x402',
    scheme: 'exact',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    payee: '0xabc',
    amount: { value: '1', unit: 'u' },
    owner: worker!,
    createdAt: now,
    updatedAt: now,
  };
}

if (kind === 'file-crash') {
  // Until killed: open a purchase, then move it to `authorizing`, reporting each step only
  // after the journal confirmed it (the parent kills this process at a random moment).
  for (let i = 0; ; i++) {
    const id = tag(i);
    await journal.open({ ...record(id), key: `k-${id}` });
    process.stdout.write(`opened ${id}\n`);
    await journal.transition(id, ['decided'], 'authorizing', { reference: `ref-${id}` });
    process.stdout.write(`moved ${id}\n`);
  }
}

// Opens the file (or connection) before the race starts.
await journal.get('warm-up');
await approvals?.get('warm-up');
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

const [opens, moves, claims] = await Promise.all([
  Promise.all(Array.from({ length: attempts }, (_, i) => journal.open(record(tag(i))))),
  Promise.all(
    Array.from({ length: attempts }, (_, i) =>
      journal.transition('shared', ['decided'], 'authorizing', { reference: tag(i) }),
    ),
  ),
  Promise.all(
    Array.from({ length: attempts }, () =>
      approvals ? approvals.transition('a1', 'approved', 'used') : false,
    ),
  ),
]);
await journal.close();
await approvals?.close();
process.stdout.write(
  `${JSON.stringify({
    opened: opens.flatMap((r, i) => (r.ok ? [tag(i)] : [])),
    moved: moves.flatMap((r, i) => (r ? [tag(i)] : [])),
    claimed: claims.filter(Boolean).length,
  })}\n`,
);
