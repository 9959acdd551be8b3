/**
 * Reading an `llms.txt` for links to discovery documents: an OpenAPI document (`*.json` whose
 * name says openapi) and the x402 manifests, on the origin asked about only.
 *
 * @module
 */
import { pathOn } from './raw.js';

/** Links an llms.txt gives, by kind, as paths on the origin. */
export interface LlmsLinks {
  readonly openapi: readonly string[];
  readonly x402: readonly string[];
  readonly x402Json: readonly string[];
}

/** Most links of each kind taken from one llms.txt. */
const MAX_LINKS = 2;

/**
 * Finds links to discovery documents in an llms.txt (Markdown links and bare URLs).
 *
 * @example
 * ```ts
 * import { readLlmsLinks } from './llms.js';
 * readLlmsLinks('- [API](https://api.example.com/v2/openapi.json)', 'https://api.example.com').openapi; // ['/v2/openapi.json']
 * ```
 */
export function readLlmsLinks(text: string, origin: string): LlmsLinks {
  const openapi = new Set<string>();
  const x402 = new Set<string>();
  const x402Json = new Set<string>();
  const candidates = text.match(/(?:https?:\/\/[^\s)<>"'\]]+|\/[^\s)<>"'\]]+)/g) ?? [];
  for (const candidate of candidates.slice(0, 1000)) {
    const path = pathOn(candidate, origin);
    if (!path) continue;
    const lower = path.toLowerCase();
    if (lower === '/.well-known/x402') add(x402, path);
    else if (lower === '/.well-known/x402.json') add(x402Json, path);
    else if (/openapi[^/]*\.json$/.test(lower)) add(openapi, path);
  }
  return { openapi: [...openapi], x402: [...x402], x402Json: [...x402Json] };
}

function add(set: Set<string>, path: string): void {
  if (set.size < MAX_LINKS) set.add(path);
}
