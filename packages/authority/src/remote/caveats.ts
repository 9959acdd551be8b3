/**
 * The first-party caveats of a delegation token and what they add up to.
 *
 * Every caveat is a restriction, and the verifier applies all of them: repeated caveats of one
 * kind intersect (the lowest cap, the earliest expiry, the common hosts, methods and
 * protocols). So appending a caveat can only narrow what a token allows; one that tries to
 * widen has no effect on the limits — and in strict mode (what the authority uses) it makes
 * the whole token invalid, so a buggy or hostile holder is told rather than silently ignored.
 *
 * | caveat | value | meaning |
 * |---|---|---|
 * | `stipend_total_usd` | `0.10` | all spend of this token and its descendants, USD |
 * | `stipend_request_usd` | `0.02` | one payment, USD (incl. maximum fee) |
 * | `stipend_hosts` | `api.example.com,*.example.org` | request hosts (`*`, `*.domain`, host) |
 * | `stipend_methods` | `GET,HEAD` | HTTP methods |
 * | `stipend_protocols` | `x402,mpp:stripe.charge` | protocols or `protocol:scheme` rails |
 * | `stipend_expires` | `1767225600` | valid while now < this, unix seconds |
 * | `stipend_approve_above` | `0.05` | a person approves payments above this, USD |
 * | `stipend_delegation` | `9f2c…` | a random nonce: starts a new delegation (its own budget scope) |
 *
 * @module
 */
import { formatUsd, parseDecimal, type Usd } from '@stipend/client';
import { type DelegationInvalidError, delegationError } from './errors.js';

/** Caveat names. */
export const CAVEAT = Object.freeze({
  totalUsd: 'stipend_total_usd',
  requestUsd: 'stipend_request_usd',
  hosts: 'stipend_hosts',
  methods: 'stipend_methods',
  protocols: 'stipend_protocols',
  expires: 'stipend_expires',
  approveAbove: 'stipend_approve_above',
  delegation: 'stipend_delegation',
});

/** The read-only HTTP methods, for `methods`. */
export const READ_ONLY_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD']);

/**
 * What a delegation may spend, as a person writes it (for `mint` and `attenuate`). Every field
 * is optional; a field left out adds no restriction (the parent's still apply).
 */
export interface DelegationCaps {
  /** Total spend of the token and every token made from it: `'0.10'` or micro-USD bigint. */
  readonly totalUsd?: Usd;
  /** The most one payment may cost (incl. maximum fee). */
  readonly perRequestUsd?: Usd;
  /** Host patterns the paid requests may go to: `api.example.com`, `*.example.com`, `*`. */
  readonly hosts?: readonly string[];
  /** HTTP methods, e.g. {@link READ_ONLY_METHODS}. */
  readonly methods?: readonly string[];
  /** Protocols (`x402`) or rails (`x402:exact`, `mpp:stripe.charge`). */
  readonly protocols?: readonly string[];
  /** When the token stops working, ms since epoch (rounded down to whole seconds). */
  readonly expiresAt?: number;
  /** Payments above this need the authority's approver (a person). */
  readonly approveAbove?: Usd;
}

/** One parsed caveat. */
export type Caveat =
  | { readonly kind: 'total_usd'; readonly usdMicros: bigint }
  | { readonly kind: 'request_usd'; readonly usdMicros: bigint }
  | { readonly kind: 'approve_above'; readonly usdMicros: bigint }
  | { readonly kind: 'hosts'; readonly patterns: readonly string[] }
  | { readonly kind: 'methods'; readonly methods: readonly string[] }
  | { readonly kind: 'protocols'; readonly protocols: readonly string[] }
  | { readonly kind: 'expires'; readonly unixSec: number }
  | { readonly kind: 'delegation'; readonly nonce: string };

/**
 * What a token allows: the intersection of all its caveats. An absent field is unrestricted;
 * an empty list allows nothing.
 */
export interface DelegationLimits {
  readonly totalUsdMicros?: bigint;
  readonly perRequestUsdMicros?: bigint;
  readonly approveAboveUsdMicros?: bigint;
  readonly hosts?: readonly string[];
  readonly methods?: readonly string[];
  readonly protocols?: readonly string[];
  /** ms since epoch. */
  readonly expiresAt?: number;
}

const MAX_LIST = 32;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const PROTOCOL = /^[a-z0-9][a-z0-9._-]{0,31}(:[a-z0-9][a-z0-9._-]{0,63})?$/;
const NONCE = /^[A-Za-z0-9_-]{8,64}$/;
const UNIX_SEC = /^(0|[1-9][0-9]{0,11})$/;

/**
 * Parses one caveat condition (`name=value`). Strict: unknown names and malformed values throw
 * a `DelegationInvalidError`, because a restriction the verifier cannot read cannot be enforced.
 *
 * @example
 * ```ts
 * import { parseCaveat } from '@stipend/authority/remote';
 * parseCaveat('stipend_total_usd=0.10'); // { kind: 'total_usd', usdMicros: 100000n }
 * ```
 */
export function parseCaveat(condition: string): Caveat {
  const eq = condition.indexOf('=');
  const name = eq < 0 ? condition : condition.slice(0, eq);
  const value = eq < 0 ? '' : condition.slice(eq + 1);
  const bad = (why: string) =>
    delegationError('malformed', `The caveat "${clip(condition)}" is malformed: ${why}.`, {
      caveat: clip(condition),
    });
  switch (name) {
    case CAVEAT.totalUsd:
    case CAVEAT.requestUsd:
    case CAVEAT.approveAbove: {
      const usdMicros = usdValue(value);
      if (usdMicros === undefined) throw bad('expected a decimal USD amount such as 0.10');
      const kind =
        name === CAVEAT.totalUsd
          ? 'total_usd'
          : name === CAVEAT.requestUsd
            ? 'request_usd'
            : 'approve_above';
      return { kind, usdMicros };
    }
    case CAVEAT.hosts: {
      const patterns = list(value)?.map(normalizeHostPattern);
      if (patterns === undefined || patterns.some((p) => p === undefined))
        throw bad('expected comma-separated host patterns');
      return { kind: 'hosts', patterns: unique(patterns as string[]) };
    }
    case CAVEAT.methods: {
      const methods = list(value);
      if (methods === undefined || methods.some((m) => !METHOD.test(m)))
        throw bad('expected HTTP methods such as GET');
      return { kind: 'methods', methods: unique(methods.map((m) => m.toUpperCase())) };
    }
    case CAVEAT.protocols: {
      const protocols = list(value)?.map((p) => p.toLowerCase());
      if (protocols === undefined || protocols.some((p) => !PROTOCOL.test(p)))
        throw bad('expected protocols or protocol:scheme rails such as x402 or x402:exact');
      return { kind: 'protocols', protocols: unique(protocols) };
    }
    case CAVEAT.expires: {
      if (!UNIX_SEC.test(value)) throw bad('expected unix seconds');
      return { kind: 'expires', unixSec: Number(value) };
    }
    case CAVEAT.delegation: {
      if (!NONCE.test(value)) throw bad('expected a nonce of 8 to 64 URL-safe characters');
      return { kind: 'delegation', nonce: value };
    }
    default:
      throw delegationError(
        'unknown_caveat',
        `The token carries the caveat "${clip(condition)}", which this authority does not know; an unknown restriction cannot be enforced, so the token is refused.`,
        { caveat: clip(condition) },
      );
  }
}

/**
 * Writes a caveat as its condition string.
 *
 * @example
 * ```ts
 * import { formatCaveat } from '@stipend/authority/remote';
 * formatCaveat({ kind: 'methods', methods: ['GET', 'HEAD'] }); // 'stipend_methods=GET,HEAD'
 * ```
 */
export function formatCaveat(caveat: Caveat): string {
  switch (caveat.kind) {
    case 'total_usd':
      return `${CAVEAT.totalUsd}=${usdText(caveat.usdMicros)}`;
    case 'request_usd':
      return `${CAVEAT.requestUsd}=${usdText(caveat.usdMicros)}`;
    case 'approve_above':
      return `${CAVEAT.approveAbove}=${usdText(caveat.usdMicros)}`;
    case 'hosts':
      return `${CAVEAT.hosts}=${caveat.patterns.join(',')}`;
    case 'methods':
      return `${CAVEAT.methods}=${caveat.methods.join(',')}`;
    case 'protocols':
      return `${CAVEAT.protocols}=${caveat.protocols.join(',')}`;
    case 'expires':
      return `${CAVEAT.expires}=${caveat.unixSec}`;
    case 'delegation':
      return `${CAVEAT.delegation}=${caveat.nonce}`;
  }
}

/**
 * Turns caps as a person writes them into caveats, validating every value.
 *
 * @throws {DelegationInvalidError} (reason `malformed`) naming the cap to fix.
 * @example
 * ```ts
 * import { capsToCaveats, READ_ONLY_METHODS } from '@stipend/authority/remote';
 * capsToCaveats({ totalUsd: '0.10', methods: READ_ONLY_METHODS });
 * ```
 */
export function capsToCaveats(caps: DelegationCaps): Caveat[] {
  const out: Caveat[] = [];
  const usd = (field: string, value: Usd) => {
    const micros =
      typeof value === 'bigint'
        ? value >= 0n
          ? value
          : undefined
        : typeof value === 'string'
          ? usdValue(value.replace(/^\$/, ''))
          : undefined;
    if (micros === undefined)
      throw capError(field, `a USD amount such as '0.10' (got ${String(value)})`);
    return micros;
  };
  if (caps.totalUsd !== undefined)
    out.push({ kind: 'total_usd', usdMicros: usd('totalUsd', caps.totalUsd) });
  if (caps.perRequestUsd !== undefined)
    out.push({ kind: 'request_usd', usdMicros: usd('perRequestUsd', caps.perRequestUsd) });
  if (caps.hosts !== undefined) {
    const patterns = caps.hosts.map((h) => normalizeHostPattern(String(h)));
    if (patterns.some((p) => p === undefined) || caps.hosts.length > MAX_LIST)
      throw capError(
        'hosts',
        `at most ${MAX_LIST} patterns like 'api.example.com', '*.example.com' or '*'`,
      );
    out.push({ kind: 'hosts', patterns: unique(patterns as string[]) });
  }
  if (caps.methods !== undefined) {
    if (caps.methods.some((m) => !METHOD.test(m)) || caps.methods.length > MAX_LIST)
      throw capError('methods', "HTTP methods such as 'GET' and 'HEAD'");
    out.push({ kind: 'methods', methods: unique(caps.methods.map((m) => m.toUpperCase())) });
  }
  if (caps.protocols !== undefined) {
    const protocols = caps.protocols.map((p) => String(p).toLowerCase());
    if (protocols.some((p) => !PROTOCOL.test(p)) || protocols.length > MAX_LIST)
      throw capError('protocols', "protocols or rails such as 'x402' or 'mpp:stripe.charge'");
    out.push({ kind: 'protocols', protocols: unique(protocols) });
  }
  if (caps.expiresAt !== undefined) {
    if (!Number.isFinite(caps.expiresAt) || caps.expiresAt < 0)
      throw capError('expiresAt', 'a time in ms since epoch, such as Date.now() + 3_600_000');
    out.push({ kind: 'expires', unixSec: Math.floor(caps.expiresAt / 1000) });
  }
  if (caps.approveAbove !== undefined)
    out.push({ kind: 'approve_above', usdMicros: usd('approveAbove', caps.approveAbove) });
  return out;
}

/**
 * Applies one more caveat to the limits so far. The result is never wider than `limits`.
 * With `strict`, a caveat that would widen (a higher cap, a later expiry, a host, method or
 * protocol the limits do not allow) throws `DelegationInvalidError` (reason `widened`).
 *
 * @example
 * ```ts
 * import { narrowLimits } from '@stipend/authority/remote';
 * narrowLimits({ totalUsdMicros: 100_000n }, { kind: 'total_usd', usdMicros: 50_000n }, true);
 * // { totalUsdMicros: 50000n }
 * ```
 */
export function narrowLimits(
  limits: DelegationLimits,
  caveat: Caveat,
  strict: boolean,
): DelegationLimits {
  const widened = (what: string, allowed: string) => {
    if (strict) {
      throw delegationError(
        'widened',
        `The caveat "${clip(formatCaveat(caveat))}" tries to widen the token: ${what}, but it allows only ${allowed}. A caveat can only narrow; ask the token's issuer for a wider token instead.`,
        { caveat: clip(formatCaveat(caveat)) },
      );
    }
  };
  switch (caveat.kind) {
    case 'total_usd':
    case 'request_usd':
    case 'approve_above': {
      const key =
        caveat.kind === 'total_usd'
          ? 'totalUsdMicros'
          : caveat.kind === 'request_usd'
            ? 'perRequestUsdMicros'
            : 'approveAboveUsdMicros';
      const current = limits[key];
      if (current !== undefined && caveat.usdMicros > current)
        widened(`it raises ${key} to ${formatUsd(caveat.usdMicros)}`, formatUsd(current));
      const next = current === undefined || caveat.usdMicros < current ? caveat.usdMicros : current;
      return { ...limits, [key]: next };
    }
    case 'expires': {
      const at = caveat.unixSec * 1000;
      if (limits.expiresAt !== undefined && at > limits.expiresAt)
        widened(
          `it expires later (${new Date(at).toISOString()})`,
          `until ${new Date(limits.expiresAt).toISOString()}`,
        );
      return { ...limits, expiresAt: Math.min(at, limits.expiresAt ?? at) };
    }
    case 'methods': {
      const current = limits.methods;
      if (current !== undefined) {
        const extra = caveat.methods.filter((m) => !current.includes(m));
        if (extra.length > 0) widened(`it adds ${extra.join(', ')}`, current.join(', ') || 'none');
      }
      return {
        ...limits,
        methods:
          current === undefined
            ? caveat.methods
            : current.filter((m) => caveat.methods.includes(m)),
      };
    }
    case 'hosts': {
      const current = limits.hosts;
      if (current !== undefined) {
        const extra = caveat.patterns.filter((p) => !current.some((c) => hostCovers(c, p)));
        if (extra.length > 0) widened(`it adds ${extra.join(', ')}`, current.join(', ') || 'none');
      }
      return {
        ...limits,
        hosts:
          current === undefined ? caveat.patterns : intersect(current, caveat.patterns, hostCovers),
      };
    }
    case 'protocols': {
      const current = limits.protocols;
      if (current !== undefined) {
        const extra = caveat.protocols.filter((p) => !current.some((c) => protocolCovers(c, p)));
        if (extra.length > 0) widened(`it adds ${extra.join(', ')}`, current.join(', ') || 'none');
      }
      return {
        ...limits,
        protocols:
          current === undefined
            ? caveat.protocols
            : intersect(current, caveat.protocols, protocolCovers),
      };
    }
    case 'delegation':
      return limits;
  }
}

/**
 * The limits of a list of caveat conditions (all of them apply).
 *
 * @throws {DelegationInvalidError} for an unknown or malformed caveat, or (strict) a widening one.
 * @example
 * ```ts
 * import { limitsOf } from '@stipend/authority/remote';
 * limitsOf(['stipend_total_usd=0.10', 'stipend_total_usd=0.05'], true).totalUsdMicros; // 50000n
 * ```
 */
export function limitsOf(conditions: readonly string[], strict: boolean): DelegationLimits {
  let limits: DelegationLimits = {};
  for (const condition of conditions) limits = narrowLimits(limits, parseCaveat(condition), strict);
  return limits;
}

/** What a payment request is checked against (any part may be missing for an early check). */
export interface ScopeQuery {
  readonly now: number;
  readonly method?: string;
  /** The URL being paid for. */
  readonly url?: URL;
  /** The offer's protocol and scheme. */
  readonly rail?: { readonly protocol: string; readonly scheme: string };
  /** The payment's cost in USD micro-units (amount + maximum fee). */
  readonly usdMicros?: bigint;
}

/**
 * Checks a payment request against a token's limits: expiry, method, host, protocol and the
 * per-request cap (the total is counted by the authority's budget store). Also refuses rails
 * whose proof is a secret (see {@link railCarriesSecret}).
 *
 * @throws {DelegationError} the first check that fails.
 * @example
 * ```ts
 * import { checkScope } from '@stipend/authority/remote';
 * checkScope(limits, { now: Date.now(), method: 'GET', url: new URL('https://api.example.com/x') });
 * ```
 */
export function checkScope(limits: DelegationLimits, query: ScopeQuery): void {
  if (limits.expiresAt !== undefined && query.now >= limits.expiresAt) {
    throw delegationError(
      'expired',
      `The delegation token expired at ${new Date(limits.expiresAt).toISOString()}; ask its issuer for a new one.`,
      { expiresAt: limits.expiresAt },
    );
  }
  if (query.rail !== undefined && railCarriesSecret(query.rail)) {
    const rail = `${query.rail.protocol}:${query.rail.scheme}`;
    throw delegationError(
      'secret_proof',
      `Remote wallets do not pay ${rail}: its proof is the payment preimage, a secret the sub-agent would hold. Let the orchestrator pay Lightning resources, or choose an x402 or MPP offer.`,
      { rail },
    );
  }
  if (query.method !== undefined && limits.methods !== undefined) {
    const method = query.method.toUpperCase();
    if (!limits.methods.includes(method)) {
      throw delegationError(
        'method',
        `The delegation token allows ${limits.methods.join(', ') || 'no'} requests, not ${method}.`,
        { method, allowed: limits.methods },
      );
    }
  }
  if (query.url !== undefined && limits.hosts !== undefined) {
    const host = normalizeHostname(query.url.hostname);
    if (!limits.hosts.some((pattern) => hostMatches(pattern, host))) {
      throw delegationError(
        'host',
        `The delegation token allows payments to ${limits.hosts.join(', ') || 'no host'}, not ${host}.`,
        { host, allowed: limits.hosts },
      );
    }
  }
  if (query.rail !== undefined && limits.protocols !== undefined) {
    const protocol = query.rail.protocol.toLowerCase();
    const rail = `${protocol}:${query.rail.scheme.toLowerCase()}`;
    if (!limits.protocols.some((p) => p === protocol || p === rail)) {
      throw delegationError(
        'protocol',
        `The delegation token allows ${limits.protocols.join(', ') || 'no protocol'}, not ${rail}.`,
        { rail, allowed: limits.protocols },
      );
    }
  }
  if (
    query.usdMicros !== undefined &&
    limits.perRequestUsdMicros !== undefined &&
    query.usdMicros > limits.perRequestUsdMicros
  ) {
    throw delegationError(
      'per_request',
      `This payment costs ${formatUsd(query.usdMicros)}, above the delegation token's ${formatUsd(limits.perRequestUsdMicros)} per request.`,
      { usdMicros: query.usdMicros, perRequestUsdMicros: limits.perRequestUsdMicros },
    );
  }
}

/**
 * Rails whose proof is the payment secret itself (a Lightning preimage): `l402:*` and
 * `mpp:lightning.*`. Remote mode refuses them, so sub-agents never hold a preimage.
 *
 * @example
 * ```ts
 * import { railCarriesSecret } from '@stipend/authority/remote';
 * railCarriesSecret({ protocol: 'l402', scheme: 'bolt11' }); // true
 * ```
 */
export function railCarriesSecret(rail: { protocol: string; scheme: string }): boolean {
  const protocol = rail.protocol.toLowerCase();
  return (
    protocol === 'l402' ||
    (protocol === 'mpp' && rail.scheme.toLowerCase().startsWith('lightning.'))
  );
}

/**
 * Whether host pattern `outer` allows every host `inner` allows (both normalised).
 *
 * @example
 * ```ts
 * import { hostCovers } from '@stipend/authority/remote';
 * hostCovers('*.example.com', 'api.example.com'); // true
 * hostCovers('*.example.com', 'example.com'); // false
 * ```
 */
export function hostCovers(outer: string, inner: string): boolean {
  if (outer === '*' || outer === inner) return true;
  if (inner === '*') return false;
  if (!outer.startsWith('*.')) return false;
  const innerHost = inner.startsWith('*.') ? inner.slice(2) : inner;
  const domain = outer.slice(1); // ".example.com"
  return innerHost.endsWith(domain);
}

/**
 * Whether a normalised hostname matches a normalised pattern: `*` (every host), `*.d` (any
 * subdomain of d at any depth, not d itself) or an exact host.
 *
 * @example
 * ```ts
 * import { hostMatches } from '@stipend/authority/remote';
 * hostMatches('*.example.com', 'a.b.example.com'); // true
 * ```
 */
export function hostMatches(pattern: string, hostname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1));
  return pattern === hostname;
}

function protocolCovers(outer: string, inner: string): boolean {
  return outer === inner || (!outer.includes(':') && inner.startsWith(`${outer}:`));
}

/** Exact intersection of two lists whose entries either nest or are disjoint. */
function intersect(
  a: readonly string[],
  b: readonly string[],
  covers: (outer: string, inner: string) => boolean,
): string[] {
  const out: string[] = [];
  for (const x of a) {
    for (const y of b) {
      if (covers(x, y)) out.push(y);
      else if (covers(y, x)) out.push(x);
    }
  }
  return unique(out);
}

/**
 * Normalises a host pattern: lower-case, punycode, no trailing dot; `*` and `*.<host>` are the
 * only wildcards. Returns `undefined` for anything else (ports, paths, `api.*.com`).
 *
 * @example
 * ```ts
 * import { normalizeHostPattern } from '@stipend/authority/remote';
 * normalizeHostPattern('*.Bücher.example'); // '*.xn--bcher-kva.example'
 * ```
 */
export function normalizeHostPattern(pattern: string): string | undefined {
  const text = pattern.trim().toLowerCase();
  if (text === '*') return '*';
  const wildcard = text.startsWith('*.');
  const host = canonicalHost(wildcard ? text.slice(2) : text);
  return host === undefined ? undefined : wildcard ? `*.${host}` : host;
}

function canonicalHost(host: string): string | undefined {
  if (host === '' || host.includes('*') || /[/?#@:\s,]/.test(host.replace(/^\[.*\]$/, ''))) {
    return undefined;
  }
  try {
    const parsed = new URL(`http://${host}/`).hostname;
    return parsed === '' ? undefined : normalizeHostname(parsed);
  } catch {
    return undefined;
  }
}

/**
 * A URL hostname in the form patterns use (lower-case, no trailing dot).
 *
 * @example
 * ```ts
 * import { normalizeHostname } from '@stipend/authority/remote';
 * normalizeHostname('API.example.com.'); // 'api.example.com'
 * ```
 */
export function normalizeHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

function usdValue(text: string): bigint | undefined {
  try {
    return parseDecimal(text, 6);
  } catch {
    return undefined;
  }
}

function usdText(micros: bigint): string {
  return formatUsd(micros).slice(1);
}

/** A comma-separated list; undefined when too long or with an empty item. */
function list(value: string): string[] | undefined {
  if (value === '') return [];
  const items = value.split(',');
  if (items.length > MAX_LIST || items.some((item) => item === '' || item.trim() !== item)) {
    return undefined;
  }
  return items;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function capError(field: string, expected: string): DelegationInvalidError {
  return delegationError(
    'malformed',
    `The delegation cap "${field}" is invalid: expected ${expected}.`,
    { field },
  ) as DelegationInvalidError;
}
