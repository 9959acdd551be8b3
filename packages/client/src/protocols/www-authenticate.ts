/**
 * RFC 9110 §11.6.1 `WWW-Authenticate` challenge parsing, shared by the L402 and MPP adapters.
 *
 * Grammar (with the leniency real L402 servers need):
 *
 * ```text
 * WWW-Authenticate = #challenge
 * challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * auth-param       = token BWS "=" BWS ( token / quoted-string )
 * token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * ```
 *
 * - A comma-folded value (Node's `fetch` joins repeated lines with ", ") is split into
 *   challenges: after a comma, a token followed by optional whitespace and `=` continues the
 *   current challenge as a parameter; any other token starts a new challenge.
 * - Lenient, for deployed L402 servers: parameters may be separated by whitespace alone
 *   (`L402 version="0" token="…", invoice="…"`), and unquoted values may hold any visible
 *   character except `"`, `,` and `\` (base64 `+/=`), so `macaroon=AgEE…==` keeps its padding:
 *   the first `=` after a name splits name from value.
 * - Strict where it matters: duplicate parameters, unterminated quoted-strings, stray `=` or
 *   `"`, control characters and a missing comma between challenges are errors.
 * - Bounded: one pass with constant lookahead per character (no regular expressions), and caps
 *   on total length, challenge count and parameters per challenge.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import { hexDigitValue } from '../internal/codec.js';

/** The caps applied when a caller does not pass its own. */
export const DEFAULT_WWW_AUTHENTICATE_LIMITS: Readonly<{
  maxLength: number;
  maxChallenges: number;
  maxParams: number;
}> = Object.freeze({ maxLength: 16 * 1024, maxChallenges: 32, maxParams: 64 });

/** Options of {@link parseWwwAuthenticate} and {@link parseWwwAuthenticateLenient}. */
export interface WwwAuthenticateParseOptions {
  /** Most characters accepted, summed over all header lines. Default 16384 (16 KiB). */
  maxLength?: number;
  /**
   * Most challenges accepted, over all header lines. Default 32. Every challenge started
   * counts, including ones the lenient parser skips.
   */
  maxChallenges?: number;
  /** Most parameters accepted in one challenge. Default 64. */
  maxParams?: number;
  /**
   * Decode mppx's `\uXXXX` escape (exactly four hex digits) inside quoted-strings into the
   * UTF-16 code unit it names, as mppx does for characters above Latin-1. Off by default: in
   * RFC 9110 a backslash quotes the next character only, so `"\u00e9"` is `u00e9`.
   */
  decodeUnicodeEscapes?: boolean;
}

/** One challenge from a `WWW-Authenticate` field. Objects returned by the parser are frozen. */
export interface Challenge {
  /** The auth-scheme exactly as received, e.g. `LSAT`, `L402`, `Payment`, `bearer`. */
  readonly scheme: string;
  /** `scheme` in lower case, for comparisons (schemes are case-insensitive). */
  readonly schemeLower: string;
  /** The token68 form (e.g. `Negotiate abc==`), when the challenge carries one. */
  readonly token68?: string;
  /**
   * The auth-params: names lower-cased, quoted-string values unescaped. Empty for a token68
   * or a bare-scheme challenge. A null-prototype object, so `params.constructor` is undefined.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The exact source text of this challenge, from its scheme to its last value. */
  readonly raw: string;
}

/** The outcome of {@link parseWwwAuthenticateLenient}. */
export interface LenientParseResult {
  /** The challenges that parsed, in header order. */
  challenges: Challenge[];
  /** One error per challenge (or unreadable stretch) that was skipped, in header order. */
  errors: WwwAuthenticateParseError[];
}

/**
 * A `WWW-Authenticate` value that is malformed or exceeds a cap (code `CHALLENGE_INVALID`).
 * `position` is the offset in the header line (`lineIndex`, 0 when a single value was given)
 * where the problem was found; both are also in `details`. The message describes characters
 * by class (never quotes header content).
 *
 * @example
 * ```ts
 * import { isStipendError, parseWwwAuthenticate } from '@stipend/client';
 *
 * try {
 *   parseWwwAuthenticate(header);
 * } catch (error) {
 *   if (isStipendError(error) && error.code === 'CHALLENGE_INVALID') console.warn(error.shortMessage);
 * }
 * ```
 */
export class WwwAuthenticateParseError extends StipendError {
  override name = 'WwwAuthenticateParseError';
  /** Stable code callers can switch on. */
  declare readonly code: 'CHALLENGE_INVALID';
  /** Offset of the problem in its header line (UTF-16 code units). */
  readonly position: number;
  /** Index of the header line the problem is in (0 when one value was given). */
  readonly lineIndex: number;

  constructor(message: string, position: number, lineIndex = 0) {
    super('CHALLENGE_INVALID', message, { details: { position, lineIndex } });
    this.position = position;
    this.lineIndex = lineIndex;
  }
}

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only; every other character is none of these).

const TCHAR = 1; // RFC 9110 token characters
const T68 = 2; // token68 body characters (without the trailing "=" padding)
const BARE = 4; // characters of a lenient unquoted value: VCHAR except DQUOTE, "," and "\"

const CLASS = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) CLASS[c] = BARE;
for (const ch of '",\\') CLASS[ch.charCodeAt(0)] = 0;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
for (const ch of ALNUM + "!#$%&'*+-.^_`|~") CLASS[ch.charCodeAt(0)]! |= TCHAR;
for (const ch of ALNUM + '-._~+/') CLASS[ch.charCodeAt(0)]! |= T68;

const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;
const COMMA = 0x2c;
const EQ = 0x3d;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

function has(c: number, flag: number): boolean {
  return c < 128 && ((CLASS[c] ?? 0) & flag) !== 0;
}

function isWs(c: number): boolean {
  return c === SP || c === HTAB;
}

function isCtl(c: number): boolean {
  return (c < 0x20 && c !== HTAB) || c === 0x7f;
}

function codePointLabel(c: number): string {
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Describes the character at `i` for an error message, without quoting header content. */
function describeAt(s: string, i: number): string {
  if (i >= s.length) return 'the end of the value';
  const c = s.charCodeAt(i);
  if (c === SP) return 'a space';
  if (c === HTAB) return 'a tab';
  if (isCtl(c)) return `control character ${codePointLabel(c)}`;
  if (c > 0x7e) return `non-ASCII character ${codePointLabel(c)}`;
  return `'${s[i]}'`;
}

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

// How the lenient parser may resume after an error.
const RESUME_OUTSIDE = 0; // at resumeAt, outside any quoted-string
const RESUME_IN_QUOTE = 1; // at resumeAt, inside a quoted-string
const RESUME_LOST = 2; // the rest of the line cannot be read unambiguously

interface Limits {
  maxLength: number;
  maxChallenges: number;
  maxParams: number;
  decodeUnicodeEscapes: boolean;
}

/** Work shared by all lines of one call. `steps` counts loop iterations (for tests). */
interface Tally {
  challenges: number;
  steps: number;
}

/** Parses the challenges of one header line; each public entry point drives it. */
class LineParser {
  private pos = 0;
  private readonly n: number;
  private resumeAt = 0;
  private resumeMode = RESUME_OUTSIDE;
  /** Set when the error must stop the whole parse (a cap), not just skip a challenge. */
  fatal = false;

  constructor(
    private readonly s: string,
    private readonly lineIndex: number,
    private readonly multiline: boolean,
    private readonly limits: Limits,
    private readonly tally: Tally,
  ) {
    this.n = s.length;
  }

  /** Strict: appends every challenge of the line to `out`, throws on the first problem. */
  parseStrict(out: Challenge[]): void {
    while (this.skipSeparators()) out.push(this.parseChallenge());
  }

  /** Lenient: skips a bad challenge and resumes at the next challenge start when possible. */
  parseLenient(out: Challenge[], errors: WwwAuthenticateParseError[]): void {
    while (this.skipSeparators()) {
      try {
        out.push(this.parseChallenge());
      } catch (error) {
        if (!(error instanceof WwwAuthenticateParseError)) throw error;
        errors.push(error);
        if (this.fatal || !this.resync()) return;
      }
    }
  }

  private code(i: number): number {
    return this.s.charCodeAt(i);
  }

  private fail(
    position: number,
    problem: string,
    resumeMode = RESUME_OUTSIDE,
    resumeAt = position,
  ): never {
    this.resumeMode = resumeMode;
    this.resumeAt = resumeAt;
    const where = this.multiline
      ? `at position ${position} of header line ${this.lineIndex + 1}`
      : `at position ${position}`;
    throw new WwwAuthenticateParseError(
      `Invalid WWW-Authenticate ${where}: ${problem}.`,
      position,
      this.lineIndex,
    );
  }

  /** Skips spaces, tabs and commas (empty list elements). Returns false at the end. */
  private skipSeparators(): boolean {
    while (this.pos < this.n) {
      this.tally.steps++;
      const c = this.code(this.pos);
      if (!isWs(c) && c !== COMMA) return true;
      this.pos++;
    }
    return false;
  }

  private skipWs(): void {
    while (this.pos < this.n && isWs(this.code(this.pos))) {
      this.tally.steps++;
      this.pos++;
    }
  }

  /** Index just past the token starting at `i` (equal to `i` when there is none). */
  private tokenEnd(i: number): number {
    while (i < this.n && has(this.code(i), TCHAR)) {
      this.tally.steps++;
      i++;
    }
    return i;
  }

  /** True when `name BWS "="` starts at `i`: the next auth-param, not a new challenge. */
  private paramStartsAt(i: number): boolean {
    let j = this.tokenEnd(i);
    if (j === i) return false;
    while (j < this.n && isWs(this.code(j))) {
      this.tally.steps++;
      j++;
    }
    return this.code(j) === EQ;
  }

  /** End of a token68 at `i` when only whitespace then a comma or the end follow it, else -1. */
  private token68EndAt(i: number): number {
    let j = i;
    while (j < this.n && has(this.code(j), T68)) {
      this.tally.steps++;
      j++;
    }
    if (j === i) return -1;
    while (j < this.n && this.code(j) === EQ) {
      this.tally.steps++;
      j++;
    }
    let k = j;
    while (k < this.n && isWs(this.code(k))) {
      this.tally.steps++;
      k++;
    }
    return k === this.n || this.code(k) === COMMA ? j : -1;
  }

  private parseChallenge(): Challenge {
    const start = this.pos;
    this.tally.challenges++;
    if (this.tally.challenges > this.limits.maxChallenges) {
      this.fatal = true;
      this.fail(
        start,
        `more than ${this.limits.maxChallenges} challenges (raise the maxChallenges option to accept more)`,
        RESUME_LOST,
      );
    }
    if (!has(this.code(start), TCHAR)) {
      this.fail(start, `expected an auth-scheme but found ${describeAt(this.s, start)}`);
    }
    this.pos = this.tokenEnd(start);
    const scheme = this.s.slice(start, this.pos);
    const schemeEnd = this.pos;
    this.skipWs();
    if (this.pos === this.n || this.code(this.pos) === COMMA) {
      return makeChallenge(scheme, undefined, EMPTY_PARAMS, this.s.slice(start, schemeEnd));
    }
    if (this.pos === schemeEnd) {
      if (this.code(this.pos) === EQ) {
        this.fail(
          this.pos,
          `found the parameter '${scheme}=' where an auth-scheme was expected ` +
            '(a parameter cannot follow a token68 or start a header line)',
        );
      }
      this.fail(
        this.pos,
        `expected a space after the auth-scheme '${scheme}' but found ${describeAt(this.s, this.pos)}`,
      );
    }
    const t68End = this.token68EndAt(this.pos);
    if (t68End >= 0) {
      const token68 = this.s.slice(this.pos, t68End);
      this.pos = t68End;
      return makeChallenge(scheme, token68, EMPTY_PARAMS, this.s.slice(start, t68End));
    }
    return this.parseParams(scheme, start);
  }

  /** Parses the auth-params of the challenge `scheme`; `pos` is at the first name. */
  private parseParams(scheme: string, start: number): Challenge {
    const params: Record<string, string> = Object.create(null);
    let count = 0;
    let end = start;
    for (;;) {
      const nameStart = this.pos;
      if (!has(this.code(nameStart), TCHAR)) {
        this.fail(
          nameStart,
          `expected a parameter name in the '${scheme}' challenge but found ${describeAt(this.s, nameStart)}`,
        );
      }
      this.pos = this.tokenEnd(nameStart);
      const name = this.s.slice(nameStart, this.pos);
      this.skipWs();
      if (this.code(this.pos) !== EQ) {
        this.fail(
          this.pos,
          `expected '=' after the parameter name '${name}' in the '${scheme}' challenge ` +
            `but found ${describeAt(this.s, this.pos)}`,
        );
      }
      this.pos++;
      this.skipWs();
      const value = this.readValue(scheme, name);
      const key = name.toLowerCase();
      if (key in params) {
        this.fail(
          nameStart,
          `duplicate parameter '${key}' in the '${scheme}' challenge ` +
            '(parameter names are case-insensitive and may appear once per challenge)',
        );
      }
      count++;
      if (count > this.limits.maxParams) {
        this.fail(
          nameStart,
          `more than ${this.limits.maxParams} parameters in the '${scheme}' challenge ` +
            '(raise the maxParams option to accept more)',
        );
      }
      params[key] = value;
      end = this.pos;

      const valueEnd = this.pos;
      this.skipWs();
      if (this.pos === this.n) break;
      if (this.code(this.pos) === COMMA) {
        let next = this.pos;
        while (next < this.n && (isWs(this.code(next)) || this.code(next) === COMMA)) {
          this.tally.steps++;
          next++;
        }
        if (next === this.n) {
          this.pos = next;
          break;
        }
        if (this.paramStartsAt(next)) {
          this.pos = next;
          continue;
        }
        break; // the next list element is another challenge; pos stays at the comma
      }
      // Deployed L402 servers omit the comma between parameters; accept whitespace alone.
      if (this.pos > valueEnd && this.paramStartsAt(this.pos)) continue;
      this.fail(
        this.pos,
        `expected ',' or another name=value parameter after the value of '${name}' in the ` +
          `'${scheme}' challenge but found ${describeAt(this.s, this.pos)} ` +
          '(challenges must be separated by commas)',
      );
    }
    return makeChallenge(scheme, undefined, Object.freeze(params), this.s.slice(start, end));
  }

  /** Reads a value after `name =`: a quoted-string, or a lenient unquoted run. */
  private readValue(scheme: string, name: string): string {
    const start = this.pos;
    const c = this.code(start);
    if (start === this.n || c === COMMA) {
      this.fail(start, `missing value for the parameter '${name}' in the '${scheme}' challenge`);
    }
    if (c === DQUOTE) return this.readQuoted();
    if (c === EQ) {
      this.fail(start, `unexpected '=' at the start of the value of '${name}' in '${scheme}'`);
    }
    if (!has(c, BARE)) {
      this.fail(
        start,
        `${describeAt(this.s, start)} at the start of the value of '${name}' in '${scheme}'`,
      );
    }
    let i = start;
    while (i < this.n && has(this.code(i), BARE)) {
      this.tally.steps++;
      i++;
    }
    this.pos = i;
    if (i < this.n && !isWs(this.code(i)) && this.code(i) !== COMMA) {
      this.fail(
        i,
        `${describeAt(this.s, i)} inside the unquoted value of '${name}' in '${scheme}' ` +
          '(such a value must be a quoted-string)',
      );
    }
    return this.s.slice(start, i);
  }

  /** Reads the quoted-string at `pos` (on its opening quote) and returns it unescaped. */
  private readQuoted(): string {
    const open = this.pos;
    let i = open + 1;
    let segment = i;
    let out = '';
    for (;;) {
      this.tally.steps++;
      if (i >= this.n) {
        this.fail(open, "unterminated quoted-string (no closing '\"')", RESUME_LOST);
      }
      const c = this.code(i);
      if (c === DQUOTE) {
        this.pos = i + 1;
        return out + this.s.slice(segment, i);
      }
      if (c === BACKSLASH) {
        out += this.s.slice(segment, i);
        if (i + 1 >= this.n) {
          this.fail(open, 'unterminated quoted-string (it ends with a backslash)', RESUME_LOST);
        }
        const e = this.code(i + 1);
        if (isCtl(e)) {
          this.fail(
            i + 1,
            `control character ${codePointLabel(e)} after '\\' in a quoted-string`,
            RESUME_IN_QUOTE,
            i + 2,
          );
        }
        const unicode = e === LOWER_U && this.limits.decodeUnicodeEscapes ? this.hex4(i + 2) : -1;
        if (unicode >= 0) {
          out += String.fromCharCode(unicode);
          i += 6;
        } else {
          out += this.s[i + 1];
          i += 2;
        }
        segment = i;
        continue;
      }
      if (isCtl(c)) {
        this.fail(
          i,
          `control character ${codePointLabel(c)} in a quoted-string`,
          RESUME_IN_QUOTE,
          i + 1,
        );
      }
      i++;
    }
  }

  /** The value of four hex digits at `i`, or -1. */
  private hex4(i: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const d = hexDigitValue(this.code(i + k));
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  /** Index just past the closing quote of a quoted-string whose body starts at `i`, or -1. */
  private quotedEnd(i: number): number {
    while (i < this.n) {
      this.tally.steps++;
      const c = this.code(i);
      if (c === DQUOTE) return i + 1;
      i += c === BACKSLASH ? 2 : 1;
    }
    return -1;
  }

  /**
   * After an error, moves to the next challenge start: a token that follows a comma outside
   * quoted-strings and is not followed by `=`. Returns false when the rest of the line cannot
   * be read (an unterminated quoted-string) or holds no further challenge.
   */
  private resync(): boolean {
    let p = this.resumeAt;
    if (this.resumeMode === RESUME_LOST) return this.giveUp();
    if (this.resumeMode === RESUME_IN_QUOTE) {
      p = this.quotedEnd(p);
      if (p < 0) return this.giveUp();
    }
    while (p < this.n) {
      this.tally.steps++;
      const c = this.code(p);
      if (c === DQUOTE) {
        p = this.quotedEnd(p + 1);
        if (p < 0) return this.giveUp();
      } else if (c === COMMA) {
        let q = p + 1;
        while (q < this.n && (isWs(this.code(q)) || this.code(q) === COMMA)) {
          this.tally.steps++;
          q++;
        }
        if (q < this.n && has(this.code(q), TCHAR) && !this.paramStartsAt(q)) {
          this.pos = q;
          return true;
        }
        p = q;
      } else {
        p++;
      }
    }
    return this.giveUp();
  }

  private giveUp(): false {
    this.pos = this.n;
    return false;
  }
}

function makeChallenge(
  scheme: string,
  token68: string | undefined,
  params: Readonly<Record<string, string>>,
  raw: string,
): Challenge {
  const challenge: Challenge =
    token68 === undefined
      ? { scheme, schemeLower: scheme.toLowerCase(), params, raw }
      : { scheme, schemeLower: scheme.toLowerCase(), token68, params, raw };
  return Object.freeze(challenge);
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function resolveLimits(options: WwwAuthenticateParseOptions | undefined): Limits {
  const d = DEFAULT_WWW_AUTHENTICATE_LIMITS;
  return {
    maxLength: positiveInteger('maxLength', options?.maxLength, d.maxLength),
    maxChallenges: positiveInteger('maxChallenges', options?.maxChallenges, d.maxChallenges),
    maxParams: positiveInteger('maxParams', options?.maxParams, d.maxParams),
    decodeUnicodeEscapes: options?.decodeUnicodeEscapes === true,
  };
}

function toLines(values: string | readonly string[]): readonly string[] {
  if (typeof values === 'string') return [values];
  if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
    throw new TypeError(
      'parseWwwAuthenticate expects a header value string or an array of header line strings',
    );
  }
  return values;
}

/** The error for input longer than `maxLength`, located at the first character past the cap. */
function lengthError(
  lines: readonly string[],
  maxLength: number,
): WwwAuthenticateParseError | null {
  let total = 0;
  for (const [index, line] of lines.entries()) {
    if (total + line.length > maxLength) {
      const position = maxLength - total;
      const where =
        lines.length > 1
          ? `at position ${position} of header line ${index + 1}`
          : `at position ${position}`;
      return new WwwAuthenticateParseError(
        `Invalid WWW-Authenticate ${where}: the header is longer than ${maxLength} characters ` +
          '(raise the maxLength option to accept more)',
        position,
        index,
      );
    }
    total += line.length;
  }
  return null;
}

interface RunResult extends LenientParseResult {
  steps: number;
}

function run(
  values: string | readonly string[],
  options: WwwAuthenticateParseOptions | undefined,
  lenient: boolean,
): RunResult {
  const lines = toLines(values);
  const limits = resolveLimits(options);
  const challenges: Challenge[] = [];
  const errors: WwwAuthenticateParseError[] = [];
  const tally: Tally = { challenges: 0, steps: 0 };
  const tooLong = lengthError(lines, limits.maxLength);
  if (tooLong) {
    if (!lenient) throw tooLong;
    return { challenges, errors: [tooLong], steps: lines.length };
  }
  const multiline = lines.length > 1;
  for (const [index, line] of lines.entries()) {
    const parser = new LineParser(line, index, multiline, limits, tally);
    if (!lenient) {
      parser.parseStrict(challenges);
      continue;
    }
    parser.parseLenient(challenges, errors);
    if (parser.fatal) break;
  }
  return { challenges, errors, steps: tally.steps };
}

/**
 * Parses `WWW-Authenticate` challenges (RFC 9110 §11.6.1) from one field value, which may hold
 * several comma-folded challenges, or from several raw header lines. Throws
 * {@link WwwAuthenticateParseError} on the first malformed challenge or exceeded cap.
 *
 * @param values - One header value (e.g. `response.headers.get('www-authenticate')`), or the
 *   separate header lines when they are available (they isolate a malformed line).
 * @param options - Caps (`maxLength` 16 KiB, `maxChallenges` 32, `maxParams` 64 by default).
 * @returns The challenges in header order, frozen.
 *
 * @example
 * ```ts
 * import { parseWwwAuthenticate } from '@stipend/client';
 *
 * const challenges = parseWwwAuthenticate(
 *   'Bearer realm="api", L402 macaroon="AgEE==", invoice="lnbc1…", Payment id="x", method="stripe"',
 * );
 * challenges.map((c) => c.schemeLower); // ['bearer', 'l402', 'payment']
 * challenges[1]?.params.macaroon; // 'AgEE=='
 * ```
 */
export function parseWwwAuthenticate(
  values: string | readonly string[],
  options?: WwwAuthenticateParseOptions,
): Challenge[] {
  return run(values, options, false).challenges;
}

/**
 * Like {@link parseWwwAuthenticate}, but a malformed challenge costs only itself: it is
 * recorded in `errors` and parsing resumes at the next comma (outside quoted-strings) that is
 * followed by a new challenge's scheme. An unterminated quoted-string makes the rest of its
 * line unreadable; an exceeded `maxLength` or `maxChallenges` stops the parse. Never throws
 * {@link WwwAuthenticateParseError}; invalid arguments still throw `TypeError`/`RangeError`.
 *
 * @example
 * ```ts
 * import { findChallenges, parseWwwAuthenticateLenient } from '@stipend/client';
 *
 * const { challenges, errors } = parseWwwAuthenticateLenient(
 *   'Foo a=1, a=2, Payment id="x", realm="r"',
 * );
 * findChallenges(challenges, 'payment').length; // 1
 * errors[0]?.message; // "… duplicate parameter 'a' in the 'Foo' challenge …"
 * ```
 */
export function parseWwwAuthenticateLenient(
  values: string | readonly string[],
  options?: WwwAuthenticateParseOptions,
): LenientParseResult {
  const { challenges, errors } = run(values, options, true);
  return { challenges, errors };
}

/**
 * @internal Test hook: the number of loop iterations {@link parseWwwAuthenticateLenient} takes
 * on `values` (the strict parser does a prefix of the same work), to check that the work grows
 * linearly with the input. Not part of the public API.
 *
 * @example
 * ```ts
 * import { countParseSteps } from './www-authenticate.js';
 *
 * countParseSteps('"'.repeat(1000)); // a small multiple of 1000
 * ```
 */
export function countParseSteps(
  values: string | readonly string[],
  options?: WwwAuthenticateParseOptions,
): number {
  return run(values, options, true).steps;
}

/**
 * Keeps the challenges whose auth-scheme is one of `scheme`, compared case-insensitively.
 *
 * @example
 * ```ts
 * import { findChallenges, parseWwwAuthenticate } from '@stipend/client';
 *
 * const all = parseWwwAuthenticate('LSAT macaroon="m", invoice="i", L402 macaroon="m", invoice="i"');
 * findChallenges(all, ['L402', 'LSAT']).length; // 2
 * ```
 */
export function findChallenges(
  challenges: readonly Challenge[],
  scheme: string | readonly string[],
): Challenge[] {
  const wanted = new Set(
    (typeof scheme === 'string' ? [scheme] : scheme).map((s) => s.toLowerCase()),
  );
  return challenges.filter((c) => wanted.has(c.schemeLower));
}

/**
 * Serializes `value` as an RFC 9110 quoted-string, escaping `"` and `\`. Throws a `TypeError`
 * for characters a header cannot carry: control characters other than tab (CR and LF would
 * inject headers) and anything above U+00FF (header values are byte strings; encode such text
 * first, e.g. as base64url).
 *
 * @example
 * ```ts
 * import { quoteString } from '@stipend/client';
 *
 * quoteString('say "hi" \\o/'); // '"say \\"hi\\" \\\\o/"'
 * ```
 */
export function quoteString(value: string): string {
  let out = '"';
  let segment = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === DQUOTE || c === BACKSLASH) {
      out += value.slice(segment, i) + '\\';
      segment = i;
    } else if (isCtl(c) || c > 0xff) {
      throw new TypeError(
        `cannot put ${describeAt(value, i)} (index ${i}) in a quoted-string: header values ` +
          'carry no control characters other than tab and nothing above U+00FF; ' +
          'encode the value first (e.g. base64url)',
      );
    }
  }
  return out + value.slice(segment) + '"';
}

/**
 * Serializes one auth-param as `name="value"` (always a quoted-string, with escapes), for
 * clients that echo challenge parameters back. Throws a `TypeError` when `name` is not an
 * RFC 9110 token or `value` cannot be quoted (see {@link quoteString}).
 *
 * @example
 * ```ts
 * import { formatAuthParam } from '@stipend/client';
 *
 * formatAuthParam('realm', 'api "v2"'); // 'realm="api \\"v2\\""'
 * ```
 */
export function formatAuthParam(name: string, value: string): string {
  if (name.length === 0 || [...name].some((ch) => !has(ch.charCodeAt(0), TCHAR))) {
    throw new TypeError(
      `auth-param name ${JSON.stringify(name)} is not an RFC 9110 token ` +
        "(use letters, digits and !#$%&'*+-.^_`|~ only)",
    );
  }
  return `${name}=${quoteString(value)}`;
}
