/**
 * `discover(origin)`: what a seller publishes about its prices, read without paying anything.
 *
 * Sources, all on the origin asked about: `GET /openapi.json` (per-operation `x-payment-info`,
 * the MPP discovery draft), `GET /.well-known/x402` and `GET /.well-known/x402.json` (the two
 * x402 manifest proposals), `GET /llms.txt` (and the `x-service-info.docs.llms` it names) for
 * links to those, and, for resources a manifest lists without terms, an unpaid `GET` whose 402
 * gives the x402 terms and `extensions.bazaar` metadata. Discovery is advisory: the 402
 * challenge of the real call decides what is paid.
 *
 * @module
 */
import { isStipendError, StipendError } from '../errors/base.js';
import { type HttpRule, mayPayOver } from '../fetch/transport.js';
import { redactUrl } from '../internal/redact.js';
import { createAssetRegistry, type KnownAsset } from '../money/assets.js';
import { type PriceSource, pegPriceSource } from '../money/price.js';
import type { KnownToken } from '../protocols/mpp/terms.js';
import { fetchDocument, parseJsonBounded } from './fetch-document.js';
import { readLlmsLinks } from './llms.js';
import { readOpenApi } from './openapi.js';
import { type PriceContext, priceRawOffer } from './price.js';
import type { RawEndpoint, Skip } from './raw.js';
import type { DiscoveredEndpoint, Discovery, DiscoveryDocument } from './types.js';
import { type Pointer, readX402Json, readX402Manifest, readX402Probe } from './x402.js';

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** The fetch to use. Default: `globalThis.fetch`, resolved at call time. */
  readonly fetch?: typeof fetch;
  /** Deadline of each request (until headers) and of each body read, ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Largest document read, in bytes received. Default 262 144 (256 KiB). */
  readonly maxBytes?: number;
  /** Prices for USD costs. Default: USD stablecoins and USD at par (`pegPriceSource()`). */
  readonly prices?: PriceSource;
  /** Oldest acceptable rate, ms. Default 300 000. */
  readonly maxRateAgeMs?: number;
  /** x402 assets beyond the built-in ones (as `x402Adapter({ assets })`). */
  readonly assets?: readonly KnownAsset[];
  /** MPP tokens you know, by `eip155:<chainId>/<address>` (as `mppAdapter({ tokens })`). */
  readonly tokens?: Readonly<Record<string, KnownToken>>;
  /** Plain `http:` origins: `'loopback'` (default) allows only loopback hosts. */
  readonly allowHttp?: HttpRule;
  /**
   * How many resources that a manifest lists without terms are asked for their 402 (an unpaid
   * `GET`, never another method). Default 8; `0` asks none.
   */
  readonly probe?: number;
  readonly signal?: AbortSignal;
  /** The clock (ms since epoch). */
  readonly now?: () => number;
}

const DEFAULTS = { timeoutMs: 10_000, maxBytes: 256 * 1024, probe: 8, maxRateAgeMs: 300_000 };

/**
 * Reads what `origin` publishes about its prices and returns its priced endpoints. Pays
 * nothing: only `GET` requests without credentials go out, all to `origin`. A document that
 * is absent, too large, too deep, slow, redirected elsewhere or of the wrong shape is listed
 * in `documents` with a code and a reason, and the others are still read; an endpoint or offer
 * of the wrong shape is listed in `skipped`.
 *
 * @throws {StipendError} code `CONFIG_INVALID` when `origin` is not an http(s) URL, or is plain
 *   HTTP to a host `allowHttp` does not allow; the caller's abort reason when `signal` aborts.
 * @example
 * ```ts
 * import { discover } from '@stipend/client/discover';
 *
 * const found = await discover('https://api.example.com');
 * for (const endpoint of found.endpoints) {
 *   console.warn(endpoint.method, endpoint.path, endpoint.cheapestUsdMicros ?? 'unpriced');
 * }
 * ```
 */
export async function discover(
  origin: string | URL,
  options: DiscoverOptions = {},
): Promise<Discovery> {
  const base = originOf(origin, options.allowHttp ?? 'loopback');
  const clock = options.now ?? Date.now;
  const fetchOptions = {
    fetch: (input: RequestInfo | URL, init?: RequestInit) =>
      (options.fetch ?? globalThis.fetch)(input, init),
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const documents: DiscoveryDocument[] = [];
  const skipped: Skip[] = [];
  const raw: RawEndpoint[] = [];
  const pointers: Pointer[] = [];
  const seen = new Set<string>();
  /** Listed resources whose unpaid GET was answered without a 402: free, not endpoints. */
  const free = new Set<string>();

  /** Fetches one document once; returns its text, or undefined (recorded why). */
  async function read(path: string, accept?: string): Promise<string | undefined> {
    if (seen.has(path)) return undefined;
    seen.add(path);
    const url = new URL(path, base);
    try {
      const doc = await fetchDocument(url, { ...fetchOptions, ...(accept ? { accept } : {}) });
      if (doc.kind === 'absent' || doc.status === 402) {
        documents.push({ url: redactUrl(url), outcome: 'absent', reason: `HTTP ${doc.status}` });
        return undefined;
      }
      return doc.text;
    } catch (error) {
      options.signal?.throwIfAborted();
      documents.push(skippedDocument(url, error));
      return undefined;
    }
  }

  function take(
    path: string,
    parse: (json: unknown) => {
      endpoints: readonly RawEndpoint[];
      skipped: readonly Skip[];
      pointers?: readonly Pointer[];
    },
    text: string,
  ) {
    const url = redactUrl(new URL(path, base));
    try {
      const got = parse(parseJsonBounded(text, path));
      raw.push(...got.endpoints);
      pointers.push(...(got.pointers ?? []));
      skipped.push(...got.skipped);
      documents.push({ url, outcome: 'read', endpoints: got.endpoints.length });
    } catch (error) {
      documents.push(skippedDocument(new URL(path, base), error));
    }
  }

  let llmsPath: string | undefined;
  const readers = {
    openapi: (path: string) =>
      read(path).then((text) => {
        if (text === undefined) return;
        take(
          path,
          (json) => {
            const got = readOpenApi(json, base.origin);
            llmsPath ??= got.llms;
            return got;
          },
          text,
        );
      }),
    x402: (path: string) =>
      read(path).then(
        (text) =>
          text !== undefined && take(path, (json) => readX402Manifest(json, base.origin), text),
      ),
    x402Json: (path: string) =>
      read(path).then(
        (text) => text !== undefined && take(path, (json) => readX402Json(json, base.origin), text),
      ),
  };

  await Promise.all([
    readers.openapi('/openapi.json'),
    readers.x402('/.well-known/x402'),
    readers.x402Json('/.well-known/x402.json'),
  ]);
  // llms.txt: the well-known place and the one the OpenAPI document names.
  for (const path of new Set(['/llms.txt', ...(llmsPath ? [llmsPath] : [])])) {
    const text = await read(path, 'text/plain, text/markdown');
    if (text === undefined) continue;
    const links = readLlmsLinks(text, base.origin);
    documents.push({ url: redactUrl(new URL(path, base)), outcome: 'read' });
    for (const link of links.openapi) await readers.openapi(link);
    for (const link of links.x402) await readers.x402(link);
    for (const link of links.x402Json) await readers.x402Json(link);
  }

  await probe(pointers, raw, options.probe ?? DEFAULTS.probe);

  const ctx: PriceContext = {
    origin: base.origin,
    registry: createAssetRegistry(options.assets ?? [], 'discover assets'),
    tokens: new Map(
      Object.entries(options.tokens ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
    ),
    prices: options.prices ?? pegPriceSource(),
    now: clock(),
    maxRateAgeMs: options.maxRateAgeMs ?? DEFAULTS.maxRateAgeMs,
  };
  const endpoints: DiscoveredEndpoint[] = [];
  for (const endpoint of raw) endpoints.push(await priced(endpoint, ctx));
  for (const pointer of unprobed(pointers, raw, free)) {
    endpoints.push({
      method: pointer.method,
      path: pointer.path,
      ...(pointer.tool ? { tool: pointer.tool } : {}),
      source: 'x402-manifest',
      ...(pointer.description ? { description: pointer.description } : {}),
      offers: [],
      unpriced: 'listed without terms: its 402 says the price (quote it)',
    });
  }
  return { origin: base.origin, endpoints, documents, skipped };

  /** Asks listed resources without terms for their 402 (unpaid GETs, on the origin only). */
  async function probe(list: readonly Pointer[], into: RawEndpoint[], max: number) {
    let asked = 0;
    for (const pointer of list) {
      if (asked >= max) break;
      if (pointer.method !== 'GET' || /[:{}*]/.test(pointer.path)) continue;
      const key = `GET ${pointer.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      asked++;
      const url = new URL(pointer.path, base);
      try {
        const doc = await fetchDocument(url, fetchOptions);
        if (doc.kind === 'absent' || doc.status !== 402) {
          if (doc.status < 400) free.add(key);
          documents.push({
            url: redactUrl(url),
            outcome: 'absent',
            reason: `HTTP ${doc.status}: no 402 terms`,
          });
          continue;
        }
        const endpoint = readX402Probe(doc.headers, doc.text, pointer, base.origin, skipped);
        documents.push({ url: redactUrl(url), outcome: 'read', endpoints: endpoint ? 1 : 0 });
        if (endpoint) into.push(endpoint);
      } catch (error) {
        options.signal?.throwIfAborted();
        documents.push(skippedDocument(url, error));
      }
    }
  }
}

function pointerKey(pointer: Pointer): string {
  return `${pointer.method} ${pointer.path}`;
}

/** Pointers that no endpoint (from a document or a probe) describes. */
function unprobed(
  pointers: readonly Pointer[],
  raw: readonly RawEndpoint[],
  free: ReadonlySet<string>,
): Pointer[] {
  const described = new Set([
    ...free,
    ...raw.map((endpoint) => `${endpoint.method} ${endpoint.path}`),
  ]);
  const out = new Map<string, Pointer>();
  for (const pointer of pointers) {
    const key = pointerKey(pointer);
    if (!described.has(key) && !out.has(key)) out.set(key, pointer);
  }
  return [...out.values()];
}

async function priced(endpoint: RawEndpoint, ctx: PriceContext): Promise<DiscoveredEndpoint> {
  const url = new URL(endpoint.path, ctx.origin);
  const offers = [];
  for (const offer of endpoint.offers)
    offers.push(await priceRawOffer(offer, url, endpoint.method, ctx));
  let cheapest: bigint | undefined;
  for (const offer of offers) {
    if (offer.usdMicros !== undefined && (cheapest === undefined || offer.usdMicros < cheapest)) {
      cheapest = offer.usdMicros;
    }
  }
  return {
    method: endpoint.method,
    path: endpoint.path,
    ...(endpoint.tool ? { tool: endpoint.tool } : {}),
    source: endpoint.source,
    ...(endpoint.description ? { description: endpoint.description } : {}),
    offers,
    ...(cheapest !== undefined ? { cheapestUsdMicros: cheapest } : {}),
  };
}

function skippedDocument(url: URL, error: unknown): DiscoveryDocument {
  return {
    url: redactUrl(url),
    outcome: 'skipped',
    code: isStipendError(error) ? error.code : 'DISCOVERY_UNAVAILABLE',
    reason: isStipendError(error)
      ? error.shortMessage
      : ((error as Error | null)?.message ?? String(error)),
  };
}

function originOf(origin: string | URL, allowHttp: HttpRule): URL {
  let url: URL;
  try {
    url = new URL(String(origin));
  } catch {
    throw new StipendError(
      'CONFIG_INVALID',
      `discover needs an origin URL such as "https://api.example.com" (got ${JSON.stringify(String(origin).slice(0, 100))})`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StipendError(
      'CONFIG_INVALID',
      `discover reads only http(s) origins (got ${url.protocol})`,
    );
  }
  if (!mayPayOver(url, allowHttp)) {
    throw new StipendError(
      'CONFIG_INVALID',
      `discover refuses plain HTTP to ${url.origin}: discovery documents must come over HTTPS. Use https, or set allowHttp (loopback is allowed by default).`,
    );
  }
  return new URL(url.origin);
}
