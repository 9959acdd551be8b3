import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileCredentialStore, filePaymentStore } from './file-stores.js';
import type { LightningPaymentRecord } from './payments.js';

const dir = mkdtempSync(join(tmpdir(), 'stipend-ln-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record: LightningPaymentRecord = {
  paymentHash: 'ab'.repeat(32),
  invoice: 'lnbcrt1…',
  origin: 'https://api.example.com',
  rail: 'l402:bolt11',
  amountMsat: '100000',
  maxFeeMsat: '11000',
  state: 'pending',
  startedAt: 1,
  updatedAt: 1,
};

describe('filePaymentStore', () => {
  it('is on disk (mode 0600) when put resolves, and reloads', async () => {
    const path = join(dir, 'payments.json');
    const store = await filePaymentStore(path);
    await store.put(record);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([record]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await store.put({ ...record, state: 'succeeded', preimage: '11'.repeat(32) });
    const again = await filePaymentStore(path);
    expect((await again.get(record.paymentHash))?.state).toBe('succeeded');
    expect(await again.pending()).toEqual([]);
  });

  it('starts empty without a file and refuses a corrupt one', async () => {
    expect(await (await filePaymentStore(join(dir, 'none.json'))).pending()).toEqual([]);
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, '{oops');
    await expect(filePaymentStore(path)).rejects.toThrow(/not a readable JSON store/);
  });
});

describe('fileCredentialStore', () => {
  it('persists credentials for the L402 adapter across restarts', async () => {
    const path = join(dir, 'credentials.json');
    const store = await fileCredentialStore(path);
    const credential = {
      id: 'ab'.repeat(32),
      origin: 'https://api.example.com',
      token: 'AgE=',
      preimage: '11'.repeat(32),
      services: ['quotes'],
      paths: ['/quote'],
      createdAt: 1,
    };
    store.put(credential);
    expect((await fileCredentialStore(path)).list('https://api.example.com')).toEqual([credential]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    store.delete(credential.id);
    expect((await fileCredentialStore(path)).list('https://api.example.com')).toEqual([]);
  });
});
