/**
 * The seller's side of the x402 `exact`/`lnbtc` `http:1` request binding
 * (x402-foundation/x402, `specs/schemes/exact/scheme_exact_lnbtc.md`, "Request Binding"),
 * written from the spec for the testkit seller. It is the counterparty of the client's
 * binding (`@stipend/client`, `protocols/x402/binding.ts`) on purpose: two implementations
 * that meet only through the spec's vectors and the wire, as a real seller and client do.
 *
 * The binding object holds only strings, arrays and objects, so its JCS form (RFC 8785) is
 * written directly: members in code-unit order, strings as `JSON.stringify` escapes them.
 *
 * @module
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { sha256Hex } from '../lightning/bytes.js';
import { LnbtcSellerError } from './reasons.js';

/** A request as the seller binds it. */
export interface SellerBindingInput {
  /** The method as received (case preserved). */
  readonly method: string;
  /** The absolute URL the seller serves it as (its public origin + the request target). */
  readonly url: string;
  /** The content bytes (after transfer decoding); empty for none. */
  readonly body: Uint8Array;
  /** The field lines as received, `[name, value]`, repeated names allowed. */
  readonly headerLines: readonly (readonly [string, string])[];
  /** The header names this route binds (the seller's configuration, never the client's echo). */
  readonly boundHeaders: readonly string[];
}

/** The binding of one request. */
export interface SellerBinding {
  /** `UTF8(JCS(binding))`, as text. */
  readonly canonical: string;
  /** `SHA-256` of it: 64 lowercase hex, the invoice's description hash. */
  readonly requestHash: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const LOWER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const VALUE = /^[\t\x20-\x7e]*$/;
const URI = /^[\x21-\x7e]+$/;
const PERCENT = /%(?![0-9A-Fa-f]{2})/;
const ABSENT = Uint8Array.of(0);

function refuse(message: string): never {
  throw new LnbtcSellerError('invalid_exact_lnbtc_request_binding', message);
}

/**
 * Checks a route's bound header names: lowercase field-name tokens, ascending, unique, never
 * `payment-signature`. Throws an {@link LnbtcSellerError} `invalid_exact_lnbtc_request_binding`.
 *
 * @example
 * ```ts
 * import { checkBoundHeaders } from '@stipend/testkit/lnbtc';
 * checkBoundHeaders(['content-type', 'x-account']); // ok
 * ```
 */
export function checkBoundHeaders(names: readonly string[]): void {
  names.forEach((name, i) => {
    if (!LOWER_TOKEN.test(name)) refuse(`bound header ${JSON.stringify(name)} is not lowercase`);
    if (name === 'payment-signature') refuse('payment-signature must not be bound');
    if (i > 0 && !(names[i - 1]! < name)) refuse('bound headers must be ascending and unique');
  });
}

/** An absolute http(s) URL in ASCII, no user information, no fragment, no bad escape. */
function checkUrl(url: string): void {
  if (!URI.test(url)) refuse('the URL is not ASCII without spaces');
  if (url.includes('#')) refuse('the URL carries a fragment');
  if (PERCENT.test(url)) refuse('the URL has a malformed percent escape');
  if (!/^https?:\/\//i.test(url)) refuse('the URL is not an absolute http(s) URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    refuse('the URL does not parse');
  }
  if (parsed.username || parsed.password || /^[^:]+:\/\/[^/?]*@/.test(url)) {
    refuse('the URL carries user information');
  }
}

/** RFC 9421 §2.1 field value: every line's value trimmed of OWS, joined with ", ". */
function fieldValue(
  lines: readonly (readonly [string, string])[],
  name: string,
): string | undefined {
  const values = lines
    .filter(([line]) => line.toLowerCase() === name)
    .map(([, value]) => value.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (values.length === 0) return undefined;
  const value = values.join(', ');
  if (!VALUE.test(value)) refuse(`the value of bound header ${name} is not ASCII text`);
  return value;
}

function prefixed(value: string | undefined): Uint8Array {
  if (value === undefined) return ABSENT;
  const bytes = new Uint8Array(value.length + 1);
  bytes[0] = 1;
  for (let i = 0; i < value.length; i++) bytes[i + 1] = value.charCodeAt(i);
  return bytes;
}

/**
 * The `http:1` binding of a request as the seller received it (see the module comment).
 *
 * @example
 * ```ts
 * import { sellerHttpBinding } from '@stipend/testkit/lnbtc';
 * const { requestHash } = sellerHttpBinding({
 *   method: 'GET', url: 'https://api.example.com/article/A', body: new Uint8Array(),
 *   headerLines: [], boundHeaders: [],
 * }); // '0d6623f7…c018', the spec's example
 * ```
 */
export function sellerHttpBinding(input: SellerBindingInput): SellerBinding {
  if (!TOKEN.test(input.method)) refuse('the method is not an HTTP token');
  checkUrl(input.url);
  checkBoundHeaders(input.boundHeaders);
  const headers = input.boundHeaders.map(
    (name) =>
      `{"name":${JSON.stringify(name)},"valueHash":"${sha256Hex(prefixed(fieldValue(input.headerLines, name)))}"}`,
  );
  const canonical =
    `{"bodyHash":"${sha256Hex(input.body)}","domain":"x402:exact:lnbtc:bolt11:http:1",` +
    `"headers":[${headers.join(',')}],"method":${JSON.stringify(input.method)},` +
    `"url":${JSON.stringify(input.url)}}`;
  return { canonical, requestHash: sha256Hex(utf8ToBytes(canonical)) };
}
