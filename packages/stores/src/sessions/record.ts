/**
 * The one check of a stored MPP session record, shared by every persisted session store
 * (file, IndexedDB, Redis): what a `put` may store (`JOURNAL_INVALID` otherwise, naming the
 * field) and what a read may hand back (`STORE_CORRUPT` otherwise). Records cross the codec
 * (`codec.ts`), so bigint amounts round-trip exactly and every record handed out is a fresh,
 * deeply frozen copy.
 *
 * A record's `secret` (the Lightning bearer preimage) is stored, so that a session survives a
 * restart, but never appears in an error: errors name the session id and the field, never a
 * value, and never carry the parser's message (V8 quotes the text it failed on).
 *
 * @module
 */
import {
  LIVE_SESSION_STATES,
  type SessionFilter,
  type SessionRecord,
  type SessionState,
  StipendError,
} from '@stipend/client';
import { decodeJson, encodeJson, type Json } from '../codec.js';
import { storeCorrupt } from '../errors.js';

/** Every session state (`SessionState`), checked against the union at compile time. */
const SESSION_STATES = [
  'opening',
  'open',
  'closing',
  'closed',
  'unknown',
] as const satisfies readonly SessionState[];
/** Fails to compile when `SessionState` gains a state that `SESSION_STATES` lacks. */
const COVERS_STATES: [Exclude<SessionState, (typeof SESSION_STATES)[number]>] extends [never]
  ? true
  : never = true;
void COVERS_STATES;

const STRINGS = [
  'id',
  'scope',
  'origin',
  'realm',
  'method',
  'rail',
  'walletId',
  'unit',
  'payee',
  'resource',
  'owner',
] as const satisfies readonly (keyof SessionRecord)[];
const AMOUNTS = [
  'unitPriceAtomic',
  'depositAtomic',
  'spentAtomic',
  'refundedAtomic',
] as const satisfies readonly (keyof SessionRecord)[];
const TIMES = ['createdAt', 'updatedAt'] as const satisfies readonly (keyof SessionRecord)[];
const OPTIONAL_TIMES = [
  'openedAt',
  'lastUsedAt',
  'idleCloseAt',
  'closedAt',
] as const satisfies readonly (keyof SessionRecord)[];

/** A malformed field: names it and what it must be, never its value. */
class ShapeError extends StipendError {
  override name = 'ShapeError';
  constructor(
    readonly field: string,
    readonly want: string,
  ) {
    super('JOURNAL_INVALID', `${field} must be ${want}`, { details: { field } });
  }
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function string(value: Obj, field: string, path = field, nonEmpty = false): void {
  const item = value[field];
  if (typeof item !== 'string' || (nonEmpty && item === '')) {
    throw new ShapeError(path, nonEmpty ? 'a non-empty string' : 'a string');
  }
}

function amount(value: Obj, field: string, path = field, optional = false): void {
  const item = value[field];
  if (optional && item === undefined) return;
  if (typeof item !== 'bigint' || item < 0n) throw new ShapeError(path, 'a bigint, 0n or more');
}

function time(value: Obj, field: string, optional = false): void {
  const item = value[field];
  if (optional && item === undefined) return;
  if (typeof item !== 'number' || !Number.isFinite(item)) {
    throw new ShapeError(field, 'a time in ms since epoch');
  }
}

function count(value: Obj, field: string, min: number): void {
  const item = value[field];
  if (!Number.isSafeInteger(item) || (item as number) < min) {
    throw new ShapeError(field, `a whole number, ${min} or more`);
  }
}

function rate(value: Obj, field: string, path: string, optional = false): void {
  const item = value[field];
  if (optional && item === undefined) return;
  if (!isObject(item)) throw new ShapeError(path, 'an object { numerator, denominator }');
  amount(item, 'numerator', `${path}.numerator`);
  amount(item, 'denominator', `${path}.denominator`);
  if (item.denominator === 0n) throw new ShapeError(`${path}.denominator`, 'above 0n');
}

function hold(item: unknown, index: number): void {
  const path = `holds[${index}]`;
  if (!isObject(item)) throw new ShapeError(path, 'an object');
  string(item, 'reservationId', `${path}.reservationId`, true);
  if (item.kind !== 'open' && item.kind !== 'topUp') {
    throw new ShapeError(`${path}.kind`, "'open' or 'topUp'");
  }
  amount(item, 'atomic', `${path}.atomic`);
  amount(item, 'feeAtomic', `${path}.feeAtomic`, true);
  amount(item, 'reservedUsdMicros', `${path}.reservedUsdMicros`);
  amount(item, 'committedUsdMicros', `${path}.committedUsdMicros`, true);
  rate(item, 'rate', `${path}.rate`);
  rate(item, 'feeRate', `${path}.feeRate`, true);
  if (item.reference !== undefined) string(item, 'reference', `${path}.reference`);
  if (!['paying', 'paid', 'void', 'unknown'].includes(item.state as string)) {
    throw new ShapeError(`${path}.state`, "'paying', 'paid', 'void' or 'unknown'");
  }
}

/** Throws {@link ShapeError} naming the first malformed field of a (decoded) session record. */
function checkShape(value: unknown): asserts value is SessionRecord {
  if (!isObject(value)) throw new ShapeError('the record', 'an object');
  for (const field of STRINGS) string(value, field, field, field === 'id' || field === 'scope');
  if (value.signer !== undefined) string(value, 'signer');
  for (const field of AMOUNTS) amount(value, field);
  count(value, 'uses', 0);
  count(value, 'version', 1);
  if (!SESSION_STATES.includes(value.state as SessionState)) {
    throw new ShapeError('state', `one of ${SESSION_STATES.join(', ')}`);
  }
  if (!Array.isArray(value.holds)) throw new ShapeError('holds', 'an array');
  value.holds.forEach(hold);
  for (const field of TIMES) time(value, field);
  for (const field of OPTIONAL_TIMES) time(value, field, true);
  if (
    value.closedBy !== undefined &&
    !['client', 'server', 'person'].includes(value.closedBy as string)
  ) {
    throw new ShapeError('closedBy', "'client', 'server' or 'person'");
  }
  if (value.failure !== undefined) {
    if (!isObject(value.failure)) throw new ShapeError('failure', 'an object { code, message }');
    string(value.failure, 'code', 'failure.code');
    string(value.failure, 'message', 'failure.message');
  }
  if (value.disagreement !== undefined) {
    const disagreement = value.disagreement;
    if (!isObject(disagreement)) {
      throw new ShapeError(
        'disagreement',
        'an object { source, claimedAtomic, countedAtomic, at }',
      );
    }
    if (disagreement.source !== 'receipt' && disagreement.source !== 'stream') {
      throw new ShapeError('disagreement.source', "'receipt' or 'stream'");
    }
    amount(disagreement, 'claimedAtomic', 'disagreement.claimedAtomic');
    amount(disagreement, 'countedAtomic', 'disagreement.countedAtomic');
    if (typeof disagreement.at !== 'number' || !Number.isFinite(disagreement.at)) {
      throw new ShapeError('disagreement.at', 'a time in ms since epoch');
    }
  }
  if (!isObject(value.methodData)) throw new ShapeError('methodData', 'a plain object');
  if (value.secret !== undefined) {
    if (!isObject(value.secret)) throw new ShapeError('secret', 'an object of strings');
    for (const key of Object.keys(value.secret)) {
      if (typeof value.secret[key] !== 'string') {
        throw new ShapeError(`secret.${key}`, 'a string');
      }
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * Whether a session in this state occupies its scope (the client's `LIVE_SESSION_STATES`).
 *
 * @example
 * ```ts
 * import { isLiveSession } from './record.js';
 * isLiveSession(record); // true for opening, open, closing, unknown
 * ```
 */
export function isLiveSession(record: Pick<SessionRecord, 'state'>): boolean {
  return LIVE_SESSION_STATES.includes(record.state);
}

/**
 * What a `put(record, expectedVersion)` stores: the record with `version = expectedVersion + 1`,
 * checked, encoded for storage (JSON with bigint tags), and decoded again into a fresh, deeply
 * frozen copy that nobody else holds.
 *
 * @throws {StipendError} `JOURNAL_INVALID` naming the field to fix (never its value), for a
 * malformed record or expected version.
 *
 * @example
 * ```ts
 * import { sessionToStore } from './record.js';
 * const { record, json } = sessionToStore(input, 0); // record.version === 1
 * ```
 */
export function sessionToStore(
  input: SessionRecord,
  expectedVersion: number,
): { readonly record: SessionRecord; readonly json: Json } {
  const invalid = (field: string, want: string, id?: unknown) =>
    new StipendError('JOURNAL_INVALID', `Invalid session record: ${field} must be ${want}.`, {
      metaMessages: ['Pass the SessionRecord the paying fetch built, and its stored version.'],
      details: { field, ...(typeof id === 'string' ? { id } : {}) },
    });
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw invalid('expectedVersion', 'a whole number, 0 or more');
  }
  const id = (input as { id?: unknown } | null)?.id;
  let json: Json;
  let record: unknown;
  try {
    json = encodeJson({ ...input, version: expectedVersion + 1 });
    record = decodeJson(json);
  } catch {
    throw invalid('the record', 'plain data (objects, arrays, strings, numbers, bigints)', id);
  }
  try {
    checkShape(record);
  } catch (error) {
    if (error instanceof ShapeError) throw invalid(error.field, error.want, id);
    throw error;
  }
  return { record: deepFreeze(record), json };
}

/**
 * Reads a stored session record (JSON data as `sessionToStore` produced it, or its text):
 * decoded, checked and deeply frozen.
 *
 * @param stored - The stored JSON data, or its text (Redis).
 * @param where - Names the store in the error (`the session journal ./sessions.jsonl`).
 * @throws {StipendError} `STORE_CORRUPT` naming the session id (when readable) and the field,
 * never a value or the secret.
 *
 * @example
 * ```ts
 * import { sessionFromStore } from './record.js';
 * const record = sessionFromStore(text, 'the Redis session store "stipend:sessions:"');
 * ```
 */
export function sessionFromStore(stored: unknown, where: string): SessionRecord {
  let value: unknown;
  let problem: string;
  try {
    value = decodeJson(typeof stored === 'string' ? JSON.parse(stored) : stored);
    checkShape(value);
    return deepFreeze(value);
  } catch (error) {
    problem = error instanceof ShapeError ? error.message : 'it is not valid stored JSON';
  }
  const id = isObject(value) && typeof value.id === 'string' ? value.id : undefined;
  throw storeCorrupt(
    `A stored session${id === undefined ? '' : ` (${id})`} in ${where} cannot be read: ${problem}.`,
    'It was edited by hand or written by an incompatible version. Restore the store from a backup, or move the session aside and settle its deposit by hand.',
    undefined,
    { ...(id === undefined ? {} : { id }), where },
  );
}

/**
 * Whether a record matches a `SessionStore.list` filter (all given fields must match), as the
 * client's memory store decides it.
 *
 * @example
 * ```ts
 * import { matchesSessionFilter } from './record.js';
 * records.filter((record) => matchesSessionFilter(record, { states: ['open'] }));
 * ```
 */
export function matchesSessionFilter(
  record: SessionRecord,
  filter: SessionFilter | undefined,
): boolean {
  if (!filter) return true;
  if (filter.states && !filter.states.includes(record.state)) return false;
  if (filter.origin !== undefined && record.origin !== filter.origin) return false;
  if (filter.method !== undefined && record.method !== filter.method) return false;
  return true;
}
