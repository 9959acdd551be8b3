import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeSessionStoreConformance,
  sessionRecord,
} from '../../../client/src/session/store.conformance.test-helpers.js';
import { type FileSessionStore, fileSessionStore } from './file-store.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'stipend-sessions-')), 'sessions.json');

describeSessionStoreConformance('cli json file', () => fileSessionStore(fresh()), {
  reopen: (store) => fileSessionStore((store as FileSessionStore).path),
});

describe('the CLI session file', () => {
  it('the session file is private (mode 0600): it holds the bearer preimage', async () => {
    const path = fresh();
    const store = fileSessionStore(path);
    await store.put(sessionRecord('ses_1', { secret: { bearer: 'ab'.repeat(32) } }), 0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toContain('ses_1');
  });

  it('a second process sees the first one’s sessions, bigints exact', async () => {
    const path = fresh();
    await fileSessionStore(path).put(sessionRecord('ses_1', { depositAtomic: 2n ** 70n }), 0);
    const other = fileSessionStore(path);
    expect((await other.get('ses_1'))?.depositAtomic).toBe(2n ** 70n);
  });

  it('a damaged session file is named, with what to do', async () => {
    const path = fresh();
    writeFileSync(path, '{"sessions": ');
    await expect(fileSessionStore(path).list()).rejects.toThrow(
      /session file is damaged: move it away/,
    );
  });

  it('a lock file left by a killed process is broken once stale', async () => {
    const path = fresh();
    writeFileSync(`${path}.lock`, '');
    const store = fileSessionStore(path, { staleLockMs: 0, lockTimeoutMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await store.put(sessionRecord('ses_1'), 0)).ok).toBe(true);
  });
});
