/**
 * Reading an OpenAPI discovery document (the MPP payment-discovery draft): per operation,
 * `x-payment-info` in its single-offer shorthand or its multi-offer form (`offers[]`), and the
 * top-level `x-service-info.docs.llms` link. Every field is checked for its type; an operation
 * or offer of the wrong shape is skipped with the reason.
 *
 * @module
 */
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

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** What an OpenAPI discovery document gives. */
export interface OpenApiRead {
  readonly endpoints: readonly RawEndpoint[];
  readonly skipped: readonly Skip[];
  /** `x-service-info.docs.llms`, when it is on the same origin. */
  readonly llms?: string;
}

/**
 * Reads the payable operations of a parsed OpenAPI document.
 *
 * @example
 * ```ts
 * import { readOpenApi } from './openapi.js';
 * const { endpoints } = readOpenApi(JSON.parse(text), 'https://api.example.com');
 * endpoints[0]?.offers; // [{ protocol: 'mpp', fields: { intent: 'charge', method: 'stripe', amount: '50', currency: 'usd' } }]
 * ```
 */
export function readOpenApi(document: unknown, origin: string): OpenApiRead {
  const root = objectOf(document);
  const skipped: Skip[] = [];
  const endpoints: RawEndpoint[] = [];
  if (!root || typeof root.openapi !== 'string') {
    return {
      endpoints,
      skipped: [
        {
          where: 'openapi.json',
          reason: 'it is not an OpenAPI document (no "openapi" version string)',
        },
      ],
    };
  }
  const docs = objectOf(objectOf(root['x-service-info'])?.docs);
  const llms = docs ? pathOn(docs.llms, origin) : undefined;
  const paths = objectOf(root.paths);
  if (!paths) {
    skipped.push({ where: 'openapi.json', reason: '"paths" is not an object' });
    return { endpoints, skipped, ...(llms ? { llms } : {}) };
  }
  for (const [path, item] of Object.entries(paths)) {
    if (endpoints.length >= MAX_ENDPOINTS) {
      skipped.push({
        where: 'openapi.json',
        reason: `more than ${MAX_ENDPOINTS} payable operations; the rest were not read`,
      });
      break;
    }
    const operations = objectOf(item);
    if (!operations || !path.startsWith('/') || path.length > 2048) {
      skipped.push({
        where: `paths[${JSON.stringify(path.slice(0, 80))}]`,
        reason: 'not a path item (a path starting with "/" mapped to an object)',
      });
      continue;
    }
    for (const method of METHODS) {
      const operation = objectOf(operations[method]);
      if (!operation || !('x-payment-info' in operation)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      const offers = paymentOffers(operation['x-payment-info'], where, skipped);
      if (offers.length === 0) continue;
      const description = cleanText(operation.summary) ?? cleanText(operation.description);
      endpoints.push({
        method: method.toUpperCase(),
        path,
        source: 'openapi',
        ...(description ? { description } : {}),
        offers,
      });
    }
  }
  return { endpoints, skipped, ...(llms ? { llms } : {}) };
}

/** The offers of one `x-payment-info`: the shorthand is one offer, `offers[]` several. */
function paymentOffers(info: unknown, where: string, skipped: Skip[]): RawOffer[] {
  const object = objectOf(info);
  if (!object) {
    skipped.push({ where, reason: 'x-payment-info is not an object' });
    return [];
  }
  let list: unknown[];
  if ('offers' in object) {
    if (!Array.isArray(object.offers) || object.offers.length === 0) {
      skipped.push({ where, reason: 'x-payment-info.offers is not a non-empty array' });
      return [];
    }
    list = object.offers;
  } else {
    list = [object];
  }
  if (list.length > MAX_OFFERS) {
    skipped.push({
      where,
      reason: `more than ${MAX_OFFERS} offers; only the first ${MAX_OFFERS} were read`,
    });
    list = list.slice(0, MAX_OFFERS);
  }
  const offers: RawOffer[] = [];
  list.forEach((entry, index) => {
    const fields = objectOf(entry);
    const problem = offerProblem(fields);
    if (problem) skipped.push({ where: `${where} offer ${index}`, reason: problem });
    else offers.push({ protocol: 'mpp', fields: fields! });
  });
  return offers;
}

/** Why a payment offer object does not fit the draft's schema, or undefined when it does. */
function offerProblem(fields: Record<string, unknown> | undefined): string | undefined {
  if (!fields) return 'an offer is not an object';
  if (typeof fields.method !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(fields.method)) {
    return '"method" is not a payment method name';
  }
  if (typeof fields.intent !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(fields.intent)) {
    return '"intent" is not an intent name';
  }
  if (!('amount' in fields)) return '"amount" is missing (it must be a base-unit string or null)';
  if (fields.amount !== null && typeof fields.amount !== 'string') {
    return `"amount" must be a string of base units or null, not a ${typeof fields.amount}`;
  }
  if (fields.currency !== undefined && typeof fields.currency !== 'string') {
    return '"currency" is not a string';
  }
  return undefined;
}
