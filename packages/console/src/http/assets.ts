/**
 * The page: three static files (HTML, CSS, one vanilla ES module) read once at start-up and
 * served as they are. No build step, no framework, no request to anywhere but the console.
 *
 * The files live in `src/page/` and the package publishes `src/`, so both the sources
 * (`src/http/assets.ts`) and the build (`dist/http/assets.js`) find them at
 * `../../src/page/` from this module.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/** One static file. */
export interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const PAGE = new URL('../../src/page/', import.meta.url);

const FILES: Readonly<Record<string, [string, string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/console.css': ['console.css', 'text/css; charset=utf-8'],
  '/console.js': ['console.js', 'text/javascript; charset=utf-8'],
};

/**
 * Reads the page's files.
 *
 * @returns The files by the path they are served at (`/`, `/console.css`, `/console.js`).
 * @example
 * ```ts
 * import { loadAssets } from './assets.js';
 * const assets = loadAssets();
 * assets.get('/')?.body.length; // bytes of the HTML
 * ```
 */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [path, [file, type]] of Object.entries(FILES)) {
    assets.set(path, { type, body: readFileSync(new URL(file, PAGE)) });
  }
  return assets;
}

/**
 * The page weight: bytes of HTML + CSS + JS as served (uncompressed).
 *
 * @example
 * ```ts
 * import { loadAssets, pageWeight } from './assets.js';
 * pageWeight(loadAssets()); // e.g. 21000
 * ```
 */
export function pageWeight(assets: ReadonlyMap<string, Asset>): number {
  let total = 0;
  for (const asset of assets.values()) total += asset.body.length;
  return total;
}

/** Headers of every answer: nothing cached, nothing framed, nothing sniffed, no referrer. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};

/** The page may load only its own script and style, and talk only to the console. */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
