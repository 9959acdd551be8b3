import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isStipendErrorCode, STIPEND_ERROR_CODES } from './codes.js';

const packages = fileURLToPath(new URL('../../../', import.meta.url));

/** Every non-test TypeScript source of every package (what ships). */
function sources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'node_modules' && name !== 'dist') walk(path);
      } else if (
        name.endsWith('.ts') &&
        !name.endsWith('.test.ts') &&
        !name.endsWith('.test-helpers.ts') &&
        !name.endsWith('.d.ts')
      ) {
        out.push({ file: path.slice(packages.length), text: readFileSync(path, 'utf8') });
      }
    }
  };
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, 'src');
    if (
      statSync(join(packages, pkg)).isDirectory() &&
      readdirSync(join(packages, pkg)).includes('src')
    ) {
      walk(src);
    }
  }
  return out;
}

/**
 * UPPER_SNAKE literals in the sources that are NOT Stipend error codes, each with its owner.
 * Anything else shaped like a code must be in `STIPEND_ERROR_CODES`.
 */
const NOT_ERROR_CODES: Readonly<Record<string, string>> = {
  HTTP_PROXY: 'environment variable',
  HTTPS_PROXY: 'environment variable',
  NO_PROXY: 'environment variable',
  MODULE_NOT_FOUND: 'Node error code',
  ERR_MODULE_NOT_FOUND: 'Node error code',
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: 'Node error code',
  ERR_PARSE_ARGS_UNKNOWN_OPTION: 'Node error code',
  FAILURE_REASON_NO_ROUTE: 'LND failure reason',
  FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: 'LND failure reason',
  IN_FLIGHT: 'LND payment status',
  RATE_LIMITED: 'NIP-47 (NWC) error code',
  NOT_IMPLEMENTED: 'NIP-47 (NWC) error code',
  INSUFFICIENT_BALANCE: 'NIP-47 (NWC) error code',
  QUOTA_EXCEEDED: 'NIP-47 (NWC) error code',
  UNSUPPORTED_ENCRYPTION: 'NIP-47 (NWC) error code',
  NOT_FOUND: "NIP-47 (NWC) error code; the console's HTTP answer for an unknown route",
  BAD_BODY: "the console's HTTP answer code (JSON, not thrown)",
  BAD_ID: "the console's HTTP answer code (JSON, not thrown)",
  BAD_RESOLUTION: "the console's HTTP answer code (JSON, not thrown)",
  ERROR: 'the CLI demo output for an error that is not a Stipend error (JSON, not thrown)',
  RESOLVED_BY_HAND: 'ledger failure code of a purchase a person resolved (not thrown)',
};

/** Literals in positions where they become an error's `code` (single words included). */
const CODE_POSITIONS = [
  /new [A-Za-z]*Error\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /super\(\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bcode\s*(?::|=|\?\?)\s*'([A-Z][A-Z0-9_]*)'/g,
  /\bcode\s*(?::|=)\s*[^;\n]*\?\s*'([A-Z][A-Z0-9_]*)'\s*:\s*'([A-Z][A-Z0-9_]*)'/g,
  /\b(?:fail|refuse)\(\s*(?:'[^']*'|`[^`]*`|"[^"]*"|[\w.]+)\s*,\s*'([A-Z][A-Z0-9_]*)'/g,
];
const SNAKE = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;

describe('StipendErrorCode', () => {
  const files = sources();

  it('holds every code the packages throw (a scan of every shipped source)', () => {
    expect(files.length).toBeGreaterThan(100);
    const unknown = new Set<string>();
    for (const { file, text } of files) {
      const code = text.replace(/\/\/.*$/gm, '');
      for (const pattern of CODE_POSITIONS) {
        for (const match of code.matchAll(pattern)) {
          for (const literal of match.slice(1)) {
            if (literal && !isStipendErrorCode(literal) && !(literal in NOT_ERROR_CODES)) {
              unknown.add(`${literal} (${file})`);
            }
          }
        }
      }
      for (const [, literal] of code.matchAll(SNAKE)) {
        if (literal!.startsWith('STIPEND_')) continue; // environment variables
        if (!isStipendErrorCode(literal) && !(literal! in NOT_ERROR_CODES)) {
          unknown.add(`${literal} (${file})`);
        }
      }
    }
    expect([...unknown].sort()).toEqual([]);
  });

  it('holds no code that nothing throws (every code appears in a source besides this list)', () => {
    const others = files.filter((f) => !f.file.endsWith('errors/codes.ts'));
    const unused = STIPEND_ERROR_CODES.filter(
      (code) => !others.some(({ text }) => text.includes(`'${code}'`)),
    );
    expect(unused).toEqual([]);
  });

  it('has no duplicates, and isStipendErrorCode reads only strings from the list', () => {
    expect(new Set(STIPEND_ERROR_CODES).size).toBe(STIPEND_ERROR_CODES.length);
    expect(isStipendErrorCode('POLICY_DENIED')).toBe(true);
    expect(isStipendErrorCode('policy_denied')).toBe(false);
    expect(isStipendErrorCode('toString')).toBe(false);
    expect(isStipendErrorCode(undefined)).toBe(false);
  });
});

/**
 * Error classes that may extend a built-in error: stand-ins for third-party errors in the
 * testkit, the CLI's own exit errors, and internal refusals that never leave their module.
 */
const NOT_STIPEND_ERRORS: Readonly<Record<string, string>> = {
  StipendError: 'the root of them all',
  AssetRefusal: 'client/src/protocols/mpp/terms.ts: internal, caught by the MPP adapter',
  CliError: 'cli: turned into an exit code and a message by the command',
  JsonSyntaxError: 'cli: internal to policy file loading',
  StripeApiError: 'testkit and cli: the shape of a Stripe API error',
  LightningPaymentError: "testkit: the shape of a Lightning backend's error",
  SimulatorBackendError: "testkit: the shape of a Lightning backend's error",
  InvoiceDecodeError: 'testkit: the bolt11 library stand-in',
  JsonRpcError: 'testkit: the shape of a JSON-RPC error',
  PayTimeout: 'authority: internal marker, not exported',
  BodyTooLargeError: 'testkit: internal to the L402 stand-in server',
};

describe('Stipend error classes', () => {
  it('every error class in the packages extends StipendError (or a subclass of it)', () => {
    const offenders: string[] = [];
    for (const { file, text } of sources()) {
      for (const [, name, base] of text.matchAll(
        /class (\w+) extends (Error|TypeError|RangeError|SyntaxError)\b/g,
      )) {
        if (!(name! in NOT_STIPEND_ERRORS)) offenders.push(`${name} extends ${base} (${file})`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
