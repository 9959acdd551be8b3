/**
 * A spend policy in plain words: caps, windows, hosts, tags, approvals.
 *
 * @module
 */
import {
  type BudgetWindow,
  createMemoryBudgetStore,
  createPolicyEngine,
  formatUsd,
  type PolicyEngine,
  pegPriceSource,
  type SpendPolicy,
} from '@stipend/client';

type CompiledPolicy = PolicyEngine['policy'];
type CompiledRule = CompiledPolicy['global'];

/**
 * Describes a budget window in words.
 *
 * @example
 * ```ts
 * import { describeWindow } from './explain.js';
 * describeWindow({ kind: 'calendar', unit: 'day' }); // 'per UTC day'
 * ```
 */
export function describeWindow(window: BudgetWindow): string {
  switch (window.kind) {
    case 'calendar':
      return window.unit === 'week' ? 'per ISO week (UTC)' : `per UTC ${window.unit}`;
    case 'rolling':
      return `in any ${duration(window.ms)}`;
    default:
      return 'in total, forever';
  }
}

function duration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms % size === 0) {
      const n = ms / size;
      return n === 1 ? name : `${n} ${name}s`;
    }
  }
  return `${ms} ms`;
}

function list(values: ReadonlySet<string> | undefined): string {
  return [...(values ?? [])].join(', ');
}

/** The lines describing one rule (empty when it sets nothing). */
function ruleLines(rule: CompiledRule): string[] {
  const lines: string[] = [];
  if (rule.action === 'deny') lines.push('nothing is paid (action "deny")');
  if (rule.action === 'ask') lines.push('a person approves every payment (action "ask")');
  if (rule.maxPerRequestUsd !== undefined) {
    lines.push(`at most ${formatUsd(rule.maxPerRequestUsd)} per payment, fees included`);
  }
  for (const cap of rule.native) {
    lines.push(`at most ${cap.max} atomic units of ${cap.unit} per payment`);
  }
  for (const limit of rule.limits) {
    lines.push(`at most ${formatUsd(limit.maxUsdMicros)} ${describeWindow(limit.window)}`);
  }
  for (const limit of rule.maxRequests) {
    lines.push(
      `at most ${limit.maxCount} payment${limit.maxCount === 1 ? '' : 's'} ${describeWindow(limit.window)}`,
    );
  }
  if (rule.approveAbove !== undefined) {
    lines.push(`a person approves any payment above ${formatUsd(rule.approveAbove)}`);
  }
  const lists: [string, CompiledRule['protocols']][] = [
    ['protocols', rule.protocols],
    ['networks', rule.networks],
    ['assets', rule.assets],
    ['payees', rule.payees],
  ];
  for (const [name, entry] of lists) {
    if (entry?.allow) lines.push(`${name}: only ${list(entry.allow)}`);
    if (entry?.deny) lines.push(`${name}: never ${list(entry.deny)}`);
  }
  if (rule.maxAuthorizationTtlSec !== undefined) {
    lines.push(`signed authorizations stay valid at most ${rule.maxAuthorizationTtlSec} s`);
  }
  return lines;
}

/**
 * Explains a (valid) policy in plain words, one rule per paragraph.
 *
 * @throws {StipendError} code `POLICY_INVALID` when the policy is invalid.
 * @example
 * ```ts
 * import { explainPolicy } from './explain.js';
 * console.log(explainPolicy({ global: { maxPerRequest: { usd: '0.10' } } }).join('\n'));
 * ```
 */
export function explainPolicy(policy: SpendPolicy | undefined): string[] {
  const compiled = createPolicyEngine({
    policy,
    budget: createMemoryBudgetStore(),
    prices: pegPriceSource(),
  }).policy;
  const out: string[] = [];
  const bullets = (lines: string[]) => lines.map((line) => `  • ${line}`);

  const global = ruleLines(compiled.global);
  if (policy === undefined || policy.global === undefined) {
    out.push('Everywhere — no global rule is written, so the fail-closed defaults apply:');
  } else {
    out.push('Everywhere (global):');
  }
  out.push(...(global.length > 0 ? bullets(global) : ['  • no global cap (global is empty)']));
  for (const rule of compiled.hosts) {
    out.push('', `On ${hostWords(rule.key ?? rule.label)} (hosts["${rule.label}"]), also:`);
    const lines = ruleLines(rule);
    out.push(...(lines.length > 0 ? bullets(lines) : ['  • nothing more']));
  }
  for (const [tag, rule] of compiled.tags) {
    out.push('', `For calls tagged "${tag}", also:`);
    const lines = ruleLines(rule);
    out.push(...(lines.length > 0 ? bullets(lines) : ['  • nothing more']));
  }
  out.push('');
  out.push(
    'Every matching rule applies at once and the most restrictive value wins (deny > ask > allow, the lowest cap, every limit). Each host and tag rule counts its limits separately.',
  );
  if (compiled.prefer.length > 0) {
    out.push(`Among equally cheap offers, prefer: ${compiled.prefer.join(', ')}.`);
  }
  const approvals = [compiled.global, ...compiled.hosts, ...compiled.tags.values()].some(
    (rule) => rule.action === 'ask' || rule.approveAbove !== undefined,
  );
  if (approvals) {
    out.push(
      `A person has ${compiled.approvalTimeoutMs / 1000} s to answer an approval; no answer is a no.`,
    );
  }
  out.push(`Prices older than ${compiled.maxRateAgeMs / 1000} s are not used.`);
  return out;
}

function hostWords(pattern: string): string {
  if (pattern === '*') return 'every host';
  if (pattern.startsWith('*.')) return `any subdomain of ${pattern.slice(2)}`;
  return pattern;
}
