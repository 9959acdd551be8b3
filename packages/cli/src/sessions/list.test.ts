import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSessionStore } from '@stipend/stores/file';
import { describe, expect, it } from 'vitest';
import { sessionRecord } from '../../../client/src/session/store.conformance.test-helpers.js';
import { CliError } from '../io.js';
import { listSessions } from './list.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'stipend-sessions-')), 'sessions.jsonl');

describe('the CLI reads the sessions from the one session store (@stipend/stores/file)', () => {
  it('what stipend fetch stored (the durable journal) is what stipend sessions lists: oldest first, bigints exact', async () => {
    const file = fresh();
    const store = fileSessionStore(file);
    await store.put(sessionRecord('ses_new', { createdAt: 2_000, depositAtomic: 2n ** 70n }), 0);
    await store.put(
      sessionRecord('ses_old', { createdAt: 1_000, origin: 'https://other.example' }),
      0,
    );
    await store.close();
    const listed = await listSessions(file);
    expect(listed.map((s) => s.id)).toEqual(['ses_old', 'ses_new']);
    expect(listed[1]?.depositAtomic).toBe(2n ** 70n);
  });

  it('a report never creates the session file: no file, no sessions', async () => {
    const file = fresh();
    expect(await listSessions(file)).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('a session journal edited by hand is named, with what to do, and no secret', async () => {
    const file = fresh();
    const store = fileSessionStore(file);
    const bearer = 'ab'.repeat(32);
    await store.put(sessionRecord('ses_1', { secret: { bearer } }), 0);
    await store.close();
    // The same entry again: its version no longer follows the stored one.
    const [line] = readFileSync(file, 'utf8').split('\n');
    const entry = JSON.parse(line!) as { e: unknown };
    const size = readFileSync(file).length;
    appendFileSync(file, `${JSON.stringify({ o: size, w: 'hand', e: entry.e })}\n`);
    const error = await listSessions(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain(`Cannot read the sessions in ${file}:`);
    expect((error as CliError).message).toMatch(/restore it from a backup.*move it away/);
    expect((error as CliError).message).not.toContain(bearer);
  });
});
