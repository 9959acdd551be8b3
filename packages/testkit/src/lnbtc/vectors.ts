/**
 * Test vectors of x402 `exact` on Lightning (`lnbtc`), copied (values only) from
 * x402-foundation/x402:
 *
 * - `specs/schemes/exact/vectors/exact_lnbtc.json` (fixture_version 1, stored at commit
 *   b953d5b96abd685605fd57e921ba910631b89bf2): `http_binding`, the client cases
 *   `invoice-expired` and `invoice-created-in-future`, and `facilitator_settle` `spec-example`;
 * - `specs/schemes/exact/scheme_exact_lnbtc.md` (stored at commit
 *   0039c0169dc5f76ec1690ab488cfac7fa68c9d99): the `PaymentRequirements` / `PaymentPayload`
 *   example and the MCP request-binding vectors.
 *
 * Test key: private key 0x…01 (`payTo` below); validation time 1700000000 (the spec
 * invoice's creation time). Open questions of the fixture are answered as this client does:
 * port 0 binds; an invoice is expired once `now >= created + expiry`.
 *
 * @module
 */

/** The spec's test payee (node key of private key 0x…01). */
export const LNBTC_TEST_PAY_TO =
  '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

/** The spec's validation time, unix seconds. */
export const LNBTC_TEST_NOW = 1_700_000_000;

/** Mainnet `lnbtc` network id. */
export const LNBTC_MAINNET = 'lnbtc:000000000019d6689c085ae165831e93';

/** The spec's example `PaymentRequirements` (GET https://api.example.com/article/A). */
export const LNBTC_SPEC_REQUIREMENT = {
  scheme: 'exact',
  network: LNBTC_MAINNET,
  amount: '25000',
  asset: 'BTC',
  payTo: LNBTC_TEST_PAY_TO,
  maxTimeoutSeconds: 300,
  extra: {
    assetTransferMethod: 'bolt11',
    paymentFlow: 'upfront',
    requestHash: '0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018',
    requestBindingProfile: 'http:1',
    requestBindingParams: { headers: [] },
    invoice:
      'lnbc250n1pj48ugqpp54y3u9s8ylemsv8l3ewyzzu0klhujvuvmkl6llchq23vy8rzjsf0qsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjr4rx6ls6j5rpwknuea64evlk7yfx56wmqcer5eerekdsn9tlv6v4ex9mlz5dtm9qapl3svwlqcf7837dmjkru9z9w4h2rvm0md52w2sqxrwu5f',
  },
} as const;

/** The request the spec example binds. */
export const LNBTC_SPEC_URL = 'https://api.example.com/article/A';

/** The spec example's preimage and the payment hash it settles (the receipt's `transaction`). */
export const LNBTC_SPEC_PREIMAGE =
  '0001020304050607080900010203040506070809000102030405060708090102';
export const LNBTC_SPEC_PAYMENT_HASH =
  'a923c2c0e4fe77061ff1cb882171f6fdf926719bb7f5ffe2e05458438c52825e';
/** The spec example's replay key and the earliest time its entry may be dropped. */
export const LNBTC_SPEC_REPLAY_KEY = `${LNBTC_MAINNET}:${LNBTC_SPEC_PAYMENT_HASH}`;
export const LNBTC_SPEC_RETAIN_UNTIL = 1_700_003_960;

/** Client cases: the same terms with another invoice, and the local reason expected. */
export const LNBTC_CLIENT_INVOICE_CASES = [
  {
    id: 'invoice-expired',
    note: 'Invoice ended one second before validation time.',
    invoice:
      'lnbc250n1pj48m7npp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjgjf7838hfgc88tzy9ssvxgfa0psth532jezgsecaet73h3v3vlu80vwxzw58kvvvhyp443kntwtx7cm0uyp55xy7n7v23fkwxl3a6jqplqkgty',
    error: 'invalid_exact_lnbtc_invoice_expired',
  },
  {
    id: 'invoice-created-in-future',
    note: 'Created 61 s after validation time.',
    invoice:
      'lnbc250n1pj48ufapp5gf0dfe9rdvcw5gdepcsuwykxf85zznpfkl40dqyf6ypecmj48pxqsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygshp5p4nz8am4uqj4q8a87z3sk4x6yk4dv2mvel34epw68qqkwy0xcqvqxqzfvcqpjrc7p6q79tr8at05z3zkllkgx44563v7qcnqt38lhcrarxsmczutzlgvpe8yhtdgzckexzpaahhc27elh465sk2r2m6rtkz59zdgsjycpw4nnaw',
    error: 'invalid_exact_lnbtc_invoice_created_in_future',
  },
] as const;

/** One `http_binding` case: a request, and its hash or the binding error. */
export interface HttpBindingVector {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly bodyHex: string;
  readonly boundHeaders: readonly string[];
  readonly headerLines: readonly (readonly [string, string])[];
  readonly requestHash?: string;
  readonly canonical?: string;
  readonly error?: 'invalid_exact_lnbtc_request_binding';
}

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABSENT = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const A = LNBTC_SPEC_URL;
const get = (
  id: string,
  url: string,
  requestHash: string,
  extra: Partial<HttpBindingVector> = {},
) =>
  ({
    id,
    method: 'GET',
    url,
    bodyHex: '',
    boundHeaders: [],
    headerLines: [],
    requestHash,
    ...extra,
  }) as HttpBindingVector;
const bad = (id: string, extra: Partial<HttpBindingVector>) =>
  ({
    id,
    method: 'GET',
    url: A,
    bodyHex: '',
    boundHeaders: [],
    headerLines: [],
    error: 'invalid_exact_lnbtc_request_binding',
    ...extra,
  }) as HttpBindingVector;

/** `http_binding` of the fixture. */
export const LNBTC_HTTP_BINDING: readonly HttpBindingVector[] = [
  get(
    'published-article-a',
    A,
    '0d6623f775e025501fa7f0a30b54da25aad62b6ccfe35c85da38016711e6c018',
    {
      canonical: `{"bodyHash":"${EMPTY}","domain":"x402:exact:lnbtc:bolt11:http:1","headers":[],"method":"GET","url":"https://api.example.com/article/A"}`,
    },
  ),
  get(
    'published-article-b',
    'https://api.example.com/article/B',
    '4a99860f75eed1ea8178a5db488e044173bc570c8a6210f2c8590cdf8622d509',
  ),
  get('method-post', A, 'a66ae81d2b71d1d7f852985ee9db1388df785560d57114524bf7c77512962d08', {
    method: 'POST',
  }),
  get(
    'method-case-preserved',
    A,
    'ae78c3c247698ef6e25d4bb27fe5aa340535bad028d9b4a0716167b239489fc6',
    { method: 'get' },
  ),
  get(
    'body-single-byte-78',
    A,
    'c51115dd8855d57e7f55c2a57ef957c2c15b4acd627232c88abd0d5d1f4d0c57',
    { bodyHex: '78' },
  ),
  get('body-json-compact', A, 'bb7f8350652f2332572e25e9cde535f32cac717de22f3ac05f8331d57c3bca68', {
    method: 'POST',
    bodyHex: '7b2261223a317d',
  }),
  get('body-json-spaced', A, '0807ffd5f59692e814bc38d8d3a7057632e461eb3dc0074c23fe59abc1c71362', {
    method: 'POST',
    bodyHex: '7b2261223a20317d',
  }),
  get(
    'target-percent-lower',
    'https://api.example.com/%2f',
    'a1d01afa1afcb018fdb18cd50de79eda4b032613636002fc2b436f8beaa2c8d1',
  ),
  get(
    'target-percent-upper',
    'https://api.example.com/%2F',
    'b72e60277f6f14bab83747ac4c4e111a1257d1960288fbeac440b201fc904f8a',
  ),
  get(
    'target-query-order-ab',
    'https://api.example.com/?a=1&b=2',
    '4877f49a336836be73dbabca1ced250e5280690682dd2e97ec1805f96faff277',
  ),
  get(
    'target-query-order-ba',
    'https://api.example.com/?b=2&a=1',
    'a061f00271c2e7b18393acf8c6283b9d3e27d0abecc957576dc6dd7f481432dc',
  ),
  get(
    'target-ipv6-authority',
    'https://[::1]:8443/article/A?x=%2F',
    '980a3a54eae008e4be8ee2d2b98483892f1dc7bd7e52aac5a434ff2394ca2dc7',
  ),
  get(
    'header-bound-absent',
    A,
    '14ad9a145b7f28cb786994fd6342aded5acd795dc5ab3bdc27b905d9c58b2337',
    {
      boundHeaders: ['cookie'],
      canonical: `{"bodyHash":"${EMPTY}","domain":"x402:exact:lnbtc:bolt11:http:1","headers":[{"name":"cookie","valueHash":"${ABSENT}"}],"method":"GET","url":"https://api.example.com/article/A"}`,
    },
  ),
  get('header-bound-empty', A, '7770b6930fee0af113be89a84430aae74c7a3ce1cc5b06c6730feec384db7e7f', {
    boundHeaders: ['cookie'],
    headerLines: [['cookie', '']],
  }),
  get(
    'header-repeated-lines',
    A,
    '0158d93518bd708dfb5762590fecec0999a0f1632856b22934b828001c8404ef',
    {
      boundHeaders: ['cookie'],
      headerLines: [
        ['Cookie', ' a '],
        ['COOKIE', '\tb\t'],
      ],
    },
  ),
  get(
    'header-single-line-combined',
    A,
    '0158d93518bd708dfb5762590fecec0999a0f1632856b22934b828001c8404ef',
    {
      boundHeaders: ['cookie'],
      headerLines: [['cookie', 'a, b']],
    },
  ),
  get(
    'header-two-bound-sorted',
    A,
    '90d6e7604cd1ad486da4b335f704fa5ec58d4a0e0a2a9e465c65fce4084339a0',
    {
      boundHeaders: ['accept', 'content-type'],
      headerLines: [['Content-Type', 'application/json']],
    },
  ),
  // Open question http-port-zero: this client binds it (RFC 3986 syntax allows it).
  get(
    'url-port-zero',
    'https://api.example.com:0/a',
    'b49b5068d6296b2406552a611c6e84e1615f759c15323920fdcf97053d280296',
  ),
  bad('bound-name-uppercase', { boundHeaders: ['Cookie'] }),
  bad('bound-names-unsorted', { boundHeaders: ['z', 'a'] }),
  bad('bound-names-duplicate', { boundHeaders: ['a', 'a'] }),
  bad('bound-payment-signature', { boundHeaders: ['payment-signature'] }),
  bad('header-value-crlf', { boundHeaders: ['a'], headerLines: [['a', 'bad\r\nvalue']] }),
  bad('header-value-non-ascii', { boundHeaders: ['a'], headerLines: [['a', 'é']] }),
  bad('url-relative', { url: '/article/A' }),
  bad('url-userinfo', { url: 'https://user:pass@api.example.com/a' }),
  bad('url-fragment', { url: 'https://api.example.com/article/A#fragment' }),
  bad('url-bad-percent', { url: 'https://api.example.com/article/A%zz' }),
  bad('url-non-ascii', { url: 'https://api.example.com/é' }),
  bad('url-port-65536', { url: 'https://api.example.com:65536/a' }),
  bad('url-not-http', { url: 'ftp://api.example.com/a' }),
  bad('method-not-token', { method: 'GE T' }),
];

/** The spec's MCP vectors: `tools/call get_article { article: 'A' }`, and single changes. */
export const LNBTC_MCP_BINDING = {
  base: {
    server: 'https://api.example.com/mcp',
    name: 'get_article',
    arguments: { article: 'A' } as Record<string, unknown>,
    requestHash: '03941bfedc6af8a09b2f459fe83470284a76a8c75801caa9e1487a9276a693f4',
    canonical:
      '{"arguments":{"article":"A"},"domain":"x402:exact:lnbtc:bolt11:mcp:1","metadata":[],"method":"tools/call","name":"get_article","server":"https://api.example.com/mcp"}',
  },
  changes: [
    {
      change: { arguments: { article: 'B' } },
      requestHash: 'b3e425970d64cd4f08fc4d57a11b76da59ce6a5760d92687398c91f063120678',
    },
    {
      change: { name: 'delete_article' },
      requestHash: '3a52bbf19dda8b5765a27246b12e805770298273b48526956c421f02fe043455',
    },
    {
      change: { server: 'https://other.example.com/mcp' },
      requestHash: '96903c29186c6aabc95e48abafd8ce3ad32b4060f5d5bf22cf75f3fbfe816e45',
    },
  ],
  /** valueHash of a bound metadata member: absent, and present `null`. */
  absentValueHash: ABSENT,
  nullValueHash: 'c58dcb77cee9027d1f4b3207bd876d232e61f79ee9f9dbd4e6d834778da78b16',
} as const;
