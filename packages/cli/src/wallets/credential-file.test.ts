import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileCredentialStore, fileStorage } from './credential-file.js';

describe('file credential store', () => {
  it('keeps L402 credentials between opens, in a file only its owner can read', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'stipend-cred-')), 'creds.json');
    const store = fileCredentialStore(path);
    const credential = {
      id: 'ab'.repeat(32),
      origin: 'https://a.example',
      token: 'AgEE',
      preimage: 'cd'.repeat(32),
      services: ['quotes'],
      paths: ['/quote'],
      createdAt: 1,
    };
    store.put(credential);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(fileCredentialStore(path).list('https://a.example')).toEqual([credential]);
    fileCredentialStore(path).delete(credential.id);
    expect(fileCredentialStore(path).list('https://a.example')).toEqual([]);
  });

  it('refuses a damaged file with a message, and removes keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stipend-cred-'));
    const storage = fileStorage(join(dir, 'kv.json'));
    storage.setItem('a', '1');
    storage.removeItem('a');
    storage.removeItem('missing');
    expect(readFileSync(join(dir, 'kv.json'), 'utf8')).toBe('{}');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    expect(() => fileStorage(broken)).toThrow(/broken\.json is not a readable credential file/);
  });
});
