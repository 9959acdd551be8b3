import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import {
  type Challenge,
  DEFAULT_WWW_AUTHENTICATE_LIMITS,
  findChallenges,
  formatAuthParam,
  parseWwwAuthenticate,
  parseWwwAuthenticateLenient,
  quoteString,
  WwwAuthenticateParseError,
} from './www-authenticate.js';

/** The expected shape of one challenge (params compared as plain objects). */
function ch(
  scheme: string,
  params: Record<string, string>,
  raw: string,
  token68?: string,
): Challenge {
  const expected: Challenge = { scheme, schemeLower: scheme.toLowerCase(), params, raw };
  return token68 === undefined ? expected : { ...expected, token68 };
}

/** Parses strictly and returns the thrown error (fails the test when nothing is thrown). */
function parseError(
  values: string | readonly string[],
  options?: Parameters<typeof parseWwwAuthenticate>[1],
): WwwAuthenticateParseError {
  try {
    parseWwwAuthenticate(values, options);
  } catch (error) {
    expect(error).toBeInstanceOf(WwwAuthenticateParseError);
    return error as WwwAuthenticateParseError;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be rejected`);
}

// aperture's regtest challenge (lsat-js tests/data.ts, "aperture originated challenge").
const MACAROON =
  'AgEEbHNhdAJCAAAwpHpumws6ufQoDwiTLNcge0QPUIWA0+tVY+tKPYAJ/zSfmEGlIpNm3VzxuzCqLhEp5KGiyPLUM9L+kcB7uzS+AAIPc2VydmljZXM9bWVtZTowAAISbWVtZV9jYXBhYmlsaXRpZXM9AAAGILA1VCEIExukt4nG+XR9tX8WJ2BVMiHG3UNt1uYJ+NRD';
const INVOICE =
  'lnbcrt100n1p3qqkygpp5xzj85m5mpvatnapgpuyfxtxhypa5gr6sskqd8664v04550vqp8lsdq8f3f5z4qcqzpgsp5tpzvsq5pckqgln3ltpy3e9cf6tf2aj82ffa2tted77ltweuaweks9qyyssq0w5da3k40wtdukac7hp5s58hsxf8k8f52c5qneezu4xg3xh87xrnkl5jwtw098d2gjywx20nmkxl2y4vq9fr89kg5kzcwupv9xpdaggp4fc4ms';
// The same macaroon with one and two extra bytes: standard base64 with "==" / "=" padding.
const MACAROON_PAD2 = `${MACAROON}AA==`;
const MACAROON_PAD1 = `${MACAROON}AAE=`;

// mppx 0.11 output with stripe.charge and tempo.charge offered (protocols/mpp.md §1.1).
const STRIPE_REQUEST =
  'eyJhbW91bnQiOiI3NSIsImN1cnJlbmN5IjoidXNkIiwibWV0aG9kRGV0YWlscyI6eyJuZXR3b3JrSWQiOiJwcm9maWxlX3Rlc3RfMTIzIiwicGF5bWVudE1ldGhvZFR5cGVzIjpbImNhcmQiLCJsaW5rIl19fQ';
const TEMPO_REQUEST =
  'eyJhbW91bnQiOiI3NTAwMDAiLCJjdXJyZW5jeSI6IjB4MjBjMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCIsIm1ldGhvZERldGFpbHMiOnsiY2hhaW5JZCI6NDI0MzF9LCJyZWNpcGllbnQiOiIweDc0MmQzNUNjNjYzNGMwNTMyOTI1YTNiODQ0YkM5ZTc1OTVGOGZFMDAifQ';
const STRIPE_PAYMENT = `Payment id="jQa31SruV51kHC0KInQN3QKh-ItQjiiCMXzBjZCvLPo", realm="api.example.com", method="stripe", intent="charge", request="${STRIPE_REQUEST}", description="Premium API call", expires="2026-11-24T07:36:58.233Z"`;
const TEMPO_PAYMENT = `Payment id="ypDqjGvriYfdFkoHNX0gToICAv6OkREUKVSBCb11zLk", realm="api.example.com", method="tempo", intent="charge", request="${TEMPO_REQUEST}", expires="2026-11-24T07:36:58.236Z"`;

describe('parseWwwAuthenticate: single challenges', () => {
  it('parses an auth-param challenge', () => {
    expect(parseWwwAuthenticate('Basic realm="simple"')).toEqual([
      ch('Basic', { realm: 'simple' }, 'Basic realm="simple"'),
    ]);
  });

  it('parses token68 challenges, with and without "=" padding', () => {
    expect(parseWwwAuthenticate('Negotiate abc==')).toEqual([
      ch('Negotiate', {}, 'Negotiate abc==', 'abc=='),
    ]);
    expect(parseWwwAuthenticate('Bearer mF_9.B5f-4.1JqM')).toEqual([
      ch('Bearer', {}, 'Bearer mF_9.B5f-4.1JqM', 'mF_9.B5f-4.1JqM'),
    ]);
    expect(parseWwwAuthenticate('Foo a+/b~c.d-e_f=  ')).toEqual([
      ch('Foo', {}, 'Foo a+/b~c.d-e_f=', 'a+/b~c.d-e_f='),
    ]);
    // `name=` with nothing after it can only be a token68 with padding (a value is required).
    expect(parseWwwAuthenticate('Foo realm=')).toEqual([ch('Foo', {}, 'Foo realm=', 'realm=')]);
  });

  it('parses a bare scheme and keeps unknown parameters', () => {
    expect(parseWwwAuthenticate('Bearer   ')).toEqual([ch('Bearer', {}, 'Bearer')]);
    expect(parseWwwAuthenticate('Payment id="x", realm="r", foo="bar", baz=qux')).toEqual([
      ch(
        'Payment',
        { id: 'x', realm: 'r', foo: 'bar', baz: 'qux' },
        'Payment id="x", realm="r", foo="bar", baz=qux',
      ),
    ]);
  });

  it('omits token68 from challenges that have none', () => {
    const [challenge] = parseWwwAuthenticate('Basic realm="x"');
    expect(challenge).toBeDefined();
    expect('token68' in challenge!).toBe(false);
  });
});

describe('parseWwwAuthenticate: comma-folded values', () => {
  it('splits the RFC 9110 example with a token, quoted escapes and a second scheme', () => {
    const value = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"';
    expect(parseWwwAuthenticate(value)).toEqual([
      ch(
        'Newauth',
        { realm: 'apps', type: '1', title: 'Login to "apps"' },
        'Newauth realm="apps", type=1, title="Login to \\"apps\\""',
      ),
      ch('Basic', { realm: 'simple' }, 'Basic realm="simple"'),
    ]);
  });

  it('splits token68 schemes from auth-param schemes in either order', () => {
    expect(parseWwwAuthenticate('Basic realm="x", Negotiate abc==')).toEqual([
      ch('Basic', { realm: 'x' }, 'Basic realm="x"'),
      ch('Negotiate', {}, 'Negotiate abc==', 'abc=='),
    ]);
    expect(parseWwwAuthenticate('Negotiate abc==, Basic realm="x", Bearer, NTLM')).toEqual([
      ch('Negotiate', {}, 'Negotiate abc==', 'abc=='),
      ch('Basic', { realm: 'x' }, 'Basic realm="x"'),
      ch('Bearer', {}, 'Bearer'),
      ch('NTLM', {}, 'NTLM'),
    ]);
  });

  it('splits Bearer, L402 and Payment on one folded line', () => {
    const bearer = 'Bearer realm="api", error="invalid_token", error_description="expired"';
    const l402 = `L402 macaroon="${MACAROON}", invoice="${INVOICE}"`;
    const payment =
      'Payment id="x7Tg2pLqR9mKvNwY3hBcZa", realm="api.example.com", method="lightning", intent="charge", request="eyJhbW91bnQiOiIxMDAifQ"';
    expect(parseWwwAuthenticate(`${bearer}, ${l402}, ${payment}`)).toEqual([
      ch('Bearer', { realm: 'api', error: 'invalid_token', error_description: 'expired' }, bearer),
      ch('L402', { macaroon: MACAROON, invoice: INVOICE }, l402),
      ch(
        'Payment',
        {
          id: 'x7Tg2pLqR9mKvNwY3hBcZa',
          realm: 'api.example.com',
          method: 'lightning',
          intent: 'charge',
          request: 'eyJhbW91bnQiOiIxMDAifQ',
        },
        payment,
      ),
    ]);
  });

  it('splits two Payment challenges folded by mppx compose(), base64url requests intact', () => {
    const challenges = parseWwwAuthenticate(`${STRIPE_PAYMENT}, ${TEMPO_PAYMENT}`);
    expect(challenges).toEqual([
      ch(
        'Payment',
        {
          id: 'jQa31SruV51kHC0KInQN3QKh-ItQjiiCMXzBjZCvLPo',
          realm: 'api.example.com',
          method: 'stripe',
          intent: 'charge',
          request: STRIPE_REQUEST,
          description: 'Premium API call',
          expires: '2026-11-24T07:36:58.233Z',
        },
        STRIPE_PAYMENT,
      ),
      ch(
        'Payment',
        {
          id: 'ypDqjGvriYfdFkoHNX0gToICAv6OkREUKVSBCb11zLk',
          realm: 'api.example.com',
          method: 'tempo',
          intent: 'charge',
          request: TEMPO_REQUEST,
          expires: '2026-11-24T07:36:58.236Z',
        },
        TEMPO_PAYMENT,
      ),
    ]);
  });

  it('splits the same two Payment challenges with unquoted base64url requests', () => {
    const a = `Payment id=a1, method=stripe, request=${STRIPE_REQUEST}`;
    const b = `Payment id=b2, method=tempo, request=${TEMPO_REQUEST}`;
    expect(parseWwwAuthenticate(`${a},${b}`)).toEqual([
      ch('Payment', { id: 'a1', method: 'stripe', request: STRIPE_REQUEST }, a),
      ch('Payment', { id: 'b2', method: 'tempo', request: TEMPO_REQUEST }, b),
    ]);
  });

  it('reads the aperture LSAT + L402 + Payment response as Node fetch joins it', () => {
    const lsat = `LSAT macaroon="${MACAROON}", invoice="${INVOICE}"`;
    const l402 = `L402 macaroon="${MACAROON}", invoice="${INVOICE}"`;
    const payment =
      'Payment id="x", realm="r", method="lightning", intent="charge", request="eyJ9"';
    const expected = [
      ch('LSAT', { macaroon: MACAROON, invoice: INVOICE }, lsat),
      ch('L402', { macaroon: MACAROON, invoice: INVOICE }, l402),
      ch(
        'Payment',
        { id: 'x', realm: 'r', method: 'lightning', intent: 'charge', request: 'eyJ9' },
        payment,
      ),
    ];
    expect(parseWwwAuthenticate(`${lsat}, ${l402}, ${payment}`)).toEqual(expected);
    // The same response read as its raw header lines gives the same challenges.
    expect(parseWwwAuthenticate([lsat, l402, payment])).toEqual(expected);
  });

  it('keeps scheme names and separators that sit inside quoted-strings', () => {
    const value =
      'Payment id="ch_qp", realm="contact Payment support, L402 macaroon=x", description="a, b=c"';
    expect(parseWwwAuthenticate(value)).toEqual([
      ch(
        'Payment',
        { id: 'ch_qp', realm: 'contact Payment support, L402 macaroon=x', description: 'a, b=c' },
        value,
      ),
    ]);
  });
});

describe('parseWwwAuthenticate: L402 server variants', () => {
  it('accepts the missing comma of @getalby/lightning-tools makeL402AuthenticateHeader', () => {
    const value = `L402 version="0" token="${MACAROON}", invoice="${INVOICE}"`;
    expect(parseWwwAuthenticate(value)).toEqual([
      ch('L402', { version: '0', token: MACAROON, invoice: INVOICE }, value),
    ]);
  });

  it('accepts space-separated unquoted values (Fewsats) with base64 "+/=" kept whole', () => {
    const value = `L402 version=0 macaroon=${MACAROON_PAD2} invoice=${INVOICE}`;
    expect(parseWwwAuthenticate(value)).toEqual([
      ch('L402', { version: '0', macaroon: MACAROON_PAD2, invoice: INVOICE }, value),
    ]);
  });

  it('accepts the lsat-js spacing variants', () => {
    const spaceOnly = `LSAT macaroon="${MACAROON}" invoice="${INVOICE}"`;
    const noSpace = `LSAT macaroon="${MACAROON}",invoice="${INVOICE}"`;
    expect(parseWwwAuthenticate(spaceOnly)).toEqual([
      ch('LSAT', { macaroon: MACAROON, invoice: INVOICE }, spaceOnly),
    ]);
    expect(parseWwwAuthenticate(noSpace)).toEqual([
      ch('LSAT', { macaroon: MACAROON, invoice: INVOICE }, noSpace),
    ]);
  });

  it('does not split an unquoted padded macaroon at its "=" (LSAT then L402 on one line)', () => {
    const lsat = `LSAT macaroon=${MACAROON_PAD2}, invoice=${INVOICE}`;
    const l402 = `L402 macaroon=${MACAROON_PAD1}, invoice=${INVOICE}`;
    expect(parseWwwAuthenticate(`${lsat}, ${l402}`)).toEqual([
      ch('LSAT', { macaroon: MACAROON_PAD2, invoice: INVOICE }, lsat),
      ch('L402', { macaroon: MACAROON_PAD1, invoice: INVOICE }, l402),
    ]);
  });

  it('handles quoted LSAT then L402 with padded macaroons on one folded line', () => {
    const lsat = `LSAT macaroon="${MACAROON_PAD2}", invoice="${INVOICE}"`;
    const l402 = `L402 macaroon="${MACAROON_PAD2}", invoice="${INVOICE}"`;
    expect(parseWwwAuthenticate(`${lsat}, ${l402}`)).toEqual([
      ch('LSAT', { macaroon: MACAROON_PAD2, invoice: INVOICE }, lsat),
      ch('L402', { macaroon: MACAROON_PAD2, invoice: INVOICE }, l402),
    ]);
  });

  it('splits name from value at the first "=" only', () => {
    expect(parseWwwAuthenticate('L402 macaroon=AgE=invoice=x, digest=sha-256=X48E=')).toEqual([
      ch(
        'L402',
        { macaroon: 'AgE=invoice=x', digest: 'sha-256=X48E=' },
        'L402 macaroon=AgE=invoice=x, digest=sha-256=X48E=',
      ),
    ]);
  });

  it('reads a padded macaroon followed by a space-separated invoice', () => {
    expect(parseWwwAuthenticate(`L402 macaroon=${MACAROON_PAD1} invoice=lnbc1`)).toEqual([
      ch(
        'L402',
        { macaroon: MACAROON_PAD1, invoice: 'lnbc1' },
        `L402 macaroon=${MACAROON_PAD1} invoice=lnbc1`,
      ),
    ]);
  });

  it('reads the new-spec token= form next to an unknown parameter', () => {
    const value = `L402 version="0", token="${MACAROON}", invoice="${INVOICE}", address="x"`;
    expect(parseWwwAuthenticate(value)).toEqual([
      ch('L402', { version: '0', token: MACAROON, invoice: INVOICE, address: 'x' }, value),
    ]);
  });
});

describe('parseWwwAuthenticate: quoted-strings', () => {
  it('unescapes any quoted-pair and keeps empty strings', () => {
    const value = 'Foo a="say \\"hi\\"", b="C:\\\\tmp\\\\x", c="\\a\\ \\\tz", d=""';
    expect(parseWwwAuthenticate(value)).toEqual([
      ch('Foo', { a: 'say "hi"', b: 'C:\\tmp\\x', c: 'a \tz', d: '' }, value),
    ]);
  });

  it('keeps obs-text (Latin-1) characters in quoted-strings', () => {
    expect(parseWwwAuthenticate('Basic realm="caf\u00e9", charset="UTF-8"')).toEqual([
      ch(
        'Basic',
        { realm: 'caf\u00e9', charset: 'UTF-8' },
        'Basic realm="caf\u00e9", charset="UTF-8"',
      ),
    ]);
  });

  it('reads \\uXXXX as "uXXXX" by default and decodes it with decodeUnicodeEscapes (mppx)', () => {
    const value = 'Payment description="Caf\\u00e9 \\u2014 \\u12zz"';
    expect(parseWwwAuthenticate(value)[0]?.params.description).toBe('Cafu00e9 u2014 u12zz');
    expect(parseWwwAuthenticate(value, { decodeUnicodeEscapes: true })[0]?.params.description).toBe(
      'Caf\u00e9 \u2014 u12zz',
    );
  });
});

describe('parseWwwAuthenticate: case-insensitivity', () => {
  it('keeps the scheme as received, lower-cases schemeLower and parameter names', () => {
    expect(parseWwwAuthenticate('bAsIc ReAlM="X", pAyMeNt ID="Ab"')).toEqual([
      ch('bAsIc', { realm: 'X' }, 'bAsIc ReAlM="X"'),
      ch('pAyMeNt', { id: 'Ab' }, 'pAyMeNt ID="Ab"'),
    ]);
  });

  it('treats parameter names differing only in case as duplicates', () => {
    const error = parseError('Payment id="a", realm="api", ID="b"');
    expect(error.position).toBe(29);
    expect(error.message).toContain("duplicate parameter 'id' in the 'Payment' challenge");
  });

  it('filters challenges by scheme with findChallenges, case-insensitively', () => {
    const all = parseWwwAuthenticate(
      'LSAT macaroon="m", invoice="i", l402 macaroon="m", invoice="i", Payment id="x"',
    );
    expect(findChallenges(all, 'L402').map((c) => c.raw)).toEqual([
      'l402 macaroon="m", invoice="i"',
    ]);
    expect(findChallenges(all, ['lsat', 'L402']).map((c) => c.scheme)).toEqual(['LSAT', 'l402']);
    expect(findChallenges(all, 'PAYMENT').map((c) => c.params.id)).toEqual(['x']);
    expect(findChallenges(all, 'Basic')).toEqual([]);
    expect(findChallenges(all, [])).toEqual([]);
  });
});

describe('parseWwwAuthenticate: empty list elements and whitespace', () => {
  it('returns no challenges for empty or separator-only values', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('   \t ')).toEqual([]);
    expect(parseWwwAuthenticate(', ,')).toEqual([]);
    expect(parseWwwAuthenticate([])).toEqual([]);
    expect(parseWwwAuthenticate(['', ' , '])).toEqual([]);
  });

  it('skips empty list elements between, before and after challenges', () => {
    expect(parseWwwAuthenticate(', , Basic realm="x" , , Bearer ,')).toEqual([
      ch('Basic', { realm: 'x' }, 'Basic realm="x"'),
      ch('Bearer', {}, 'Bearer'),
    ]);
    expect(parseWwwAuthenticate('Foo a=1,,, b=2 ,, ,Bar')).toEqual([
      ch('Foo', { a: '1', b: '2' }, 'Foo a=1,,, b=2'),
      ch('Bar', {}, 'Bar'),
    ]);
  });

  it('allows whitespace around "=" (BWS), tabs and runs of spaces', () => {
    expect(parseWwwAuthenticate('Foo   a = "x" ,b= y ,\tc =z')).toEqual([
      ch('Foo', { a: 'x', b: 'y', c: 'z' }, 'Foo   a = "x" ,b= y ,\tc =z'),
    ]);
    expect(parseWwwAuthenticate('Foo\ta=b')).toEqual([ch('Foo', { a: 'b' }, 'Foo\ta=b')]);
    const spaced =
      'Payment  id="ch_ws" ,  realm="api.example.com" ,  method="tempo" ,  intent="charge" ,  request="e30"';
    expect(parseWwwAuthenticate(`  ${spaced}  `)).toEqual([
      ch(
        'Payment',
        {
          id: 'ch_ws',
          realm: 'api.example.com',
          method: 'tempo',
          intent: 'charge',
          request: 'e30',
        },
        spaced,
      ),
    ]);
  });

  it('parses several header lines, each possibly holding several challenges', () => {
    expect(parseWwwAuthenticate(['Basic realm="a", Negotiate', '', '  Bearer x=1  '])).toEqual([
      ch('Basic', { realm: 'a' }, 'Basic realm="a"'),
      ch('Negotiate', {}, 'Negotiate'),
      ch('Bearer', { x: '1' }, 'Bearer x=1'),
    ]);
  });
});

describe('parseWwwAuthenticate: malformed input', () => {
  const cases: Array<[string, string, number, string]> = [
    ['unterminated quoted-string', 'Foo a="x', 6, 'unterminated quoted-string'],
    ['quoted-string ending in a backslash', 'Foo a="x\\', 6, 'ends with a backslash'],
    ['"=" instead of a name', 'Foo =x', 4, "expected a parameter name in the 'Foo' challenge"],
    ['"=" starting a value', 'Foo a==b', 6, "unexpected '=' at the start of the value of 'a'"],
    ['"=" instead of a scheme', '=Foo', 0, "expected an auth-scheme but found '='"],
    ['a parameter instead of a scheme', 'Foo=bar', 3, "found the parameter 'Foo='"],
    ['a parameter after a token68', 'Foo abc, realm="x"', 14, "found the parameter 'realm='"],
    ['"name=," is a token68, so the next param is stray', 'Foo a=, b=1', 9, "'b='"],
    ['a missing value', 'Foo a=1, b=', 11, "missing value for the parameter 'b'"],
    [
      'a missing value before a comma',
      'Foo a=1, b= , c=2',
      12,
      "missing value for the parameter 'b'",
    ],
    ['a name without "="', 'Foo a b', 6, "expected '=' after the parameter name 'a'"],
    ['no separator after a quoted value', 'Foo a="x"b="y"', 9, "expected ',' or another"],
    ['a quote inside an unquoted value', 'Foo a=b"c"', 7, `'"' inside the unquoted value of 'a'`],
    ['a backslash outside quotes', 'Foo a=b\\c', 7, "'\\' inside the unquoted value"],
    ['a missing comma between challenges', 'Foo a="1" Bar b="2"', 10, 'separated by commas'],
    ['no space after the scheme', 'Basic"x"', 5, "expected a space after the auth-scheme 'Basic'"],
    ['a quoted-string instead of a scheme', 'Basic realm="x", "y"', 17, "found '\"'"],
    ['LF inside a quoted-string', 'Foo a="x\ny"', 8, 'control character U+000A in a quoted-string'],
    ['NUL inside a quoted-string', 'Foo a="x\u0000"', 8, 'control character U+0000'],
    ['DEL inside a quoted-string', 'Foo a="\u007f"', 7, 'control character U+007F'],
    ['a control character after a backslash', 'Foo a="\\\r"', 8, "U+000D after '\\'"],
    ['CR LF between challenges', 'Foo a=1\r\n, Bar', 7, 'control character U+000D'],
    ['LF after a scheme', 'Foo\nBar', 3, 'control character U+000A'],
    ['non-ASCII in an unquoted value', 'Foo a=caf\u00e9', 9, 'non-ASCII character U+00E9'],
    ['non-ASCII scheme', '\u00c9 a=b', 0, 'non-ASCII character U+00C9'],
  ];
  it.each(cases)('rejects %s', (_label, value, position, fragment) => {
    const error = parseError(value);
    expect(error.position).toBe(position);
    expect(error.lineIndex).toBe(0);
    expect(error.message).toContain(fragment);
    expect(error.message).toContain(`at position ${position}:`);
  });

  it('rejects the conformance vector with unescaped quotes in description', () => {
    // tempoxyz/mpp-tools vector `unescaped_quotes_in_description` expects a truncating parse;
    // a stray quote makes everything after it ambiguous, so Stipend refuses the challenge.
    const value =
      'Payment id="ch_special", realm="api.example.com", method="tempo", intent="charge", request="eyJhbW91bnQiOiIxMDAifQ", description="Payment for "Premium" service — 50% off!"';
    const error = parseError(value);
    expect(error.position).toBe(value.indexOf('Premium'));
    expect(error.message).toContain("after the value of 'description'");
  });

  it('rejects an unterminated quoted-string of 12 000 backslashes', () => {
    const value = `Payment id="ch_redos", realm="api.example.com", fuzz="${'\\'.repeat(12_000)}`;
    expect(parseError(value).position).toBe(value.indexOf('fuzz="') + 5);
  });

  it('reports the header line of an error found in a list of lines', () => {
    const error = parseError(['Basic realm="x"', 'Foo a=1, a=2']);
    expect(error.lineIndex).toBe(1);
    expect(error.position).toBe(9);
    expect(error.message).toBe(
      "Invalid WWW-Authenticate at position 9 of header line 2: duplicate parameter 'a' in the " +
        "'Foo' challenge (parameter names are case-insensitive and may appear once per challenge).",
    );
  });

  it('throws an Error subclass with a stable code', () => {
    const error = parseError('Foo a="x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('WwwAuthenticateParseError');
    expect(error.code).toBe('CHALLENGE_INVALID');
  });

  it('a parse error is a Stipend error: isStipendError, code, details and toJSON', () => {
    const error = parseError(['Basic', 'Foo a=1, a=2']);
    expect(isStipendError(error)).toBe(true);
    expect(error.shortMessage).toBe(error.message);
    expect(error.details).toEqual({ position: 9, lineIndex: 1 });
    expect(error.toJSON()).toMatchObject({
      name: 'WwwAuthenticateParseError',
      code: 'CHALLENGE_INVALID',
      details: { position: 9, lineIndex: 1 },
    });
  });

  it('rejects arguments that are not header strings and invalid options', () => {
    expect(() => parseWwwAuthenticate(42 as unknown as string)).toThrow(TypeError);
    expect(() => parseWwwAuthenticate(['a', null] as unknown as string[])).toThrow(TypeError);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => parseWwwAuthenticate('Basic', { maxLength: bad })).toThrow(RangeError);
      expect(() => parseWwwAuthenticate('Basic', { maxChallenges: bad })).toThrow(RangeError);
      expect(() => parseWwwAuthenticate('Basic', { maxParams: bad })).toThrow(RangeError);
    }
  });
});

describe('parseWwwAuthenticate: caps', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_WWW_AUTHENTICATE_LIMITS).toEqual({
      maxLength: 16_384,
      maxChallenges: 32,
      maxParams: 64,
    });
  });

  it('accepts exactly maxLength characters and rejects one more', () => {
    const fits = `Foo a="${'x'.repeat(16_384 - 8)}"`;
    expect(fits.length).toBe(16_384);
    expect(parseWwwAuthenticate(fits)[0]?.params.a?.length).toBe(16_376);
    const error = parseError(`${fits} `);
    expect(error.position).toBe(16_384);
    expect(error.message).toContain('longer than 16384 characters');
    expect(parseError('Basic realm="x"', { maxLength: 10 }).position).toBe(10);
  });

  it('counts maxLength over all lines and reports the line where it is crossed', () => {
    const error = parseError(['Basic realm="x"', 'Bearer'], { maxLength: 20 });
    expect(error.lineIndex).toBe(1);
    expect(error.position).toBe(5);
    expect(parseWwwAuthenticate(['Basic realm="x"', 'Bear'], { maxLength: 19 })).toHaveLength(2);
  });

  it('accepts maxChallenges challenges and rejects one more, across lines', () => {
    expect(parseWwwAuthenticate(Array(32).fill('A').join(', '))).toHaveLength(32);
    const error = parseError(Array(33).fill('A').join(', '));
    expect(error.position).toBe(32 * 3);
    expect(error.message).toContain('more than 32 challenges');
    expect(parseError(['A, B', 'C'], { maxChallenges: 2 }).lineIndex).toBe(1);
  });

  it('accepts maxParams parameters per challenge and rejects one more', () => {
    const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join(', ');
    expect(Object.keys(parseWwwAuthenticate(`Foo ${params(64)}`)[0]!.params)).toHaveLength(64);
    const error = parseError(`Foo ${params(65)}`);
    expect(error.position).toBe(`Foo ${params(64)}, `.length);
    expect(error.message).toContain("more than 64 parameters in the 'Foo' challenge");
    // The cap is per challenge, not per header.
    expect(parseWwwAuthenticate(`A ${params(2)}, B ${params(2)}`, { maxParams: 2 })).toHaveLength(
      2,
    );
  });
});

describe('parseWwwAuthenticateLenient', () => {
  it('skips a malformed challenge and keeps the others', () => {
    const result = parseWwwAuthenticateLenient(
      'Bearer realm="a", Foo a=1, A=2, Payment id="x", realm="r"',
    );
    expect(result.challenges).toEqual([
      ch('Bearer', { realm: 'a' }, 'Bearer realm="a"'),
      ch('Payment', { id: 'x', realm: 'r' }, 'Payment id="x", realm="r"'),
    ]);
    expect(result.errors.map((e) => [e.position, e.code])).toEqual([[27, 'CHALLENGE_INVALID']]);
  });

  it('skips the remaining parameters and quoted commas of the bad challenge', () => {
    const result = parseWwwAuthenticateLenient('Foo a b, c=d, e="x, Bar y", Baz, Qux q=1');
    expect(result.challenges).toEqual([ch('Baz', {}, 'Baz'), ch('Qux', { q: '1' }, 'Qux q=1')]);
    expect(result.errors.map((e) => e.position)).toEqual([6]);
  });

  it('resumes after the quoted-string that held a control character', () => {
    const result = parseWwwAuthenticateLenient('Foo a="x\n, Bar b=c", Baz c=d');
    expect(result.challenges).toEqual([ch('Baz', { c: 'd' }, 'Baz c=d')]);
    expect(result.errors.map((e) => e.position)).toEqual([8]);
  });

  it('treats a stray quote as opening a quoted-string when resynchronising', () => {
    const result = parseWwwAuthenticateLenient('Foo a=b"c, Bar x=1", L402 macaroon="m"');
    expect(result.challenges).toEqual([ch('L402', { macaroon: 'm' }, 'L402 macaroon="m"')]);
    expect(result.errors).toHaveLength(1);
  });

  it('loses the rest of a line after an unterminated quote, but not the other lines', () => {
    const result = parseWwwAuthenticateLenient([
      'Basic realm="ok", Foo a="x, Bar b=c',
      'L402 macaroon="m", invoice="i"',
    ]);
    expect(result.challenges).toEqual([
      ch('Basic', { realm: 'ok' }, 'Basic realm="ok"'),
      ch('L402', { macaroon: 'm', invoice: 'i' }, 'L402 macaroon="m", invoice="i"'),
    ]);
    expect(result.errors.map((e) => [e.lineIndex, e.position])).toEqual([[0, 24]]);
  });

  it('drops a challenge whose successor lacks the separating comma', () => {
    const result = parseWwwAuthenticateLenient('L402 macaroon="m" LSAT macaroon="m", Bearer');
    expect(result.challenges).toEqual([ch('Bearer', {}, 'Bearer')]);
    expect(result.errors.map((e) => e.position)).toEqual([18]);
  });

  it('reports garbage list elements without losing the challenges around them', () => {
    const result = parseWwwAuthenticateLenient('Basic realm="x", "junk", =, Bearer');
    expect(result.challenges.map((c) => c.raw)).toEqual(['Basic realm="x"', 'Bearer']);
    expect(result.errors.map((e) => e.position)).toEqual([17]);
  });

  it('skips a challenge over maxParams and keeps the next one', () => {
    const result = parseWwwAuthenticateLenient('A a=1, b=2, c=3, B d=4', { maxParams: 2 });
    expect(result.challenges).toEqual([ch('B', { d: '4' }, 'B d=4')]);
    expect(result.errors.map((e) => e.position)).toEqual([12]);
  });

  it('stops at maxChallenges and at maxLength', () => {
    const many = parseWwwAuthenticateLenient(['A, B', 'C, D'], { maxChallenges: 3 });
    expect(many.challenges.map((c) => c.scheme)).toEqual(['A', 'B', 'C']);
    expect(many.errors.map((e) => [e.lineIndex, e.position])).toEqual([[1, 3]]);
    const long = parseWwwAuthenticateLenient('Basic realm="x"', { maxLength: 5 });
    expect(long.challenges).toEqual([]);
    expect(long.errors.map((e) => e.position)).toEqual([5]);
  });

  it('equals the strict parse when the value is well-formed', () => {
    const value = `${STRIPE_PAYMENT}, ${TEMPO_PAYMENT}, Negotiate abc==`;
    expect(parseWwwAuthenticateLenient(value)).toEqual({
      challenges: parseWwwAuthenticate(value),
      errors: [],
    });
  });
});

describe('parseWwwAuthenticate: output shape', () => {
  it('returns frozen challenges with frozen null-prototype params', () => {
    const [challenge] = parseWwwAuthenticate('Foo a=1, __proto__=2, constructor=3');
    expect(Object.isFrozen(challenge)).toBe(true);
    expect(Object.isFrozen(challenge!.params)).toBe(true);
    expect(Object.getPrototypeOf(challenge!.params)).toBe(null);
    expect(Object.keys(challenge!.params)).toEqual(['a', '__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(challenge!.params, '__proto__')?.value).toBe('2');
    expect(challenge!.params.constructor).toBe('3');
    const [other] = parseWwwAuthenticate('Foo a=1');
    expect(other!.params.constructor).toBeUndefined();
    expect('toString' in other!.params).toBe(false);
  });

  it('gives each challenge its exact trimmed source text', () => {
    const value = ' ,Basic  realm = "x" ,, Negotiate abc==  , L402 a=b c="d"  ';
    expect(parseWwwAuthenticate(value).map((c) => c.raw)).toEqual([
      'Basic  realm = "x"',
      'Negotiate abc==',
      'L402 a=b c="d"',
    ]);
  });
});

describe('quoteString and formatAuthParam', () => {
  it('quotes and escapes', () => {
    expect(quoteString('')).toBe('""');
    expect(quoteString('plain')).toBe('"plain"');
    expect(quoteString('say "hi" \\o/')).toBe('"say \\"hi\\" \\\\o/"');
    expect(quoteString('tab\there caf\u00e9')).toBe('"tab\there caf\u00e9"');
    expect(formatAuthParam('realm', 'api "v2"')).toBe('realm="api \\"v2\\""');
    expect(formatAuthParam('Error_Description', '')).toBe('Error_Description=""');
  });

  it('refuses characters a header cannot carry', () => {
    for (const bad of ['a\r\nSet-Cookie: x', 'a\nb', '\u0000', '\u007f', '\u20ac', '\u{1f600}']) {
      expect(() => quoteString(bad)).toThrow(TypeError);
    }
    expect(() => quoteString('x\ny')).toThrow(/control character U\+000A \(index 1\)/);
  });

  it('refuses parameter names that are not tokens', () => {
    for (const bad of ['', 'a b', 'a=b', 'a,b', 'caf\u00e9', '"a"']) {
      expect(() => formatAuthParam(bad, 'v')).toThrow(TypeError);
    }
  });

  it('round-trips through the parser', () => {
    const values = ['', 'a', '"', '\\', '\\"', 'a, Basic realm="x"', ' x ', '=', 'caf\u00e9\t'];
    for (const value of values) {
      const header = `Foo ${formatAuthParam('v', value)}, ${formatAuthParam('W', value)}`;
      expect(parseWwwAuthenticate(header)).toEqual([ch('Foo', { v: value, w: value }, header)]);
    }
  });
});
