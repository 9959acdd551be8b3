/**
 * Child process of console.test.ts: an agent paying in pending mode with file stores in a
 * folder it shares with the console, its wallet on the `stipend-test` stand-in rail of the
 * parent process (reached over HTTP, so payments are counted at the rail in the parent).
 *
 * Reads commands from stdin, one per line, and answers each with one JSON line:
 * - `call <idempotency key> <url>` → `{ status, approvalId? }` or `{ error: <code> }`;
 * - `fault <fault>` → `{ ok: true }` (the wallet's next payment misbehaves).
 * Prints `ready` first.
 *
 * argv: the stores' folder, the rail's base URL.
 */
import { createInterface } from 'node:readline';
import { createPayingFetch, isStipendError } from '@stipend/client';
import { type TestWalletFault, testAdapter, testWallet } from '@stipend/testkit/core';
import { createFileStores } from '../../packages/stores/src/file/index.js';
import { AGENT_POLICY } from './policy.js';

const [dir, railUrl] = process.argv.slice(2);
const stores = createFileStores({ dir: dir! });
const wallet = testWallet({
  rail: {
    async pay(input) {
      const response = await fetch(`${railUrl}/rail/pay`, {
        method: 'POST',
        body: JSON.stringify({ ...input, amount: input.amount.toString() }),
      });
      return response.json();
    },
    async lookup(reference) {
      const response = await fetch(
        `${railUrl}/rail/lookup?reference=${encodeURIComponent(reference)}`,
      );
      return (await response.json()).status;
    },
  },
});
const payingFetch = createPayingFetch({
  adapters: [testAdapter()],
  wallets: [wallet],
  budget: stores.budget,
  ledger: stores.ledger,
  journal: stores.journal,
  policy: AGENT_POLICY,
  approvals: { mode: 'pending', store: stores.approvals },
  tags: ['research'],
});

async function run(line: string): Promise<unknown> {
  const [command, first, second] = line.trim().split(/\s+/);
  if (command === 'fault') {
    wallet.injectFault(first as TestWalletFault);
    return { ok: true };
  }
  if (command !== 'call') return { error: `unknown command ${command}` };
  try {
    const response = await payingFetch(second!, { payment: { idempotencyKey: first! } });
    await response.arrayBuffer();
    return {
      status: response.status,
      ...(response.headers.get('stipend-approval-id')
        ? { approvalId: response.headers.get('stipend-approval-id') }
        : {}),
    };
  } catch (error) {
    return { error: isStipendError(error) ? error.code : String(error) };
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (!line.trim()) continue;
  process.stdout.write(`${JSON.stringify(await run(line))}\n`);
}
await stores.close();
