/**
 * What `stipend policy check` warns about in a valid policy: settings that are allowed but
 * probably not meant — a `global` rule that drops the fail-closed defaults, `prefer` names no
 * offer can carry, a per-request cap that a window limit makes unreachable.
 *
 * @module
 */
import { DEFAULT_POLICY, formatUsd, parseUsd, type Rule, type SpendPolicy } from '@stipend/client';

/** Rails offers can carry, by protocol (what `prefer` entries may name). */
const SCHEMES: Readonly<Record<string, readonly string[]>> = {
  x402: ['exact', 'upto'],
  l402: ['bolt11'],
  mpp: [
    'evm.charge',
    'stripe.charge',
    'lightning.charge',
    'lightning.session',
    'tempo.charge',
    'tempo.session',
  ],
};

/**
 * Warnings about a policy that validated, each naming the field and what to write.
 *
 * @example
 * ```ts
 * import { policyWarnings } from './warnings.js';
 * policyWarnings({ global: { maxPerRequest: { usd: '0.05' } } });
 * // ['policy.global has no "limits": …']
 * ```
 */
export function policyWarnings(policy: SpendPolicy): string[] {
  const warnings: string[] = [];
  const global = policy.global;
  if (global !== undefined && (global.limits === undefined || global.limits.length === 0)) {
    const daily = DEFAULT_POLICY.global?.limits?.[0];
    warnings.push(
      'policy.global has no "limits": the built-in daily limit ($1 per UTC day) applies only to a policy ' +
        'without a "global" rule, so nothing caps the total spent per day now; add "limits": ' +
        `[{"usd": "${daily?.usd ?? '1.00'}", "window": {"calendar": "day"}}] to "global" (or the limit you want) to keep one`,
    );
  }
  (policy.prefer ?? []).forEach((entry, i) => {
    if (typeof entry !== 'string' || knownPreference(entry)) return;
    const [protocol] = entry.toLowerCase().split(':');
    const schemes = protocol !== undefined ? SCHEMES[protocol] : undefined;
    warnings.push(
      `policy.prefer[${i}] "${entry}" matches no offer: ` +
        (schemes
          ? `${protocol} offers are ${schemes.map((s) => `"${protocol}:${s}"`).join(', ')} (or "${protocol}" for all of them)`
          : `write a protocol ("x402", "l402", "mpp") or protocol:scheme such as "x402:exact"`),
    );
  });
  const globalLimits = limitsOf(global, 'global');
  const rules: [string, Rule | undefined][] = [
    ['global', global],
    ...Object.entries(policy.hosts ?? {}).map(
      ([host, rule]) => [`hosts[${JSON.stringify(host)}]`, rule] as [string, Rule],
    ),
    ...Object.entries(policy.tags ?? {}).map(
      ([tag, rule]) => [`tags[${JSON.stringify(tag)}]`, rule] as [string, Rule],
    ),
  ];
  for (const [path, rule] of rules) {
    const cap = usdOf(rule?.maxPerRequest?.usd);
    if (cap === undefined) continue;
    const limits = path === 'global' ? globalLimits : [...limitsOf(rule, path), ...globalLimits];
    const lowest = limits.reduce<(typeof limits)[number] | undefined>(
      (low, limit) => (low === undefined || limit.usd < low.usd ? limit : low),
      undefined,
    );
    if (lowest !== undefined && cap > lowest.usd) {
      warnings.push(
        `policy.${path}.maxPerRequest.usd (${formatUsd(cap)}) is above the ${formatUsd(lowest.usd)} ${lowest.window} limit of ${lowest.owner}: ` +
          `no payment can cost more than ${formatUsd(lowest.usd)}, so the cap never applies; lower it to ${formatUsd(lowest.usd)} or raise ${lowest.path}`,
      );
    }
  }
  return warnings;
}

function knownPreference(entry: string): boolean {
  const [protocol, scheme, ...rest] = entry.toLowerCase().split(':');
  if (protocol === undefined || rest.length > 0) return false;
  const schemes = SCHEMES[protocol];
  if (!schemes) return false;
  return scheme === undefined || schemes.includes(scheme);
}

interface Limit {
  readonly usd: bigint;
  readonly window: string;
  readonly owner: string;
  readonly path: string;
}

function limitsOf(rule: Rule | undefined, path: string): Limit[] {
  return (rule?.limits ?? []).flatMap((limit, i) => {
    const usd = usdOf(limit.usd);
    if (usd === undefined) return [];
    return [
      {
        usd,
        window: windowText(limit.window),
        owner: path,
        path: `policy.${path}.limits[${i}].usd`,
      },
    ];
  });
}

function usdOf(value: unknown): bigint | undefined {
  try {
    return value === undefined ? undefined : parseUsd(value as string | bigint);
  } catch {
    return undefined;
  }
}

function windowText(window: unknown): string {
  const spec = (window ?? {}) as { rolling?: unknown; calendar?: unknown; total?: unknown };
  if (spec.calendar !== undefined) return `per UTC ${String(spec.calendar)}`;
  if (spec.rolling !== undefined) return `per rolling ${String(spec.rolling)}`;
  return 'lifetime';
}
