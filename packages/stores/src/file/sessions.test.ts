/** The file session store: conformance, corrupt files, and real processes sharing one file. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStipendError } from '@stipend/client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  describeSessionStoreConformance,
  sessionRecord,
} from '../../../client/src/session/store.conformance.test-helpers.js';
import { stringifyJson } from '../codec.js';
import { describeSessionStoreProcesses } from '../sessions/processes.test-helpers.js';
import { createFileStores, type FileSessionStore, fileSessionStore } from './index.js';

const folder = mkdtempSync(join(tmpdir(), 'stipend-file-sessions-'));
let n = 0;
const opened: FileSessionStore[] = [];
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  rmSync(folder, { recursive: true, force: true });
});
function open(path = join(folder, `sessions-${n++}.jsonl`)): FileSessionStore {
  const store = fileSessionStore(path);
  opened.push(store);
  return store;
}

describeSessionStoreConformance('file', () => open(), {
  reopen: (store) => open((store as FileSessionStore).path),
});
describeSessionStoreProcesses('file', () => ['file', join(folder, `processes-${n++}.jsonl`)]);

const SECRET = 'f'.repeat(64);

/** The whole error as a caller could log it: message, JSON, and its causes. */
function everything(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(String(e), JSON.stringify(e), (e as Error).stack ?? '');
  }
  return parts.join('\n');
}

describe('file session store: stored data it cannot trust', () => {
  it('a malformed stored session is STORE_CORRUPT, not a crash, and its secret stays out of the error', async () => {
    const path = join(folder, `corrupt-${n++}.jsonl`);
    const first = open(path);
    await first.put(sessionRecord('ses_ok'), 0);
    await first.close();
    // An entry whose deposit is a plain number (not a bigint tag) and that carries a secret.
    const bad = { t: 'p', record: { ...JSON.parse(stringifyJson(sessionRecord('ses_bad'))) } };
    bad.record.version = 1;
    bad.record.depositAtomic = 5;
    bad.record.secret = { bearer: SECRET };
    const offset = statSync(path).size;
    appendFileSync(path, `${JSON.stringify({ o: offset, w: 'hand', e: bad })}\n`);
    const second = open(path);
    const error = await second.get('ses_ok').catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
    expect((error as Error).message).toContain('ses_bad');
    expect((error as Error).message).toContain('depositAtomic');
    expect(everything(error)).not.toContain(SECRET);
    // Every later call says the same: the store refuses to guess.
    await expect(second.list()).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
    await expect(second.put(sessionRecord('ses_new'), 0)).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
    });
  });

  it('an entry that is not valid stored JSON is STORE_CORRUPT without the text it failed on', async () => {
    const path = join(folder, `corrupt-${n++}.jsonl`);
    const first = open(path);
    await first.put(sessionRecord('ses_ok'), 0);
    await first.close();
    const offset = statSync(path).size;
    const bad = { t: 'p', record: { id: 'ses_x', depositAtomic: { $b: `12${SECRET}` } } };
    appendFileSync(path, `${JSON.stringify({ o: offset, w: 'hand', e: bad })}\n`);
    const error = await open(path)
      .list()
      .catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('STORE_CORRUPT');
    expect(everything(error)).not.toContain(SECRET);
  });

  it('a stored session that skips a version is STORE_CORRUPT (replay checks the compare-and-set)', async () => {
    const path = join(folder, `corrupt-${n++}.jsonl`);
    const first = open(path);
    await first.put(sessionRecord('ses_v'), 0);
    await first.close();
    const skipped = JSON.parse(stringifyJson({ ...sessionRecord('ses_v'), version: 5 }));
    appendFileSync(
      path,
      `${JSON.stringify({ o: statSync(path).size, w: 'hand', e: { t: 'p', record: skipped } })}\n`,
    );
    await expect(open(path).get('ses_v')).rejects.toMatchObject({ code: 'STORE_CORRUPT' });
  });

  it('keeps the secret for a restart in a file only its owner can read', async () => {
    const path = join(folder, `secret-${n++}.jsonl`);
    const store = open(path);
    await store.put(sessionRecord('ses_s', { secret: { bearer: SECRET } }), 0);
    await store.close();
    expect((await open(path).get('ses_s'))?.secret).toEqual({ bearer: SECRET });
    expect(readFileSync(path, 'utf8')).toContain(SECRET);
    expect(statSync(path).mode & 0o077).toBe(0);
  });

  it('refuses a record it could not read back, naming the field and not the value', async () => {
    const store = open();
    const error = await store
      .put({ ...sessionRecord('ses_i'), spentAtomic: 5 as never, secret: { bearer: SECRET } }, 0)
      .catch((e: unknown) => e);
    expect(isStipendError(error) && error.code).toBe('JOURNAL_INVALID');
    expect((error as Error).message).toContain('spentAtomic');
    expect(everything(error)).not.toContain(SECRET);
    expect(await store.get('ses_i')).toBeUndefined();
  });

  it('a record put cannot be changed afterwards through the caller’s object', async () => {
    const store = open();
    const input = sessionRecord('ses_m', { methodData: { nested: { n: 1 } } }) as {
      methodData: { nested: { n: number } };
    } & ReturnType<typeof sessionRecord>;
    const result = await store.put(input, 0);
    input.methodData.nested.n = 2;
    expect((await store.get('ses_m'))?.methodData).toEqual({ nested: { n: 1 } });
    const read = (await store.get('ses_m'))!.methodData as { nested: { n: number } };
    expect(() => {
      read.nested.n = 3;
    }).toThrow();
    expect(result.ok && result.record.version).toBe(1);
  });

  it('createFileStores keeps sessions in sessions.jsonl beside the other journals', async () => {
    const dir = join(folder, `stores-${n++}`);
    const stores = createFileStores({ dir });
    await stores.sessions.put(sessionRecord('ses_f'), 0);
    await stores.close();
    expect(stores.sessions.path).toBe(join(dir, 'sessions.jsonl'));
    expect((await open(join(dir, 'sessions.jsonl')).get('ses_f'))?.version).toBe(1);
  });

  it('fileSessionStore needs a path', () => {
    expect(() => fileSessionStore('')).toThrow(/path/);
  });
});
