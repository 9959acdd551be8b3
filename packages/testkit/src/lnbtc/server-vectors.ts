/**
 * The `http_server_adapter` cases of x402-foundation/x402
 * `specs/schemes/exact/vectors/exact_lnbtc.json` (fixture_version 1, stored at commit
 * b953d5b96abd685605fd57e921ba910631b89bf2), values only: how a seller picks the URL it binds
 * (configured origin `https://api.example.com`, no bound headers, empty body, GET). For the
 * open question `http-adapter-origin-policy`, the outcome the testkit seller chose is kept
 * (see `origin.ts`) and the hash the fixture forbids is listed.
 *
 * @module
 */
/** One server-adapter case. */
export interface ServerAdapterVector {
  readonly id: string;
  readonly publicOrigin: string;
  /** The request URL as the fixture gives it (absolute). */
  readonly url: string;
  readonly headerLines: readonly (readonly [string, string])[];
  /** The hash expected, or the reason refused. */
  readonly requestHash?: string;
  readonly error?: 'invalid_exact_lnbtc_request_binding' | 'invalid_exact_lnbtc_request_mismatch';
  /** A hash the fixture forbids whatever the outcome (a requester-chosen origin). */
  readonly forbiddenRequestHash?: string;
}

const ORIGIN = 'https://api.example.com';
const A = `${ORIGIN}/article/A`;
const HASH_A = '0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018';
const ok = (id: string, headerLines: ServerAdapterVector['headerLines']): ServerAdapterVector => ({
  id,
  publicOrigin: ORIGIN,
  url: A,
  headerLines,
  requestHash: HASH_A,
});
const bad = (id: string, headerLines: ServerAdapterVector['headerLines']): ServerAdapterVector => ({
  id,
  publicOrigin: ORIGIN,
  url: A,
  headerLines,
  error: 'invalid_exact_lnbtc_request_binding',
});
const MALFORMED = [
  ['path-and-query', 'api.example.com/article/A?q='],
  ['query', 'api.example.com?query='],
  ['fragment', 'api.example.com#fragment'],
  ['backslash', 'api.example.com\\other'],
  ['userinfo', 'user@api.example.com'],
  ['port-not-numeric', 'api.example.com:bad'],
  ['port-65536', 'api.example.com:65536'],
  ['bad-percent', 'api.example.com%zz'],
  ['brackets-inside-name', 'foo[::1]bar'],
  ['crlf', 'api.example.com\r\n'],
  ['empty', ''],
] as const;

/** `http_server_adapter` of the fixture. */
export const LNBTC_HTTP_SERVER_ADAPTER: readonly ServerAdapterVector[] = [
  ok('host-matches', [['Host', 'api.example.com']]),
  ok('host-uppercase', [['Host', 'API.EXAMPLE.COM']]),
  ok('host-default-port', [['Host', 'api.example.com:443']]),
  ok('authority-pseudo-header', [[':authority', 'api.example.com']]),
  ok('forwarded-host-hop', [
    ['Host', 'internal:8080'],
    ['X-Forwarded-Host', 'api.example.com, proxy:8080'],
  ]),
  ok('forwarded-proto-hops', [
    ['Host', 'api.example.com'],
    ['X-Forwarded-Proto', 'https, http'],
  ]),
  {
    id: 'ipv6-authority',
    publicOrigin: 'https://[::1]:8443',
    url: 'https://[::1]:8443/article/A?x=%2F',
    headerLines: [['Host', '[::1]:8443']],
    requestHash: '980a3a54eae008e4be8ee2d2b98483892f1dc7bd7e52aac5a434ff2394ca2dc7',
  },
  ...MALFORMED.map(([id, value]) => bad(`authority-host-${id}`, [['Host', value]])),
  ...MALFORMED.map(([id, value]) => bad(`authority-authority-${id}`, [[':authority', value]])),
  ...MALFORMED.map(([id, value]) =>
    bad(`authority-x-forwarded-host-${id}`, [['X-Forwarded-Host', value]]),
  ),
  bad('forwarded-proto-url', [
    ['Host', 'api.example.com'],
    ['X-Forwarded-Proto', 'https://api.example.com/path?'],
  ]),
  bad('forwarded-proto-crlf', [
    ['Host', 'api.example.com'],
    ['X-Forwarded-Proto', 'https\r\n'],
  ]),
  bad('forwarded-proto-empty-hop', [
    ['Host', 'api.example.com'],
    ['X-Forwarded-Proto', 'https, '],
  ]),
  bad('forwarded-host-malformed-hop', [
    ['Host', 'api.example.com'],
    ['X-Forwarded-Host', 'bad/path'],
  ]),
  {
    id: 'request-origin-not-configured',
    publicOrigin: ORIGIN,
    url: 'https://evil.example/a',
    headerLines: [['Host', 'evil.example']],
    error: 'invalid_exact_lnbtc_request_mismatch',
    forbiddenRequestHash: '16c4f2d6e282188e630ff4f7318dae2bb89ea69a5343f0f4575cafeb5a33c96a',
  },
  {
    id: 'host-differs-from-url',
    publicOrigin: ORIGIN,
    url: A,
    headerLines: [['Host', 'other.example.com']],
    error: 'invalid_exact_lnbtc_request_mismatch',
    forbiddenRequestHash: '6e6a4a4f5b0fc413ef9f45b58500251d5188074cd9c80affb37e858e230e6da6',
  },
  // Open question: bound as the request URL (which is the configured origin's).
  ok('no-authority-header', []),
];

/**
 * `bind_configured_origin`, the outcome of `request-origin-not-configured` this seller did not
 * choose: the configured origin with the request's target.
 */
export const LNBTC_BIND_CONFIGURED_ORIGIN_HASH =
  'b6c409af56532b6edb1f09bea5442e3fe0bd131a19683cde432a63674d3718cc';
