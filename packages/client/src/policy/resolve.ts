/**
 * Rule resolution: which rules of a policy apply to one request, and what they add up to.
 * Every matching rule applies at once and the most restrictive value of each field wins, so
 * a per-call override is just one more rule in the intersection: it can only tighten.
 *
 * @module
 */
import type { BudgetLimit } from '../budget/store.js';
import { matchNormalizedHost, normalizeHostname } from './hosts.js';
import type { Rule, SpendPolicy } from './types.js';
import type { CompiledList, CompiledPolicy, CompiledRule, RuleSource } from './validate.js';
import { compilePolicy, compileRule, DEFAULT_MAX_AUTHORIZATION_TTL_SEC } from './validate.js';

/** What a request is resolved against. */
export interface ResolveInput {
  /** The request's hostname, as `new URL(...).hostname` gives it. */
  readonly hostname: string;
  /** The call's tags (`init.payment.tags` plus the fetch config's). */
  readonly tags?: readonly string[];
  /** A per-call rule; it can only tighten and may not carry `limits` or `maxRequests`. */
  readonly override?: Rule;
}

/** One rule that applies to the request. */
export interface MatchedRule {
  readonly source: RuleSource;
  /** How messages name it: `global`, `*.example.com`, `tag "research"`, `this call's override`. */
  readonly label: string;
  /** Where it lives in the policy: `global`, `hosts["*.example.com"]`, `tags["x"]`, `override`. */
  readonly path: string;
  /** Budget scope id: `global`, `host:<pattern>`, `tag:<name>`; absent for the override. */
  readonly scope?: string;
  readonly rule: Rule;
}

/** A value together with the rule it came from. */
export interface FromRule<T> {
  readonly value: T;
  /** The label of the rule that set it. */
  readonly from: string;
  /** The path of that rule in the policy (`global`, `hosts["…"]`, …). */
  readonly path: string;
}

/** One rule's allow and deny lists (lower-case). */
export interface ResolvedList {
  readonly allow?: ReadonlySet<string>;
  readonly deny?: ReadonlySet<string>;
  readonly from: string;
  readonly path: string;
}

/** The effective combination of every rule that applies to a request. */
export interface ResolvedRules {
  readonly rules: readonly MatchedRule[];
  /** deny > ask > allow. */
  readonly action: FromRule<'allow' | 'deny' | 'ask'>;
  /** The lowest `maxPerRequest.usd`, in USD micro-units. */
  readonly maxPerRequestUsd?: FromRule<bigint>;
  /** Every rule's `maxPerRequest.usd` (to name each cap a payment would break). */
  readonly perRequestUsdCaps: readonly FromRule<bigint>[];
  /** Every native cap of every rule; `unit` is a lower-case unit key. */
  readonly nativeCaps: readonly FromRule<{ readonly unit: string; readonly max: bigint }>[];
  /** The lowest `maxDeposit.usd` (sessions), in USD micro-units. */
  readonly maxDepositUsd?: FromRule<bigint>;
  /** Every `maxDeposit.native` cap of every rule (sessions); `unit` lower-case. */
  readonly depositNativeCaps?: readonly FromRule<{ readonly unit: string; readonly max: bigint }>[];
  /** The lowest `approveAbove`, in USD micro-units. */
  readonly approveAbove?: FromRule<bigint>;
  /** An offer must pass every rule's allow list and no rule's deny list. */
  readonly protocols: readonly ResolvedList[];
  readonly networks: readonly ResolvedList[];
  readonly assets: readonly ResolvedList[];
  readonly payees: readonly ResolvedList[];
  /** The lowest `maxAuthorizationTtlSec` (default 3600). */
  readonly maxAuthorizationTtlSec: number;
  /** Every windowed limit, as the budget store takes them. */
  readonly limits: readonly BudgetLimit[];
  /** The tags the request carried (deduplicated). */
  readonly tags: readonly string[];
}

const STRENGTH = { allow: 0, ask: 1, deny: 2 } as const;

/** How the per-call override is named in messages. */
export const OVERRIDE_LABEL = "this call's override";

/**
 * Resolves which rules of a policy apply to a request and combines them: the global rule,
 * every host pattern matching the hostname, every tag the call carries, and the per-call
 * override. No policy means `DEFAULT_POLICY`; a policy without `global` keeps the default
 * global caps ($0.10 per request, $1 per UTC day) unless it says `global: {}`.
 *
 * @throws {StipendError} code `POLICY_INVALID` when the policy or the override is invalid
 *   (an override with `limits` or `maxRequests` included).
 * @example
 * ```ts
 * import { resolveRules } from '@stipend/client';
 * const r = resolveRules(
 *   { global: { maxPerRequest: { usd: '1' } }, hosts: { '*.example.com': { maxPerRequest: { usd: '0.10' } } } },
 *   { hostname: 'api.example.com', override: { maxPerRequest: { usd: '5' } } },
 * );
 * r.maxPerRequestUsd?.value; // 100000n: the override cannot raise the host's cap
 * ```
 */
export function resolveRules(policy: SpendPolicy | undefined, input: ResolveInput): ResolvedRules {
  return resolveCompiled(compilePolicy(policy), input);
}

/**
 * {@link resolveRules} against an already compiled policy (the engine compiles once).
 *
 * @throws {StipendError} code `POLICY_INVALID` when the override is invalid.
 * @example
 * ```ts
 * import { compilePolicy, resolveCompiled } from '@stipend/client';
 * const compiled = compilePolicy({ global: {} });
 * resolveCompiled(compiled, { hostname: 'a.example' }).action.value; // 'allow'
 * ```
 */
export function resolveCompiled(compiled: CompiledPolicy, input: ResolveInput): ResolvedRules {
  const hostname = normalizeHostname(input.hostname);
  const tags = [...new Set(input.tags ?? [])];
  const matched: CompiledRule[] = [compiled.global];
  for (const rule of compiled.hosts) {
    if (rule.key !== undefined && matchNormalizedHost(rule.key, hostname)) matched.push(rule);
  }
  for (const tag of tags) {
    const rule = compiled.tags.get(tag);
    if (rule !== undefined) matched.push(rule);
  }
  if (input.override !== undefined) {
    matched.push(
      compileRule(input.override, {
        source: 'override',
        label: OVERRIDE_LABEL,
        path: 'override',
        protocols: compiled.protocols,
      }),
    );
  }
  return combine(matched, tags);
}

function combine(rules: readonly CompiledRule[], tags: readonly string[]): ResolvedRules {
  let action: FromRule<'allow' | 'deny' | 'ask'> | undefined;
  let maxPerRequestUsd: FromRule<bigint> | undefined;
  let approveAbove: FromRule<bigint> | undefined;
  let ttl: number = DEFAULT_MAX_AUTHORIZATION_TTL_SEC;
  const nativeCaps: FromRule<{ unit: string; max: bigint }>[] = [];
  let maxDepositUsd: FromRule<bigint> | undefined;
  const depositNativeCaps: FromRule<{ unit: string; max: bigint }>[] = [];
  const perRequestUsdCaps: FromRule<bigint>[] = [];
  const lists = {
    protocols: [] as ResolvedList[],
    networks: [] as ResolvedList[],
    assets: [] as ResolvedList[],
    payees: [] as ResolvedList[],
  };
  const limits: BudgetLimit[] = [];

  for (const rule of rules) {
    const from = { from: rule.label, path: rule.path };
    if (action === undefined || STRENGTH[rule.action] > STRENGTH[action.value]) {
      action = { value: rule.action, ...from };
    }
    if (rule.maxPerRequestUsd !== undefined) {
      perRequestUsdCaps.push({ value: rule.maxPerRequestUsd, ...from });
      if (maxPerRequestUsd === undefined || rule.maxPerRequestUsd < maxPerRequestUsd.value) {
        maxPerRequestUsd = { value: rule.maxPerRequestUsd, ...from };
      }
    }
    if (
      rule.approveAbove !== undefined &&
      (approveAbove === undefined || rule.approveAbove < approveAbove.value)
    ) {
      approveAbove = { value: rule.approveAbove, ...from };
    }
    if (rule.maxAuthorizationTtlSec !== undefined && rule.maxAuthorizationTtlSec < ttl) {
      ttl = rule.maxAuthorizationTtlSec;
    }
    for (const cap of rule.native) nativeCaps.push({ value: cap, ...from });
    if (
      rule.maxDepositUsd !== undefined &&
      (maxDepositUsd === undefined || rule.maxDepositUsd < maxDepositUsd.value)
    ) {
      maxDepositUsd = { value: rule.maxDepositUsd, ...from };
    }
    for (const cap of rule.depositNative ?? []) depositNativeCaps.push({ value: cap, ...from });
    for (const kind of ['protocols', 'networks', 'assets', 'payees'] as const) {
      const list: CompiledList | undefined = rule[kind];
      if (list !== undefined) lists[kind].push({ ...list, ...from });
    }
    if (rule.scope !== undefined) {
      for (const limit of rule.limits) {
        limits.push({ scope: rule.scope, window: limit.window, maxUsdMicros: limit.maxUsdMicros });
      }
      for (const limit of rule.maxRequests) {
        limits.push({ scope: rule.scope, window: limit.window, maxCount: limit.maxCount });
      }
    }
  }

  return Object.freeze({
    rules: Object.freeze(
      rules.map((rule) =>
        Object.freeze({
          source: rule.source,
          label: rule.label,
          path: rule.path,
          ...(rule.scope !== undefined ? { scope: rule.scope } : {}),
          rule: rule.rule,
        }),
      ),
    ),
    action: action ?? { value: 'allow' as const, from: 'global', path: 'global' },
    ...(maxPerRequestUsd !== undefined ? { maxPerRequestUsd } : {}),
    perRequestUsdCaps: Object.freeze(perRequestUsdCaps),
    nativeCaps: Object.freeze(nativeCaps),
    ...(maxDepositUsd !== undefined ? { maxDepositUsd } : {}),
    ...(depositNativeCaps.length > 0
      ? { depositNativeCaps: Object.freeze(depositNativeCaps) }
      : {}),
    ...(approveAbove !== undefined ? { approveAbove } : {}),
    protocols: Object.freeze(lists.protocols),
    networks: Object.freeze(lists.networks),
    assets: Object.freeze(lists.assets),
    payees: Object.freeze(lists.payees),
    maxAuthorizationTtlSec: ttl,
    limits: Object.freeze(limits),
    tags: Object.freeze(tags),
  });
}

/** Why a value fails a set of lists. */
export interface ListVerdict {
  readonly kind: 'deny' | 'allow';
  readonly list: ResolvedList;
}

/**
 * Checks a value against every rule's lists: refused if any deny list holds it, or any allow
 * list lacks it (an absent value fails every allow list). Case-insensitive.
 *
 * @example
 * ```ts
 * import { checkLists } from '@stipend/client';
 * checkLists([{ allow: new Set(['x402']), from: 'global', path: 'global' }], 'l402')?.kind; // 'allow'
 * ```
 */
export function checkLists(
  lists: readonly ResolvedList[],
  value: string | undefined,
): ListVerdict | undefined {
  const needle = value?.toLowerCase();
  for (const list of lists) {
    if (needle !== undefined && list.deny?.has(needle)) return { kind: 'deny', list };
  }
  for (const list of lists) {
    if (list.allow !== undefined && (needle === undefined || !list.allow.has(needle))) {
      return { kind: 'allow', list };
    }
  }
  return undefined;
}
