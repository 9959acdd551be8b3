/**
 * Host patterns of a spend policy: `api.example.com` (that host), `*.example.com` (any
 * subdomain at any depth, not the apex) and `*` (every host).
 *
 * Hostnames reach the policy through WHATWG `URL`, so they are lower-case and IDNs are in
 * punycode. Patterns are brought to the same form through `URL` before comparing, so a
 * pattern written as `BÜCHER.example` matches the host `xn--bcher-kva.example`.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';

/**
 * Checks a host pattern and returns its canonical form: lower-case, punycode, no trailing dot.
 * `*` and `*.<host>` are the only wildcard forms.
 *
 * @throws {StipendError} code `POLICY_INVALID` when the pattern is not a bare host, `*` or `*.<host>`.
 * @example
 * ```ts
 * import { normalizeHostPattern } from '@stipend/client';
 * normalizeHostPattern('*.Bücher.example'); // '*.xn--bcher-kva.example'
 * ```
 */
export function normalizeHostPattern(pattern: string): string {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw invalid(
      pattern,
      'it is empty; write a host such as "api.example.com", "*.example.com" or "*"',
    );
  }
  if (pattern === '*') return '*';
  if (pattern.startsWith('*.')) {
    const rest = pattern.slice(2);
    if (rest.includes('*')) throw wildcardError(pattern);
    return `*.${canonicalHost(rest, pattern)}`;
  }
  if (pattern.includes('*')) throw wildcardError(pattern);
  return canonicalHost(pattern, pattern);
}

/**
 * Tells whether a hostname matches a host pattern. Case-insensitive; a trailing dot is ignored
 * on both sides; `*.example.com` matches `a.example.com` and `a.b.example.com` but not
 * `example.com`; `*` matches every host.
 *
 * @throws {StipendError} code `POLICY_INVALID` for a pattern with any other wildcard form (`api.*.com`).
 * @example
 * ```ts
 * import { matchHost } from '@stipend/client';
 * matchHost('*.example.com', new URL('https://a.b.example.com/x').hostname); // true
 * matchHost('*.example.com', 'example.com'); // false
 * ```
 */
export function matchHost(pattern: string, hostname: string): boolean {
  return matchNormalizedHost(normalizeHostPattern(pattern), normalizeHostname(hostname));
}

/**
 * Matches an already normalised pattern (from {@link normalizeHostPattern}) against an already
 * normalised hostname (from {@link normalizeHostname}). Used in loops to avoid re-parsing.
 *
 * @example
 * ```ts
 * import { matchNormalizedHost, normalizeHostPattern, normalizeHostname } from '@stipend/client';
 * matchNormalizedHost(normalizeHostPattern('*.example.com'), normalizeHostname('A.example.com')); // true
 * ```
 */
export function matchNormalizedHost(pattern: string, hostname: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // '.example.com'
    return hostname.length > suffix.length && hostname.endsWith(suffix);
  }
  return hostname === pattern;
}

/**
 * Brings a hostname to the form patterns are compared in: lower-case, punycode, no trailing dot.
 * Hostnames from `new URL(...).hostname` only lose a trailing dot.
 *
 * @throws {StipendError} code `POLICY_INVALID` when a non-ASCII hostname cannot be parsed.
 * @example
 * ```ts
 * import { normalizeHostname } from '@stipend/client';
 * normalizeHostname('API.Example.com.'); // 'api.example.com'
 * ```
 */
export function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting non-ASCII input
  if (/[^\u0000-\u007f]/.test(host)) host = canonicalHost(host, hostname);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function canonicalHost(text: string, pattern: string): string {
  const lower = text.toLowerCase();
  // An IPv6 literal may be written with or without brackets.
  const colons = lower.split(':').length - 1;
  const candidate = colons >= 2 && !lower.startsWith('[') ? `[${lower}]` : lower;
  if (/[/?#@\\\s]/.test(candidate) || /:[^\]]*$/.test(candidate)) {
    throw invalid(
      pattern,
      'write only the host name, without scheme, port, path or credentials (e.g. "api.example.com")',
    );
  }
  let url: URL;
  try {
    url = new URL(`http://${candidate}`);
  } catch {
    throw invalid(pattern, 'it is not a valid host name');
  }
  const host = url.hostname;
  if (host === '' || url.port !== '' || url.pathname !== '/' || url.username !== '') {
    throw invalid(pattern, 'it is not a bare host name');
  }
  const trimmed = host.endsWith('.') ? host.slice(0, -1) : host;
  if (trimmed === '' || trimmed.startsWith('.') || trimmed.includes('..')) {
    throw invalid(pattern, 'it has an empty label');
  }
  return trimmed;
}

function wildcardError(pattern: string): StipendError {
  return invalid(
    pattern,
    'the only wildcard forms are "*" (every host) and "*.example.com" (every subdomain); ' +
      'list each host separately or use "*.<parent domain>"',
  );
}

function invalid(pattern: unknown, why: string): StipendError {
  return new StipendError(
    'POLICY_INVALID',
    `host pattern ${JSON.stringify(pattern)} is not valid: ${why}`,
    { details: { pattern: typeof pattern === 'string' ? pattern : String(pattern) } },
  );
}
