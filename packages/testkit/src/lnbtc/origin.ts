/**
 * Which URL the `lnbtc` seller binds a request to (`scheme_exact_lnbtc.md`, HTTP profile: "The
 * server MUST validate the public origin against its configuration and reconstruct it only
 * from trusted proxy information"). The bound origin is always the configured one, never an
 * authority the requester chose; the request target is kept byte for byte (escapes, query
 * order).
 *
 * The fixture's open question `http-adapter-origin-policy` is answered like this: a request
 * for another authority (in the URL, `Host`, `:authority`, or a trusted `X-Forwarded-Host`)
 * is refused with `invalid_exact_lnbtc_request_mismatch`; a malformed authority or proto hop
 * with `invalid_exact_lnbtc_request_binding`; a request with no authority header binds the
 * configured origin with its target.
 *
 * @module
 */
import { LnbtcSellerError } from './reasons.js';

/** What {@link sellerRequestUrl} needs. */
export interface SellerRequestUrlInput {
  /** The seller's public origin, e.g. `https://api.example.com` (its configuration). */
  readonly publicOrigin: string;
  /** Honour `X-Forwarded-Host` / `X-Forwarded-Proto` (only behind a proxy you run). */
  readonly trustProxy?: boolean;
  /** The request target as received: origin-form (`/a?b`) or absolute-form (`https://h/a`). */
  readonly target: string;
  /** The field lines as received, `[name, value]` (`:authority` for HTTP/2). */
  readonly headerLines: readonly (readonly [string, string])[];
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/;

function malformed(message: string): never {
  throw new LnbtcSellerError('invalid_exact_lnbtc_request_binding', message);
}

function mismatch(message: string): never {
  throw new LnbtcSellerError('invalid_exact_lnbtc_request_mismatch', message);
}

/** A well-formed authority, as `host:port` lowercase with the scheme's default port filled in. */
function authority(value: string, scheme: string, what: string): string {
  const match = HOST.exec(value);
  if (!match) malformed(`${what} ${JSON.stringify(value)} is not a host[:port]`);
  const port = match[1];
  if (port !== undefined && Number(port) > 65_535) malformed(`${what} has a port above 65535`);
  const host = (port === undefined ? value : value.slice(0, -port.length - 1)).toLowerCase();
  const fallback = scheme === 'https' ? '443' : '80';
  return `${host}:${port === undefined || port === '' ? fallback : String(Number(port))}`;
}

function values(lines: SellerRequestUrlInput['headerLines'], name: string): string[] {
  return lines.filter(([line]) => line.toLowerCase() === name).map(([, value]) => value);
}

/** Comma-separated proxy hops, each trimmed; an empty hop is malformed. */
function hops(lines: SellerRequestUrlInput['headerLines'], name: string): string[] {
  return values(lines, name)
    .flatMap((value) => value.split(','))
    .map((hop) => hop.replace(/^[ \t]+|[ \t]+$/g, ''))
    .map((hop) => (hop === '' ? malformed(`${name} has an empty hop`) : hop));
}

/**
 * The absolute URL to bind a request to: the configured public origin and the target as
 * received. Throws an {@link LnbtcSellerError} (see the module comment for which reason).
 *
 * @example
 * ```ts
 * import { sellerRequestUrl } from '@stipend/testkit/lnbtc';
 * sellerRequestUrl({
 *   publicOrigin: 'https://api.example.com',
 *   target: '/article/A',
 *   headerLines: [['Host', 'api.example.com']],
 * }); // 'https://api.example.com/article/A'
 * ```
 */
export function sellerRequestUrl(input: SellerRequestUrlInput): string {
  const configured = new URL(input.publicOrigin);
  const scheme = configured.protocol.slice(0, -1);
  const origin = configured.origin;
  const expected = authority(configured.host, scheme, 'the configured origin');
  const check = (value: string, what: string) => {
    if (authority(value, scheme, what) !== expected) {
      mismatch(`${what} ${value} is not this seller's origin ${origin}`);
    }
  };

  let target = input.target;
  const absolute = ABSOLUTE.exec(target);
  if (absolute) {
    if (absolute[1]!.toLowerCase() !== scheme) mismatch(`the request is for ${absolute[1]}`);
    check(absolute[2]!, 'the request URL authority');
    target = absolute[3]!;
  }
  if (target === '') target = '/';
  if (!target.startsWith('/')) malformed('the request target is not origin-form or absolute');

  // Every authority present must be well formed, trusted or not.
  const hosts = values(input.headerLines, 'host');
  const pseudo = values(input.headerLines, ':authority');
  const forwardedHosts = hops(input.headerLines, 'x-forwarded-host');
  const forwardedProtos = hops(input.headerLines, 'x-forwarded-proto');
  if (hosts.length > 1 || pseudo.length > 1) malformed('more than one Host or :authority');
  for (const value of [...hosts, ...pseudo, ...forwardedHosts])
    authority(value, scheme, 'authority');
  for (const proto of forwardedProtos) {
    if (!SCHEME.test(proto))
      malformed(`X-Forwarded-Proto hop ${JSON.stringify(proto)} is not a scheme`);
  }

  if (input.trustProxy && forwardedHosts.length > 0) {
    check(forwardedHosts[0]!, 'X-Forwarded-Host');
  } else {
    for (const value of [...pseudo, ...hosts]) check(value, 'the Host');
  }
  if (input.trustProxy && forwardedProtos.length > 0) {
    if (forwardedProtos[0]!.toLowerCase() !== scheme) {
      mismatch(`X-Forwarded-Proto ${forwardedProtos[0]} is not ${scheme}`);
    }
  }
  return `${origin}${target}`;
}
