/**
 * Where things are in a JSON policy file: line and column of a parse error's offset, and of
 * every value by the path the policy validator names it with (`policy.global.limits[0].usd`,
 * `policy.hosts["*.example.com"].action`), so that each mistake points into the file.
 *
 * @module
 */

/** A place in a text file, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * The line and column of a character offset.
 *
 * @example
 * ```ts
 * import { positionAt } from './locate.js';
 * positionAt('{\n  "a": x\n}', 9); // { line: 2, column: 8 }
 * ```
 */
export function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Object keys whose members the validator names `["key"]` rather than `.key`. */
const MAP_KEYS = new Set(['hosts', 'tags']);

/** A JSON syntax error: where, and what was expected. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Reads a JSON text strictly and returns every value by its validator path, with the position
 * where its key (or, for array items and the root, the value) starts.
 *
 * @throws {JsonSyntaxError} at the first character that is not JSON, with its offset.
 * @example
 * ```ts
 * import { locateJson } from './locate.js';
 * locateJson('{"global": {"limits": [{"usd": "x"}]}}').get('policy.global.limits[0].usd');
 * // { line: 1, column: 25 }
 * ```
 */
export function locateJson(text: string, root = 'policy'): Map<string, Position> {
  const places = new Map<string, Position>();
  let i = 0;
  const fail = (expected: string): never => {
    const found = i >= text.length ? 'the end of the file' : JSON.stringify(text[i]);
    throw new JsonSyntaxError(i, `unexpected ${found} (expected ${expected})`);
  };
  const space = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i]!)) i++;
  };
  const expect = (char: string, expected: string) => {
    space();
    if (text[i] !== char) fail(expected);
    i++;
  };
  const string = (): string => {
    const start = i;
    if (text[i] !== '"') fail('a string in double quotes');
    i++;
    for (;;) {
      if (i >= text.length) fail('a closing double quote');
      const c = text[i]!;
      if (c === '"') break;
      if (c < ' ') fail('a closing double quote (a line break must be written \\n)');
      if (c === '\\') {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('\\u and four hex digits');
          i += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) fail('an escape such as \\n or \\"');
        i += 2;
        continue;
      }
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, parentKey: string): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        const keyAt = i;
        if (text[i] !== '"') fail('a field name in double quotes');
        const key = string();
        const child = MAP_KEYS.has(parentKey)
          ? `${path}[${JSON.stringify(key)}]`
          : `${path}.${key}`;
        places.set(child, positionAt(text, keyAt));
        expect(':', '":" after the field name');
        value(child, key);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect('}', '"," or "}"');
        return;
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        space();
        const item = `${path}[${index}]`;
        places.set(item, positionAt(text, i));
        value(item, '');
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(']', '"," or "]"');
        return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(text);
    if (number && number[0] !== '' && number[0] !== '-') {
      i += number[0].length;
      return;
    }
    fail('a value: a string, a number, an object, an array, true, false or null');
  };
  space();
  places.set(root, positionAt(text, i));
  value(root, '');
  space();
  if (i < text.length) fail('the end of the file');
  return places;
}

/**
 * The position of `path`, or of its nearest ancestor that the file has (a missing field is
 * reported where its object is).
 *
 * @example
 * ```ts
 * import { locateJson, positionOf } from './locate.js';
 * positionOf(locateJson('{"global": {}}'), 'policy.global.limits'); // { line: 1, column: 2 }
 * ```
 */
export function positionOf(places: ReadonlyMap<string, Position>, path: string): Position {
  for (let at = path; at !== ''; at = parentOf(at)) {
    const found = places.get(at);
    if (found) return found;
  }
  return { line: 1, column: 1 };
}

function parentOf(path: string): string {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  if (cut <= 0) return '';
  // `.` inside a quoted host pattern: cut before the bracket that opened it.
  const open = path.lastIndexOf('["');
  if (open !== -1 && path.endsWith('"]') && cut > open) return path.slice(0, open);
  return path.slice(0, cut);
}
