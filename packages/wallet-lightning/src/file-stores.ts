/// <reference types="node" />
/**
 * File-backed stores for Node: payment records (crash safety across restarts) and paid L402
 * credentials (reuse across restarts). `node:fs` is imported lazily, so importing this
 * package in a browser does not pull it in; calling these there fails with a clear error.
 *
 * The files hold secrets (preimages and tokens are bearer credentials): they are written with
 * mode 0600, atomically (temporary file, fsync, rename).
 *
 * @module
 */
import type { L402Credential, L402CredentialStore } from './credentials.js';
import type { LightningPaymentRecord, PaymentStore } from './payments.js';

type Fs = typeof import('node:fs');

async function loadFs(): Promise<Fs> {
  try {
    return await import('node:fs');
  } catch (cause) {
    throw new Error('File stores need Node.js (node:fs); use the memory stores elsewhere', {
      cause,
    });
  }
}

function readJson(fs: Fs, path: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw new Error(`${path} is not a readable JSON store; move it away or fix it`, {
      cause: error,
    });
  }
}

function writeJsonSync(fs: Fs, path: string, value: unknown): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, path);
}

/**
 * A payment store in a JSON file (Node only): the wallet's pending record is on disk before
 * it pays, so a crash mid-payment is reconciled by payment hash on the next run.
 *
 * @example
 * ```ts
 * import { lightningWallet } from '@stipend/wallet-lightning';
 * import { filePaymentStore } from '@stipend/wallet-lightning/file';
 * const wallet = lightningWallet({
 *   backend,
 *   network: 'mainnet',
 *   payments: await filePaymentStore('/var/lib/agent/lightning-payments.json'),
 * });
 * ```
 */
export async function filePaymentStore(path: string): Promise<PaymentStore> {
  const fs = await loadFs();
  const loaded = readJson(fs, path);
  const records = new Map<string, LightningPaymentRecord>(
    Array.isArray(loaded)
      ? (loaded as LightningPaymentRecord[])
          .filter((r) => typeof r?.paymentHash === 'string')
          .map((r) => [r.paymentHash, r])
      : [],
  );
  let queue: Promise<void> = Promise.resolve();
  return {
    get: async (hash) => records.get(hash),
    put(record) {
      records.set(record.paymentHash, { ...record });
      const snapshot = [...records.values()];
      queue = queue.then(() => writeJsonSync(fs, path, snapshot));
      return queue;
    },
    pending: async () => [...records.values()].filter((r) => r.state === 'pending'),
  };
}

/**
 * A credential store in a JSON file (Node only), for `l402Adapter({ credentials })`: paid
 * credentials survive restarts. Writes are synchronous (the adapter's contract).
 *
 * @example
 * ```ts
 * import { createPayingFetch, l402Adapter } from '@stipend/client';
 * import { fileCredentialStore } from '@stipend/wallet-lightning/file';
 * const credentials = await fileCredentialStore('/var/lib/agent/l402-credentials.json');
 * const payingFetch = createPayingFetch({ wallets: [wallet], adapters: [l402Adapter({ credentials })] });
 * ```
 */
export async function fileCredentialStore(path: string): Promise<L402CredentialStore> {
  const fs = await loadFs();
  const loaded = readJson(fs, path);
  let all: L402Credential[] = Array.isArray(loaded)
    ? (loaded as L402Credential[]).filter(
        (c) => typeof c?.id === 'string' && typeof c.origin === 'string' && Array.isArray(c.paths),
      )
    : [];
  const save = () => writeJsonSync(fs, path, all);
  return {
    list: (origin) => all.filter((c) => c.origin === origin),
    put(credential) {
      all = [...all.filter((c) => c.id !== credential.id), { ...credential }];
      save();
    },
    delete(id) {
      const kept = all.filter((c) => c.id !== id);
      if (kept.length === all.length) return;
      all = kept;
      save();
    },
  };
}
