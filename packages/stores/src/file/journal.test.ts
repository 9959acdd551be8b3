import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFLICT } from '../journal/log.js';
import { openFileJournal } from './journal.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-journal-'));
let n = 0;
const fresh = () => join(folder, `j-${n++}.jsonl`);
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('file journal', () => {
  it('appends fenced lines and reads them back in order', async () => {
    const path = fresh();
    const journal = await openFileJournal({ path });
    const first = await journal.append(0, { n: 1 });
    expect(typeof first).toBe('number');
    const second = await journal.append(first as number, { n: 2 });
    expect(await journal.read(0)).toEqual({ entries: [{ n: 1 }, { n: 2 }], cursor: second });
    expect(await journal.read(first as number)).toEqual({ entries: [{ n: 2 }], cursor: second });
    const lines = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.o)).toEqual([0, first]);
    await journal.close();
  });

  it('refuses an append behind unread complete lines (the fence)', async () => {
    const path = fresh();
    const a = await openFileJournal({ path });
    const b = await openFileJournal({ path });
    const end = (await a.append(0, 'a1')) as number;
    expect(await b.append(0, 'b1')).toBe(CONFLICT);
    const { cursor } = await b.read(0);
    expect(cursor).toBe(end);
    expect(typeof (await b.append(cursor, 'b1'))).toBe('number');
    expect((await a.read(0)).entries).toEqual(['a1', 'b1']);
    await a.close();
    await b.close();
  });

  it('ignores a line whose offset is wrong: a writer that lost a race', async () => {
    const path = fresh();
    const journal = await openFileJournal({ path });
    const end = (await journal.append(0, 'kept')) as number;
    // What a racing writer that believed the file ended at 0 would have left behind.
    appendFileSync(path, `${JSON.stringify({ o: 0, w: 'x', e: 'lost' })}\n`);
    const after = await journal.read(0);
    expect(after.entries).toEqual(['kept']);
    expect(journal.stats.void).toBe(1);
    expect(typeof (await journal.append(after.cursor, 'next'))).toBe('number');
    expect((await journal.read(end)).entries).toEqual(['next']);
    await journal.close();
  });

  it('leaves a torn last line unread, then closes it off as junk on the next append', async () => {
    const path = fresh();
    const journal = await openFileJournal({ path });
    const end = (await journal.append(0, 'whole')) as number;
    // A writer killed mid-append: even a line lacking only its newline must not count.
    const torn = JSON.stringify({ o: end, w: 'dead', e: 'torn' });
    appendFileSync(path, torn);
    expect(await journal.read(0)).toEqual({ entries: ['whole'], cursor: end });
    const next = (await journal.append(end, 'after')) as number;
    expect(next).toBe(readFileSync(path).length);
    const again = await openFileJournal({ path });
    expect((await again.read(0)).entries).toEqual(['whole', 'after']);
    expect(again.stats.junk).toBe(1);
    expect(readFileSync(path, 'utf8')).toContain(`${torn}#\n`);
    await journal.close();
    await again.close();
  });

  it('skips garbage lines and reads across chunk boundaries', async () => {
    const path = fresh();
    const journal = await openFileJournal({ path });
    let cursor = 0;
    const big = 'x'.repeat(300_000);
    for (let i = 0; i < 8; i++) cursor = (await journal.append(cursor, { i, big })) as number;
    const reader = await openFileJournal({ path });
    const { entries } = await reader.read(0);
    expect(entries.map((e) => (e as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    appendFileSync(path, 'not json\n\n');
    expect((await reader.read(cursor)).entries).toEqual([]);
    expect(reader.stats.junk).toBe(1);
    await journal.close();
    await reader.close();
  });

  it('reports a journal that shrank below what was read', async () => {
    const path = fresh();
    const journal = await openFileJournal({ path });
    const end = (await journal.append(0, 'a')) as number;
    truncateSync(path, 0);
    await expect(journal.append(end, 'b')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await journal.close();
    await expect(journal.read(0)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('says what to change when the path cannot be used', async () => {
    const file = fresh();
    writeFileSync(file, '');
    await expect(openFileJournal({ path: join(file, 'inside.jsonl') })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('writable folder'),
    });
  });
});
