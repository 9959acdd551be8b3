/**
 * Paid L402 credentials kept in a file between runs, so a second `stipend fetch` reuses the
 * token the first one paid for. The file holds bearer secrets: it is written with mode 0600.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type CredentialStore, webStorageCredentialStore } from '@stipend/client';
import { CliError } from '../io.js';

/**
 * A key-value storage (the Web Storage shape) in one JSON file, written atomically.
 *
 * @example
 * ```ts
 * import { fileStorage } from './credential-file.js';
 * const storage = fileStorage('/tmp/kv.json');
 * storage.setItem('a', '1');
 * ```
 */
export function fileStorage(path: string): {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
} {
  let data: Record<string, string> = {};
  if (existsSync(path)) {
    try {
      data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
    } catch (error) {
      throw new CliError(
        `${path} is not a readable credential file (${(error as Error).message}); move it away`,
      );
    }
  }
  const save = () => {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(data), { mode: 0o600 });
    renameSync(temporary, path);
  };
  return {
    getItem: (key) => (Object.hasOwn(data, key) ? data[key]! : null),
    setItem(key, value) {
      data[key] = value;
      save();
    },
    removeItem(key) {
      if (!Object.hasOwn(data, key)) return;
      delete data[key];
      save();
    },
  };
}

/**
 * An L402 credential store in a file (see the module notes).
 *
 * @example
 * ```ts
 * import { l402Adapter } from '@stipend/client';
 * import { fileCredentialStore } from './credential-file.js';
 * const adapter = l402Adapter({ credentials: fileCredentialStore('/home/me/.config/stipend/l402-credentials.json') });
 * ```
 */
export function fileCredentialStore(path: string): CredentialStore {
  return webStorageCredentialStore(fileStorage(path), { prefix: 'l402:' });
}
