/**
 * The `stipend` command's session store: one JSON file (`sessions.json` in the stipend
 * directory) behind the client's `SessionStore` interface, so a session opened by one
 * `stipend fetch` is used by the next and closed by `stipend sessions close`.
 *
 * Interim: `@stipend/stores/file` gets a journaled, fsynced session store; this one is small
 * on purpose. Every write is a compare-and-set under a lock file (`<file>.lock`, created with
 * O_EXCL), then the whole file is replaced atomically (written beside, then renamed), so
 * readers never see half a file and two processes never both create a live session of one
 * scope. The file holds the session's secret (the bearer preimage): it is written mode 0600.
 *
 * @module
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import {
  LIVE_SESSION_STATES,
  type SessionFilter,
  type SessionHold,
  type SessionRecord,
  type SessionStore,
} from '@stipend/client';
import { toJson } from '../output/json.js';

/** Options of {@link fileSessionStore}. */
export interface FileSessionStoreOptions {
  /** Give up waiting for the lock after this many ms. Default 10 000. */
  readonly lockTimeoutMs?: number;
  /** A lock file older than this is left over by a killed process and is removed. Default 10 000. */
  readonly staleLockMs?: number;
}

/** A session store kept in one JSON file. */
export interface FileSessionStore extends SessionStore {
  /** The file. */
  readonly path: string;
}

/**
 * Opens (or, on the first write, creates) the session file at `path`.
 *
 * @example
 * ```ts
 * import { createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * import { fileSessionStore } from './file-store.js';
 * const payingFetch = createPayingFetch({
 *   wallets,
 *   sessions: { methods: [lightningSessionMethod()], store: fileSessionStore('/home/me/.config/stipend/sessions.json') },
 * });
 * ```
 */
export function fileSessionStore(
  path: string,
  options: FileSessionStoreOptions = {},
): FileSessionStore {
  const lockPath = `${path}.lock`;
  const timeoutMs = options.lockTimeoutMs ?? 10_000;
  const staleMs = options.staleLockMs ?? 10_000;

  async function locked<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let pause = 1;
    for (;;) {
      let fd: number | undefined;
      try {
        mkdirSync(dirname(path), { recursive: true });
        fd = openSync(lockPath, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (fd !== undefined) {
        closeSync(fd);
        try {
          return fn();
        } finally {
          unlinkSync(lockPath);
        }
      }
      if (isStale(lockPath, staleMs)) continue;
      if (Date.now() >= deadline) {
        throw new Error(
          `Timed out after ${timeoutMs} ms waiting for ${lockPath}: another stipend process holds it; if none runs, delete that file.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
      pause = Math.min(pause * 2, 20);
    }
  }

  const all = (): Map<string, SessionRecord> => readSessionFile(path);

  return {
    path,
    async get(id) {
      return all().get(id);
    },
    async list(filter?: SessionFilter) {
      return sorted([...all().values()].filter((record) => matches(record, filter)));
    },
    async byScope(origin, realm, method) {
      return sorted(
        [...all().values()].filter(
          (r) => r.origin === origin && r.realm === realm && r.method === method,
        ),
      );
    },
    put(record, expectedVersion) {
      return locked(() => {
        const records = all();
        const stored = records.get(record.id);
        if (expectedVersion === 0 ? stored !== undefined : stored?.version !== expectedVersion) {
          return { ok: false as const, current: stored };
        }
        if (isLive(record)) {
          for (const other of records.values()) {
            if (other.id !== record.id && other.scope === record.scope && isLive(other)) {
              return { ok: false as const, current: other };
            }
          }
        }
        const next = Object.freeze({ ...record, version: expectedVersion + 1 });
        records.set(record.id, next);
        writeSessionFile(path, records);
        return { ok: true as const, record: reviveSession(JSON.parse(toJson(next)), path) };
      });
    },
  };
}

/**
 * Reads a session file: every record by id. A missing file holds no sessions.
 *
 * @throws {Error} naming the file when it is not a session file.
 * @example
 * ```ts
 * import { readSessionFile } from './file-store.js';
 * const sessions = [...readSessionFile('/home/me/.config/stipend/sessions.json').values()];
 * ```
 */
export function readSessionFile(path: string): Map<string, SessionRecord> {
  if (!existsSync(path)) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(
      `${path} is not JSON (${(error as Error).message}); the session file is damaged: move it away (its open sessions then close at the seller after their idle timeout)`,
    );
  }
  const sessions = (parsed as { sessions?: unknown } | null)?.sessions;
  if (typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) {
    throw new Error(`${path} is not a stipend session file (no "sessions" object)`);
  }
  const out = new Map<string, SessionRecord>();
  for (const raw of Object.values(sessions)) {
    const record = reviveSession(raw, path);
    out.set(record.id, record);
  }
  return out;
}

function writeSessionFile(path: string, records: ReadonlyMap<string, SessionRecord>): void {
  const text = toJson({ format: 'stipend-sessions/1', sessions: Object.fromEntries(records) }, 1);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${text}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** A stored record with its bigints restored (they are written as decimal strings). */
function reviveSession(raw: unknown, path: string): SessionRecord {
  const record = raw as Record<string, unknown> | null;
  if (typeof record !== 'object' || record === null || typeof record.id !== 'string') {
    throw new Error(`${path}: a session without an id; the session file is damaged`);
  }
  const where = `${path}: session ${record.id}`;
  const holds = Array.isArray(record.holds) ? record.holds : [];
  return Object.freeze({
    ...(record as unknown as SessionRecord),
    unitPriceAtomic: big(record.unitPriceAtomic, where, 'unitPriceAtomic'),
    depositAtomic: big(record.depositAtomic, where, 'depositAtomic'),
    spentAtomic: big(record.spentAtomic, where, 'spentAtomic'),
    refundedAtomic: big(record.refundedAtomic, where, 'refundedAtomic'),
    holds: Object.freeze(holds.map((hold) => reviveHold(hold, where))),
  });
}

function reviveHold(raw: Record<string, unknown>, where: string): SessionHold {
  const rate = (value: unknown, field: string) => {
    const r = value as { numerator?: unknown; denominator?: unknown } | undefined;
    return {
      numerator: big(r?.numerator, where, `${field}.numerator`),
      denominator: big(r?.denominator, where, `${field}.denominator`),
    };
  };
  return {
    ...(raw as unknown as SessionHold),
    atomic: big(raw.atomic, where, 'holds.atomic'),
    reservedUsdMicros: big(raw.reservedUsdMicros, where, 'holds.reservedUsdMicros'),
    rate: rate(raw.rate, 'holds.rate'),
    ...(raw.feeAtomic !== undefined ? { feeAtomic: big(raw.feeAtomic, where, 'feeAtomic') } : {}),
    ...(raw.committedUsdMicros !== undefined
      ? { committedUsdMicros: big(raw.committedUsdMicros, where, 'committedUsdMicros') }
      : {}),
    ...(raw.feeRate !== undefined ? { feeRate: rate(raw.feeRate, 'holds.feeRate') } : {}),
  };
}

function big(value: unknown, where: string, field: string): bigint {
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new Error(`${where}: ${field} is not an integer string; the session file is damaged`);
}

function isStale(lockPath: string, staleMs: number): boolean {
  try {
    if (Date.now() - statSync(lockPath).mtimeMs <= staleMs) return false;
    unlinkSync(lockPath);
    return true;
  } catch (error) {
    // Gone meanwhile: try again at once.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function isLive(record: SessionRecord): boolean {
  return LIVE_SESSION_STATES.includes(record.state);
}

function matches(record: SessionRecord, filter: SessionFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.states && !filter.states.includes(record.state)) return false;
  if (filter.origin !== undefined && record.origin !== filter.origin) return false;
  if (filter.method !== undefined && record.method !== filter.method) return false;
  return true;
}

function sorted(records: SessionRecord[]): SessionRecord[] {
  return records.sort((a, b) => a.createdAt - b.createdAt);
}
