/**
 * Reading x402 discovery: the `/.well-known/x402` manifest (resources as bare pointers or
 * complete entries with `accepts`), the `/.well-known/x402.json` manifest (`items[]` with
 * `resource`, `accepts`, `input`), and the terms and `extensions.bazaar` metadata of a 402
 * that a listed resource answers. Resources off the origin are refused (the proposals require
 * it: a manifest must not make its readers fetch elsewhere).
 *
 * @module
 */
import { decodeBase64Json } from '../protocols/x402/base64.js';
import { parseJsonBounded } from './fetch-document.js';
import {
  cleanText,
  MAX_ENDPOINTS,
  MAX_OFFERS,
  objectOf,
  pathOn,
  type RawEndpoint,
  type RawOffer,
  type Skip,
} from './raw.js';

/** A resource a manifest lists without its terms: its 402 says the price. */
export interface Pointer {
  readonly method: string;
  readonly path: string;
  readonly tool?: string;
  readonly description?: string;
}

/** What an x402 manifest gives. */
export interface X402Read {
  readonly endpoints: readonly RawEndpoint[];
  readonly pointers: readonly Pointer[];
  readonly skipped: readonly Skip[];
}

const MAX_RESOURCES = MAX_ENDPOINTS;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Reads a `/.well-known/x402` manifest.
 *
 * @example
 * ```ts
 * import { readX402Manifest } from './x402.js';
 * const { pointers } = readX402Manifest({ x402Version: 1, kind: 'resource-server', resources: [{ url: 'https://api.example.com/weather', method: 'GET' }] }, 'https://api.example.com');
 * pointers[0]; // { method: 'GET', path: '/weather' }
 * ```
 */
export function readX402Manifest(document: unknown, origin: string): X402Read {
  const where = '/.well-known/x402';
  const root = objectOf(document);
  const version = versionOf(root?.x402Version ?? root?.version);
  const skipped: Skip[] = [];
  if (!root || version === undefined) {
    return {
      endpoints: [],
      pointers: [],
      skipped: [{ where, reason: 'it is not an x402 manifest (no numeric x402Version)' }],
    };
  }
  const resources = root.resources;
  if (resources === undefined) return { endpoints: [], pointers: [], skipped };
  if (!Array.isArray(resources)) {
    return {
      endpoints: [],
      pointers: [],
      skipped: [{ where, reason: '"resources" is not an array' }],
    };
  }
  const endpoints: RawEndpoint[] = [];
  const pointers: Pointer[] = [];
  resources.slice(0, MAX_RESOURCES).forEach((entry, index) => {
    const at = `${where} resources[${index}]`;
    const fields = typeof entry === 'string' ? { url: entry } : objectOf(entry);
    if (!fields) {
      skipped.push({ where: at, reason: 'not a URL or an object' });
      return;
    }
    const path = pathOn(fields.url, origin);
    if (!path) {
      skipped.push({
        where: at,
        reason: `its url is not on ${origin}; it is not fetched (an off-origin entry is an abuse signal)`,
      });
      return;
    }
    const method = methodOf(fields.method) ?? 'GET';
    const description = cleanText(fields.description);
    const offers = requirements(fields.accepts, version, fields.price, at, skipped);
    if (offers.length === 0) {
      pointers.push({ method, path, ...(description ? { description } : {}) });
      return;
    }
    endpoints.push({
      method,
      path,
      source: 'x402-manifest',
      ...(description ? { description } : {}),
      offers,
    });
  });
  if (resources.length > MAX_RESOURCES) {
    skipped.push({ where, reason: `more than ${MAX_RESOURCES} resources; the rest were not read` });
  }
  return { endpoints, pointers, skipped };
}

/**
 * Reads a `/.well-known/x402.json` manifest (`items[]`).
 *
 * @example
 * ```ts
 * import { readX402Json } from './x402.js';
 * const { endpoints } = readX402Json(JSON.parse(text), 'https://api.example.com');
 * ```
 */
export function readX402Json(document: unknown, origin: string): X402Read {
  const where = '/.well-known/x402.json';
  const root = objectOf(document);
  const version = versionOf(root?.x402Version);
  if (!root || version === undefined || !Array.isArray(root.items)) {
    return {
      endpoints: [],
      pointers: [],
      skipped: [
        { where, reason: 'it is not an x402 discovery manifest (x402Version and items[])' },
      ],
    };
  }
  const skipped: Skip[] = [];
  const endpoints: RawEndpoint[] = [];
  const pointers: Pointer[] = [];
  root.items.slice(0, MAX_RESOURCES).forEach((entry, index) => {
    const at = `${where} items[${index}]`;
    const item = objectOf(entry);
    const resource = objectOf(item?.resource);
    const path = pathOn(resource?.url, origin);
    if (!item || !path) {
      skipped.push({ where: at, reason: `no resource.url on ${origin}` });
      return;
    }
    const input = objectOf(item.input);
    const mcp = item.type === 'mcp';
    const tool = mcp && typeof input?.toolName === 'string' ? cleanText(input.toolName) : undefined;
    const method = mcp ? 'MCP' : (methodOf(input?.method) ?? 'GET');
    const shown = pathOn(input?.routeTemplate, origin) ?? path;
    const description = cleanText(resource?.description);
    const offers = requirements(item.accepts, version, item.price, at, skipped);
    const named = {
      method,
      path: shown,
      ...(tool ? { tool } : {}),
      ...(description ? { description } : {}),
    };
    if (offers.length === 0) pointers.push(named);
    else endpoints.push({ ...named, source: 'x402-json', offers });
  });
  return { endpoints, pointers, skipped };
}

/**
 * Reads the x402 terms of a 402 a resource answered: v2 (`PAYMENT-REQUIRED` header) or v1
 * (JSON body), with the method and description its `bazaar` extension and `resource` give.
 *
 * @example
 * ```ts
 * import { readX402Probe } from './x402.js';
 * const endpoint = readX402Probe(headers, bodyText, { method: 'GET', path: '/weather' }, origin, skipped);
 * ```
 */
export function readX402Probe(
  headers: Headers,
  body: string,
  pointer: Pointer,
  origin: string,
  skipped: Skip[],
): RawEndpoint | undefined {
  const where = `${pointer.method} ${pointer.path} (its 402)`;
  let message: Record<string, unknown> | undefined;
  const header = headers.get('payment-required');
  try {
    message = objectOf(
      header !== null ? decodeBase64Json(header) : parseJsonBounded(body, `${where} body`),
    );
  } catch {
    message = undefined;
  }
  const version = versionOf(message?.x402Version);
  if (!message || version === undefined) {
    skipped.push({ where, reason: 'its 402 carries no x402 terms' });
    return undefined;
  }
  const offers = requirements(message.accepts, version, undefined, where, skipped);
  if (offers.length === 0) return undefined;
  const resource = objectOf(message.resource);
  const bazaar = objectOf(objectOf(objectOf(message.extensions)?.bazaar)?.info);
  const input = objectOf(bazaar?.input);
  const mcp = input?.type === 'mcp';
  const tool = mcp ? cleanText(input?.toolName) : undefined;
  const description =
    cleanText(resource?.description) ?? cleanText(input?.description) ?? pointer.description;
  const path = pathOn(resource?.url, origin) ?? pointer.path;
  return {
    method: mcp ? 'MCP' : (methodOf(input?.method) ?? pointer.method),
    path,
    ...(tool ? { tool } : {}),
    source: 'x402-402',
    ...(description ? { description } : {}),
    offers,
  };
}

function requirements(
  accepts: unknown,
  version: 1 | 2,
  claimedPrice: unknown,
  where: string,
  skipped: Skip[],
): RawOffer[] {
  if (accepts === undefined) return [];
  if (!Array.isArray(accepts)) {
    skipped.push({ where, reason: '"accepts" is not an array' });
    return [];
  }
  if (accepts.length > MAX_OFFERS) {
    skipped.push({
      where,
      reason: `more than ${MAX_OFFERS} offers; only the first ${MAX_OFFERS} were read`,
    });
  }
  return accepts.slice(0, MAX_OFFERS).map((requirement) => ({
    protocol: 'x402' as const,
    version,
    requirement,
    ...(claimedPrice !== undefined ? { claimedPrice } : {}),
  }));
}

function versionOf(value: unknown): 1 | 2 | undefined {
  return value === 1 || value === 2 ? value : undefined;
}

function methodOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.toUpperCase();
  return HTTP_METHODS.has(upper) ? upper : undefined;
}
