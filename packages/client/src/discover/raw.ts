/**
 * What the document readers hand to pricing: endpoints with their offers as published, not yet
 * trusted, and the bounds every reader applies.
 *
 * @module
 */
import type { DiscoverySource } from './types.js';

/** Most endpoints taken from one origin. */
export const MAX_ENDPOINTS = 500;
/** Most offers taken per endpoint. */
export const MAX_OFFERS = 16;
/** Longest description kept, in characters. */
const MAX_DESCRIPTION = 200;

/** An offer as a document publishes it. */
export type RawOffer =
  | { readonly protocol: 'mpp'; readonly fields: Readonly<Record<string, unknown>> }
  | {
      readonly protocol: 'x402';
      readonly version: 1 | 2;
      readonly requirement: unknown;
      /** A USD price the document states next to the requirement (checked against it). */
      readonly claimedPrice?: unknown;
    };

/** An endpoint as a document publishes it. */
export interface RawEndpoint {
  readonly method: string;
  readonly path: string;
  readonly tool?: string;
  readonly source: DiscoverySource;
  readonly description?: string;
  readonly offers: readonly RawOffer[];
}

/** A left-out endpoint or offer, and why. */
export interface Skip {
  readonly where: string;
  readonly reason: string;
}

/** A plain object (not an array, not null), or undefined. */
export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A publisher's text made safe to show: a string, control characters removed, at most 200
 * characters; anything else is dropped.
 *
 * @example
 * ```ts
 * import { cleanText } from './raw.js';
 * cleanText('Weather\u0007 data'); // 'Weather data'
 * ```
 */
export function cleanText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  if (text.length === 0) return undefined;
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

/**
 * The path of a URL or path a document names, when it is on `origin`; else undefined (a
 * document may only describe its own origin).
 *
 * @example
 * ```ts
 * import { pathOn } from './raw.js';
 * pathOn('https://api.example.com/weather', 'https://api.example.com'); // '/weather'
 * pathOn('https://evil.example/x', 'https://api.example.com'); // undefined
 * ```
 */
export function pathOn(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  // Route templates (`/weather/:city`, `/items/{id}`) are kept as written.
  return decodeSafe(url.pathname);
}

function decodeSafe(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}
