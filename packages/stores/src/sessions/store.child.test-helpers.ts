/**
 * Child process of the cross-process session store tests (bundled by `bundleChild`): opens a
 * file or Redis session store as a separate process would, then runs one command.
 *
 * argv: `file <path>` or `redis <url> <prefix>`, then
 * - `put <expectedVersion> <record>` (record as `stringifyJson` text): replays the store, prints
 *   `ready`, waits for a line on stdin (the parent's start signal, so that racers put at once),
 *   puts, prints `ok <version>` or `conflict <id of the record in the way>`;
 * - `get <id>`: prints the record as `stringifyJson` text, or `missing`.
 */
import type { SessionRecord, SessionStore } from '@stipend/client';
import { parseJson, stringifyJson } from '../codec.js';
import { fileSessionStore } from '../file/index.js';
import { redisSessionStore } from '../redis/sessions.js';

const args = process.argv.slice(2);
const backend = args.shift();
let store: SessionStore & { close(): Promise<void> };
if (backend === 'file') {
  store = fileSessionStore(args.shift()!);
} else {
  const url = args.shift()!;
  store = redisSessionStore({ url, prefix: args.shift()! });
}
const [command, first, second] = args;

if (command === 'put') {
  const record = parseJson(second!) as SessionRecord;
  // Replay (and connect) before the start signal, so that the puts themselves race.
  await store.get(record.id);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const result = await store.put(record, Number(first));
  process.stdout.write(
    result.ok ? `ok ${result.record.version}\n` : `conflict ${result.current?.id}\n`,
  );
} else if (command === 'get') {
  const record = await store.get(first!);
  process.stdout.write(`${record ? stringifyJson(record) : 'missing'}\n`);
}
await store.close();
process.exit(0);
