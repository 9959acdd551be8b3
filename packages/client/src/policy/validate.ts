/**
 * Checks a spend policy up front and compiles it into parsed values (bigint caps, budget
 * windows, canonical host patterns, lower-case lists). A mistake in a policy is reported once,
 * with the path of the field to fix, instead of surfacing as a surprise at payment time.
 *
 * @module
 */

import type { BudgetWindow } from '../budget/store.js';
import { parseWindowSpec } from '../budget/window.js';
import { isStipendError, StipendError } from '../errors/base.js';
import { parseUsd } from '../money/index.js';
import type { Protocol } from '../offer.js';
import { normalizeHostPattern } from './hosts.js';
import type { Rule, SpendPolicy, WindowSpec } from './types.js';
import { DEFAULT_POLICY } from './types.js';

/** Default `maxAuthorizationTtlSec`: one hour. */
export const DEFAULT_MAX_AUTHORIZATION_TTL_SEC = 3600;
/** Default `approvalTimeoutMs`: two minutes. */
export const DEFAULT_APPROVAL_TIMEOUT_MS = 120_000;
/** Default `maxRateAgeMs`: five minutes. */
export const DEFAULT_MAX_RATE_AGE_MS = 300_000;

/** Longest delay `setTimeout` honours; larger values fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

const PROTOCOLS: readonly Protocol[] = ['x402', 'l402', 'mpp'];
const ACTIONS = ['allow', 'deny', 'ask'] as const;
const RULE_KEYS = new Set([
  'action',
  'maxPerRequest',
  'maxDeposit',
  'limits',
  'maxRequests',
  'approveAbove',
  'protocols',
  'networks',
  'assets',
  'payees',
  'maxAuthorizationTtlSec',
]);
const POLICY_KEYS = new Set([
  'global',
  'hosts',
  'tags',
  'prefer',
  'approvalTimeoutMs',
  'maxRateAgeMs',
]);

/** Where a rule comes from. */
export type RuleSource = 'global' | 'host' | 'tag' | 'override';

/** An allow list and a deny list, lower-cased. */
export interface CompiledList {
  readonly allow?: ReadonlySet<string>;
  readonly deny?: ReadonlySet<string>;
}

/** A rule with every value parsed. */
export interface CompiledRule {
  readonly source: RuleSource;
  /** How messages name the rule: `global`, `*.example.com`, `tag "research"`, `this call's override`. */
  readonly label: string;
  /** Where the rule lives in the policy: `global`, `hosts["*.example.com"]`, `tags["x"]`, `override`. */
  readonly path: string;
  /** Budget scope id; absent for the per-call override. */
  readonly scope?: string;
  /** The canonical host pattern (host rules) or tag name (tag rules). */
  readonly key?: string;
  readonly action: 'allow' | 'deny' | 'ask';
  readonly maxPerRequestUsd?: bigint;
  readonly native: readonly { readonly unit: string; readonly max: bigint }[];
  /** `maxDeposit.usd`, in USD micro-units (sessions). */
  readonly maxDepositUsd?: bigint;
  /** `maxDeposit.native` caps (sessions); `unit` lower-case. */
  readonly depositNative?: readonly { readonly unit: string; readonly max: bigint }[];
  readonly limits: readonly { readonly window: BudgetWindow; readonly maxUsdMicros: bigint }[];
  readonly maxRequests: readonly { readonly window: BudgetWindow; readonly maxCount: number }[];
  readonly approveAbove?: bigint;
  readonly protocols?: CompiledList;
  readonly networks?: CompiledList;
  readonly assets?: CompiledList;
  readonly payees?: CompiledList;
  readonly maxAuthorizationTtlSec?: number;
  /** The rule as written. */
  readonly rule: Rule;
}

/** A policy with every rule compiled and every default filled in. */
export interface CompiledPolicy {
  readonly global: CompiledRule;
  readonly hosts: readonly CompiledRule[];
  readonly tags: ReadonlyMap<string, CompiledRule>;
  /** Lower-cased preference entries, most preferred first. */
  readonly prefer: readonly string[];
  readonly approvalTimeoutMs: number;
  readonly maxRateAgeMs: number;
  /** Protocol names rules may list: the known three plus those of registered adapters. */
  readonly protocols: readonly string[];
  /** The policy as given (or `DEFAULT_POLICY`). */
  readonly policy: SpendPolicy;
}

/**
 * Checks a spend policy and throws when it has mistakes, naming each field to fix: every field
 * is checked on its own, so one error reports every mistake at once (`details.problems`, in
 * the order of the policy; the message starts with the first and lists the others).
 *
 * What is checked: USD strings (`'0.10'`, `'$1'` or micro-USD bigints), windows
 * (`{ rolling: '24h' }`, `{ calendar: 'day' }`, `{ total: true }`), counts (integers ≥ 0),
 * actions, host patterns, protocol names, list entries, TTLs and timeouts, and unknown keys (a
 * misspelt field would silently drop a cap, so it is refused).
 *
 * @throws {StipendError} code `POLICY_INVALID`, with `details.path` set to the (first) faulty
 *   field and `details.problems` listing every `{ path, message }`.
 * @example
 * ```ts
 * import { validatePolicy } from '@stipend/client';
 * validatePolicy({ global: { maxPerRequest: { usd: '0.10' }, limits: [{ usd: '5', window: { calendar: 'day' } }] } });
 * validatePolicy({ global: { maxPerRequest: { usd: '0.1.0' } } }); // throws: policy.global.maxPerRequest.usd …
 * ```
 */
export function validatePolicy(policy: SpendPolicy): void {
  compilePolicy(policy);
}

/**
 * Validates and compiles a policy. No policy at all means {@link DEFAULT_POLICY}. A policy
 * without a `global` rule keeps `DEFAULT_POLICY.global` as its global rule (fail closed:
 * $0.10 per request, $1 per UTC day); write `global: {}` to have no global caps.
 *
 * @throws {StipendError} code `POLICY_INVALID`.
 * @example
 * ```ts
 * import { compilePolicy } from '@stipend/client';
 * const compiled = compilePolicy({ hosts: { '*.example.com': { action: 'ask' } } });
 * compiled.global.maxPerRequestUsd; // 100000n (the default global rule still applies)
 * ```
 */
export function compilePolicy(
  policy: SpendPolicy | undefined,
  options: { readonly protocols?: readonly string[] } = {},
): CompiledPolicy {
  const protocols = [...new Set([...PROTOCOLS, ...(options.protocols ?? [])])];
  const given = policy ?? DEFAULT_POLICY;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalid(
      'policy',
      'must be an object such as { global: { maxPerRequest: { usd: "0.10" } } }',
    );
  }
  const problems = new Problems();
  rejectUnknownKeys(given, POLICY_KEYS, 'policy', problems);
  const globalRule = given.global ?? DEFAULT_POLICY.global ?? {};
  const global = compileRuleInto(
    globalRule,
    { source: 'global', label: 'global', path: 'global', scope: 'global', protocols },
    problems,
  );

  const hosts: CompiledRule[] = [];
  const seen = new Map<string, string>();
  for (const [pattern, rule] of problems.check(() => entries(given.hosts, 'policy.hosts'), [])) {
    const path = `hosts[${JSON.stringify(pattern)}]`;
    const key = problems.check(() => {
      let key: string;
      try {
        key = normalizeHostPattern(pattern);
      } catch (error) {
        throw invalid(path, messageOf(error), error);
      }
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        throw invalid(
          path,
          `is the same host as ${JSON.stringify(earlier)}; merge the two rules into one`,
        );
      }
      return key;
    }, undefined);
    if (key === undefined) continue;
    seen.set(key, pattern);
    hosts.push(
      compileRuleInto(
        rule,
        { source: 'host', label: pattern, path, scope: `host:${key}`, key, protocols },
        problems,
      ),
    );
  }

  const tags = new Map<string, CompiledRule>();
  for (const [tag, rule] of problems.check(() => entries(given.tags, 'policy.tags'), [])) {
    const path = `tags[${JSON.stringify(tag)}]`;
    if (tag.trim() === '') {
      problems.add(invalid(path, 'a tag name must not be empty'));
      continue;
    }
    tags.set(
      tag,
      compileRuleInto(
        rule,
        { source: 'tag', label: `tag "${tag}"`, path, scope: `tag:${tag}`, key: tag, protocols },
        problems,
      ),
    );
  }

  const prefer = problems
    .check(() => strings(given.prefer, 'policy.prefer'), [])
    .map((entry) => entry.toLowerCase());
  const approvalTimeoutMs = problems.check(
    () =>
      positiveMs(
        given.approvalTimeoutMs,
        'policy.approvalTimeoutMs',
        DEFAULT_APPROVAL_TIMEOUT_MS,
        false,
      ),
    DEFAULT_APPROVAL_TIMEOUT_MS,
  );
  const maxRateAgeMs = problems.check(
    () => positiveMs(given.maxRateAgeMs, 'policy.maxRateAgeMs', DEFAULT_MAX_RATE_AGE_MS, true),
    DEFAULT_MAX_RATE_AGE_MS,
  );
  problems.throwIfAny();
  return Object.freeze({
    global,
    protocols,
    hosts: Object.freeze(hosts),
    tags,
    prefer: Object.freeze(prefer),
    approvalTimeoutMs,
    maxRateAgeMs,
    policy: given,
  });
}

/** Where a rule sits, for {@link compileRule}. */
export interface RulePlace {
  readonly source: RuleSource;
  readonly label: string;
  readonly path: string;
  readonly scope?: string;
  readonly key?: string;
  /** Protocol names a rule may list; default the three known ones. */
  readonly protocols?: readonly string[];
}

/**
 * Validates and compiles one rule. The per-call override (`source: 'override'`) has no budget
 * scope, so it may not carry `limits` or `maxRequests`.
 *
 * @throws {StipendError} code `POLICY_INVALID`.
 * @example
 * ```ts
 * import { compileRule } from '@stipend/client';
 * const r = compileRule({ maxPerRequest: { usd: '0.05' } }, { source: 'override', label: "this call's override", path: 'override' });
 * r.maxPerRequestUsd; // 50000n
 * ```
 */
export function compileRule(rule: Rule, place: RulePlace): CompiledRule {
  const problems = new Problems();
  const compiled = compileRuleInto(rule, place, problems);
  problems.throwIfAny();
  return compiled;
}

/** {@link compileRule}, keeping every mistake in `problems` (the rule returned is then partial). */
function compileRuleInto(rule: Rule, place: RulePlace, problems: Problems): CompiledRule {
  const at = place.path === 'override' ? 'override' : `policy.${place.path}`;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    problems.add(invalid(at, 'must be a rule object such as { maxPerRequest: { usd: "0.10" } }'));
    rule = {};
  }
  rejectUnknownKeys(rule, RULE_KEYS, at, problems);
  if (
    place.source === 'override' &&
    (rule.limits !== undefined || rule.maxRequests !== undefined)
  ) {
    problems.add(
      invalid(
        at,
        'a per-call override may not carry limits or maxRequests (it has no budget of its own); ' +
          'put windowed limits in the policy, under a tag if they belong to some calls only',
      ),
    );
  }

  let action = rule.action ?? 'allow';
  if (!(ACTIONS as readonly string[]).includes(action)) {
    problems.add(invalid(`${at}.action`, `must be "allow", "deny" or "ask", got ${show(action)}`));
    action = 'deny';
  }

  let maxPerRequestUsd: bigint | undefined;
  const native: { unit: string; max: bigint }[] = [];
  const mpr = rule.maxPerRequest;
  if (
    mpr !== undefined &&
    problems.check(() => Boolean(objectAt(mpr, `${at}.maxPerRequest`)), false)
  ) {
    rejectUnknownKeys(mpr, new Set(['usd', 'native']), `${at}.maxPerRequest`, problems);
    if (mpr.usd !== undefined) {
      maxPerRequestUsd = problems.check(() => usd(mpr.usd, `${at}.maxPerRequest.usd`), 0n);
    }
    const caps = problems.check(() => array(mpr.native, `${at}.maxPerRequest.native`), []);
    for (const [i, cap] of caps) {
      const path = `${at}.maxPerRequest.native[${i}]`;
      problems.check(() => {
        objectAt(cap, path);
        if (typeof cap.unit !== 'string' || cap.unit.trim() === '') {
          throw invalid(
            `${path}.unit`,
            'must be a unit key such as "lightning:msat" or "eip155:8453/0x833589fcd6edb6e08f4c7c32d4f71b54bda02913"',
          );
        }
        native.push({ unit: cap.unit.toLowerCase(), max: atomic(cap.max, `${path}.max`) });
      }, undefined);
    }
  }

  let maxDepositUsd: bigint | undefined;
  const depositNative: { unit: string; max: bigint }[] = [];
  const md = rule.maxDeposit;
  if (md !== undefined && problems.check(() => Boolean(objectAt(md, `${at}.maxDeposit`)), false)) {
    rejectUnknownKeys(md, new Set(['usd', 'native']), `${at}.maxDeposit`, problems);
    if (md.usd !== undefined) {
      maxDepositUsd = problems.check(() => usd(md.usd, `${at}.maxDeposit.usd`), 0n);
    }
    for (const [i, cap] of problems.check(() => array(md.native, `${at}.maxDeposit.native`), [])) {
      const path = `${at}.maxDeposit.native[${i}]`;
      problems.check(() => {
        objectAt(cap, path);
        if (typeof cap.unit !== 'string' || cap.unit.trim() === '') {
          throw invalid(`${path}.unit`, 'must be a unit key such as "lightning:msat"');
        }
        depositNative.push({ unit: cap.unit.toLowerCase(), max: atomic(cap.max, `${path}.max`) });
      }, undefined);
    }
  }

  const limits: { window: BudgetWindow; maxUsdMicros: bigint }[] = [];
  for (const [i, limit] of problems.check(() => array(rule.limits, `${at}.limits`), [])) {
    const path = `${at}.limits[${i}]`;
    if (!problems.check(() => Boolean(objectAt(limit, path)), false)) continue;
    const maxUsdMicros = problems.check(() => usd(limit.usd, `${path}.usd`), undefined);
    const window = problems.check(() => windowOf(limit.window, `${path}.window`), undefined);
    if (maxUsdMicros !== undefined && window !== undefined) limits.push({ maxUsdMicros, window });
  }

  const maxRequests: { window: BudgetWindow; maxCount: number }[] = [];
  for (const [i, limit] of problems.check(() => array(rule.maxRequests, `${at}.maxRequests`), [])) {
    const path = `${at}.maxRequests[${i}]`;
    if (!problems.check(() => Boolean(objectAt(limit, path)), false)) continue;
    const count = limit.count;
    const countOk = typeof count === 'number' && Number.isSafeInteger(count) && count >= 0;
    if (!countOk) {
      problems.add(
        invalid(`${path}.count`, `must be a whole number of payments ≥ 0, got ${show(count)}`),
      );
    }
    const window = problems.check(() => windowOf(limit.window, `${path}.window`), undefined);
    if (countOk && window !== undefined) maxRequests.push({ maxCount: count, window });
  }

  const approveAbove =
    rule.approveAbove === undefined
      ? undefined
      : problems.check(() => usd(rule.approveAbove, `${at}.approveAbove`), 0n);

  let maxAuthorizationTtlSec: number | undefined;
  if (rule.maxAuthorizationTtlSec !== undefined) {
    const ttl = rule.maxAuthorizationTtlSec;
    if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
      problems.add(
        invalid(
          `${at}.maxAuthorizationTtlSec`,
          `must be a whole number of seconds > 0 (e.g. 3600), got ${show(ttl)}`,
        ),
      );
    } else {
      maxAuthorizationTtlSec = ttl;
    }
  }

  const protocols = problems.check(
    () =>
      list(rule.protocols, `${at}.protocols`, (entry, path) => {
        const known: readonly string[] = place.protocols ?? PROTOCOLS;
        if (!known.includes(entry)) {
          throw invalid(
            path,
            `unknown protocol ${show(entry)}; use ${known.map((p) => `"${p}"`).join(', ')}`,
          );
        }
      }),
    undefined,
  );
  const networks = problems.check(() => list(rule.networks, `${at}.networks`), undefined);
  const assets = problems.check(() => list(rule.assets, `${at}.assets`), undefined);
  const payees = problems.check(() => list(rule.payees, `${at}.payees`), undefined);

  return Object.freeze({
    source: place.source,
    label: place.label,
    path: place.path,
    ...(place.scope !== undefined ? { scope: place.scope } : {}),
    ...(place.key !== undefined ? { key: place.key } : {}),
    action,
    ...(maxPerRequestUsd !== undefined ? { maxPerRequestUsd } : {}),
    native: Object.freeze(native),
    ...(maxDepositUsd !== undefined ? { maxDepositUsd } : {}),
    ...(depositNative.length > 0 ? { depositNative: Object.freeze(depositNative) } : {}),
    limits: Object.freeze(limits),
    maxRequests: Object.freeze(maxRequests),
    ...(approveAbove !== undefined ? { approveAbove } : {}),
    ...(protocols !== undefined ? { protocols } : {}),
    ...(networks !== undefined ? { networks } : {}),
    ...(assets !== undefined ? { assets } : {}),
    ...(payees !== undefined ? { payees } : {}),
    ...(maxAuthorizationTtlSec !== undefined ? { maxAuthorizationTtlSec } : {}),
    rule,
  });
}

function usd(value: unknown, path: string): bigint {
  if (typeof value === 'number') {
    throw invalid(
      path,
      `write ${value} as a string ("${value}") or as micro-USD bigint; numbers are not accepted for money`,
    );
  }
  try {
    return parseUsd(value as string | bigint);
  } catch (error) {
    throw invalid(path, `${messageOf(error)}; write dollars like "0.10" or "$1"`, error);
  }
}

function atomic(value: unknown, path: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(value)) return BigInt(value);
  throw invalid(
    path,
    `must be a whole number of atomic units ≥ 0, as a bigint or digit string (e.g. 50000000n or "50000000"), got ${show(value)}`,
  );
}

function windowOf(value: unknown, path: string): BudgetWindow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(
      path,
      'must be { rolling: "24h" }, { calendar: "day" | "week" | "month" } or { total: true }',
    );
  }
  try {
    return parseWindowSpec(value as WindowSpec);
  } catch (error) {
    throw invalid(
      path,
      `${messageOf(error)}; use { rolling: "24h" }, { calendar: "day" | "week" | "month" } or { total: true }`,
      error,
    );
  }
}

function list(
  value: unknown,
  path: string,
  check?: (entry: string, path: string) => void,
): CompiledList | undefined {
  if (value === undefined) return undefined;
  const obj = objectAt(value, path);
  const unknown = new Problems();
  rejectUnknownKeys(obj, new Set(['allow', 'deny']), path, unknown);
  unknown.throwIfAny();
  const out: { allow?: ReadonlySet<string>; deny?: ReadonlySet<string> } = {};
  for (const kind of ['allow', 'deny'] as const) {
    const raw = (obj as Record<string, unknown>)[kind];
    if (raw === undefined) continue;
    const entries = strings(raw, `${path}.${kind}`).map((entry) => entry.toLowerCase());
    entries.forEach((entry, i) => {
      check?.(entry, `${path}.${kind}[${i}]`);
    });
    out[kind] = new Set(entries);
  }
  return Object.freeze(out);
}

function strings(value: unknown, path: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(path, `must be an array of strings, got ${show(value)}`);
  return value.map((entry, i) => {
    if (typeof entry !== 'string' || entry.trim() === '') {
      throw invalid(`${path}[${i}]`, `must be a non-empty string, got ${show(entry)}`);
    }
    return entry;
  });
}

function positiveMs(value: unknown, path: string, fallback: number, zeroOk: boolean): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isSafeInteger(value) ||
    value < 0 ||
    (!zeroOk && value === 0) ||
    value > MAX_TIMER_MS
  ) {
    throw invalid(
      path,
      `must be a whole number of milliseconds ${zeroOk ? '≥ 0' : '> 0'} and at most ${MAX_TIMER_MS}, got ${show(value)}`,
    );
  }
  return value;
}

function entries<T>(value: Readonly<Record<string, T>> | undefined, path: string): [string, T][] {
  if (value === undefined) return [];
  objectAt(value, path);
  return Object.entries(value);
}

function array<T>(value: readonly T[] | undefined, path: string): [number, T][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(path, `must be an array, got ${show(value)}`);
  return value.map((item, i) => [i, item] as [number, T]);
}

function objectAt<T>(value: T, path: string): T & object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(path, `must be an object, got ${show(value)}`);
  }
  return value as T & object;
}

function rejectUnknownKeys(
  value: object,
  known: ReadonlySet<string>,
  path: string,
  problems: Problems,
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      problems.add(
        invalid(
          `${path}.${key}`,
          `is not a known field (known: ${[...known].join(', ')}); a misspelt field would silently drop a limit`,
        ),
      );
    }
  }
}

/**
 * The mistakes found in a policy so far. Each field is checked on its own, so that one
 * `POLICY_INVALID` error can name every field to fix instead of the first only.
 */
class Problems {
  private readonly found: StipendError[] = [];

  add(error: StipendError): void {
    this.found.push(error);
  }

  /** Runs one field's check; a `POLICY_INVALID` it throws is kept and `fallback` returned. */
  check<T>(run: () => T, fallback: T): T {
    try {
      return run();
    } catch (error) {
      if (!isStipendError(error) || error.code !== 'POLICY_INVALID') throw error;
      this.found.push(error);
      return fallback;
    }
  }

  /** Throws the one mistake, or one error that lists them all (`details.problems`). */
  throwIfAny(): void {
    const [first, ...more] = this.found;
    if (first === undefined) return;
    if (more.length === 0) throw first;
    const problems = this.found.map((error) => ({
      path: String(error.details.path),
      message: error.shortMessage,
    }));
    throw new StipendError(
      'POLICY_INVALID',
      `${first.shortMessage} (and ${more.length} more: ${more.map((e) => e.shortMessage).join('; ')})`,
      { details: { path: first.details.path, problems }, cause: first },
    );
  }
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function invalid(path: string, why: string, cause?: unknown): StipendError {
  const field = path.startsWith('policy') || path.startsWith('override') ? path : `policy.${path}`;
  return new StipendError('POLICY_INVALID', `${field}: ${why}`, {
    details: { path: field },
    ...(cause !== undefined ? { cause } : {}),
  });
}

function messageOf(error: unknown): string {
  if (isStipendError(error)) return error.shortMessage.replace(/\.$/, '');
  return error instanceof Error ? error.message : String(error);
}
