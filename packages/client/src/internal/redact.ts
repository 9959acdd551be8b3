/**
 * Query strings carry tokens and personal data: records, events and errors show a URL with
 * its query replaced by a short, non-reversible tag (so two queries still read as different).
 *
 * @module
 */

/**
 * The URL without userinfo, fragment or query; a query becomes `?~` + an 8-hex-digit
 * FNV-1a tag of it.
 *
 * @example
 * ```ts
 * import { redactUrl } from './redact.js';
 * redactUrl('https://api.example.com/a?token=s3cret'); // 'https://api.example.com/a?~5c1b3a0e'
 * ```
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return '[invalid url]';
  }
  const base = `${parsed.origin}${parsed.pathname}`;
  return parsed.search ? `${base}?~${fnv1a(parsed.search)}` : base;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
