import { describe, expect, it } from 'vitest';
import {
  type CredentialStore,
  memoryCredentialStore,
  type StoredL402Credential,
  type WebStorageLike,
  webStorageCredentialStore,
} from './credentials.js';

function credential(id: string, origin = 'https://a.example'): StoredL402Credential {
  return {
    id,
    origin,
    token: `tok-${id}`,
    preimage: id.padEnd(64, '0'),
    services: ['quotes'],
    paths: ['/quote'],
    expiresAt: 2_000_000_000_000,
    createdAt: 1,
  };
}

class FakeStorage implements WebStorageLike {
  readonly data = new Map<string, string>();
  getItem(key: string) {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.data.set(key, value);
  }
  removeItem(key: string) {
    this.data.delete(key);
  }
}

function behaves(name: string, make: () => CredentialStore) {
  describe(name, () => {
    it('lists by origin, replaces by id, deletes by id', () => {
      const store = make();
      store.put(credential('a1'));
      store.put(credential('a2'));
      store.put(credential('b1', 'https://b.example'));
      store.put({ ...credential('a1'), paths: ['/quote', '/echo'] });
      expect(store.list('https://a.example').map((c) => [c.id, c.paths])).toEqual([
        ['a2', ['/quote']],
        ['a1', ['/quote', '/echo']],
      ]);
      store.delete('a2');
      store.delete('nope');
      expect(store.list('https://a.example').map((c) => c.id)).toEqual(['a1']);
      expect(store.list('https://b.example')).toEqual([credential('b1', 'https://b.example')]);
      store.delete('b1');
      expect(store.list('https://b.example')).toEqual([]);
    });
  });
}

behaves('memoryCredentialStore', () => memoryCredentialStore());
behaves('webStorageCredentialStore', () => webStorageCredentialStore(new FakeStorage()));

describe('webStorageCredentialStore', () => {
  it('persists across instances and ignores corrupt entries', () => {
    const storage = new FakeStorage();
    webStorageCredentialStore(storage).put(credential('a1'));
    expect(webStorageCredentialStore(storage).list('https://a.example')).toEqual([
      credential('a1'),
    ]);
    storage.setItem('stipend.l402:https://a.example', '{not json');
    expect(webStorageCredentialStore(storage).list('https://a.example')).toEqual([]);
    storage.setItem('stipend.l402:https://a.example', JSON.stringify([{ id: 1 }, credential('x')]));
    expect(webStorageCredentialStore(storage).list('https://a.example')).toEqual([credential('x')]);
  });

  it('removes the origin entry when its last credential goes', () => {
    const storage = new FakeStorage();
    const store = webStorageCredentialStore(storage, { prefix: 'p:' });
    store.put(credential('a1'));
    store.delete('a1');
    expect([...storage.data.keys()]).toEqual(['p:origins']);
    expect(storage.getItem('p:origins')).toBe('[]');
  });

  it('says what to do when there is no Web Storage', () => {
    expect(() => webStorageCredentialStore(undefined as unknown as WebStorageLike)).toThrow(
      /memoryCredentialStore/,
    );
  });
});
