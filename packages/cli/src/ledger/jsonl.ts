/**
 * The spend ledger in a JSON-lines file, append-only: every change of a record (written
 * before paying, then committed, released or held) appends the record's whole new state as
 * one line. Reading keeps the last state of each id, so a crash between two lines loses
 * nothing that was written. Bigints are written as decimal strings.
 *
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ledger, SpendRecord } from '@stipend/client';
import { toJson } from '../output/json.js';

/** The bigint fields of a spend record, restored when reading. */
function reviveRecord(raw: Record<string, unknown>, where: string): SpendRecord {
  const big = (value: unknown, field: string): bigint => {
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
    throw new Error(`${where}: ${field} is not an integer string`);
  };
  if (typeof raw.id !== 'string') throw new Error(`${where}: a record without an id`);
  const amount = raw.amount as { value?: unknown; unit?: unknown } | undefined;
  const rate = raw.rate as Record<string, unknown> | undefined;
  return {
    ...(raw as unknown as SpendRecord),
    amount: { value: big(amount?.value, 'amount.value'), unit: amount?.unit as never },
    reservedUsdMicros: big(raw.reservedUsdMicros, 'reservedUsdMicros'),
    ...(raw.committedUsdMicros !== undefined
      ? { committedUsdMicros: big(raw.committedUsdMicros, 'committedUsdMicros') }
      : {}),
    rate: {
      numerator: big(rate?.numerator, 'rate.numerator'),
      denominator: big(rate?.denominator, 'rate.denominator'),
      source: String(rate?.source ?? ''),
      asOf: Number(rate?.asOf ?? 0),
    },
  };
}

/**
 * Reads a ledger file: the last state of every record, oldest record first. A missing file
 * is an empty ledger.
 *
 * @throws {Error} naming the file and line when a line is not a spend record.
 * @example
 * ```ts
 * import { readLedgerFile } from './jsonl.js';
 * const records = readLedgerFile('.stipend/demo-ledger.jsonl');
 * ```
 */
export function readLedgerFile(path: string): SpendRecord[] {
  if (!existsSync(path)) return [];
  const byId = new Map<string, SpendRecord>();
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const where = `${path}:${index + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // A torn last line (the process died mid-write) is skipped; any other is an error.
      if (index >= lines.length - 2) return;
      throw new Error(`${where} is not JSON; the ledger file is damaged`);
    }
    const record = reviveRecord(parsed as Record<string, unknown>, where);
    byId.set(record.id, record); // each line is a whole state: the last one wins
  });
  return [...byId.values()].sort((a, b) => a.createdAt - b.createdAt);
}

/** A file ledger, plus the records it held when opened. */
export interface JsonlLedger extends Ledger {
  readonly path: string;
  /** Records written before this ledger was opened (last states). */
  readonly history: readonly SpendRecord[];
  list(): readonly SpendRecord[];
  get(id: string): SpendRecord | undefined;
}

/**
 * Opens (or creates) a JSON-lines ledger file. Records of earlier runs are read once;
 * `list()` returns them followed by this run's.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { openJsonlLedger } from './jsonl.js';
 * const ledger = openJsonlLedger(`${process.env.HOME}/.config/stipend/ledger.jsonl`);
 * const payingFetch = createPayingFetch({ wallets, ledger });
 * ```
 */
export function openJsonlLedger(path: string): JsonlLedger {
  const history = readLedgerFile(path);
  const records = new Map<string, SpendRecord>(history.map((r) => [r.id, r]));
  const write = (record: SpendRecord) => {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${toJson(record)}\n`, { mode: 0o600 });
  };
  return {
    path,
    history,
    append(record) {
      if (records.has(record.id)) throw new Error(`spend record ${record.id} already exists`);
      records.set(record.id, record);
      write(record);
    },
    update(id, patch) {
      const current = records.get(id);
      if (!current) throw new Error(`no spend record ${id}`);
      const next = { ...current, ...patch, id };
      records.set(id, next);
      write(next);
    },
    list: () => [...records.values()],
    get: (id) => records.get(id),
  };
}

/**
 * Writes records as JSON lines, one final state per line (an export, or the demo's ledger).
 *
 * @example
 * ```ts
 * import { formatJsonl } from './jsonl.js';
 * process.stdout.write(formatJsonl(records));
 * ```
 */
export function formatJsonl(records: readonly SpendRecord[]): string {
  return records.map((record) => `${toJson(record)}\n`).join('');
}
