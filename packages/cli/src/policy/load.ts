/**
 * Reading a spend policy from a JSON file, validated up front.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { isStipendError, type SpendPolicy, validatePolicy } from '@stipend/client';
import { CliError } from '../io.js';
import { JsonSyntaxError, locateJson, type Position, positionAt, positionOf } from './locate.js';

/** One mistake in a policy file, where it is. */
export interface PolicyProblem {
  readonly line: number;
  readonly column: number;
  /** The field, as the validator names it (`policy.global.limits[0].usd`); absent for JSON syntax. */
  readonly path?: string;
  readonly message: string;
}

/**
 * Checks a policy file's text: every mistake at once, each with its line and column (JSON
 * syntax first: then nothing else can be checked).
 *
 * @example
 * ```ts
 * import { checkPolicyText } from './load.js';
 * checkPolicyText('{"global": {"limits": [{"usd": "x"}]}}').problems[0];
 * // { line: 1, column: 25, path: 'policy.global.limits[0].usd', message: '…' }
 * ```
 */
export function checkPolicyText(text: string): {
  readonly policy?: SpendPolicy;
  readonly problems: readonly PolicyProblem[];
} {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch (error) {
    // Where: our strict reader names the place (JSON.parse's messages do not, in every Node).
    let problem: PolicyProblem = {
      line: 1,
      column: 1,
      message: `not valid JSON: ${(error as Error).message}`,
    };
    try {
      locateJson(text);
    } catch (syntax) {
      if (!(syntax instanceof JsonSyntaxError)) throw syntax;
      problem = {
        ...positionAt(text, syntax.offset),
        message: `not valid JSON: ${syntax.message}`,
      };
    }
    return { problems: [problem] };
  }
  let places: Map<string, Position>;
  try {
    places = locateJson(text);
  } catch {
    places = new Map();
  }
  try {
    validatePolicy(policy as SpendPolicy);
  } catch (error) {
    if (!isStipendError(error) || error.code !== 'POLICY_INVALID') throw error;
    const listed = error.details.problems as { path: string; message: string }[] | undefined;
    const all = listed ?? [
      { path: String(error.details.path ?? 'policy'), message: error.shortMessage },
    ];
    return {
      problems: all.map((problem) => ({
        ...positionOf(places, problem.path),
        path: problem.path,
        message: problem.message.startsWith(`${problem.path}: `)
          ? problem.message.slice(problem.path.length + 2)
          : problem.message,
      })),
    };
  }
  return { policy: policy as SpendPolicy, problems: [] };
}

/**
 * A problem as one line: `file:line:column field: what to fix`.
 *
 * @example
 * ```ts
 * import { formatProblem } from './load.js';
 * formatProblem('policy.json', { line: 3, column: 5, path: 'policy.global', message: 'must be an object' });
 * // 'policy.json:3:5 policy.global: must be an object'
 * ```
 */
export function formatProblem(file: string, problem: PolicyProblem): string {
  const where = `${file}:${problem.line}:${problem.column}`;
  return problem.path
    ? `${where} ${problem.path}: ${problem.message}`
    : `${where} ${problem.message}`;
}

/** A policy and where it came from. */
export interface LoadedPolicy {
  /** `undefined`: no file, so the fail-closed defaults apply. */
  readonly policy: SpendPolicy | undefined;
  /** The file read, or `default` (the built-in $0.10 per request, $1 per UTC day). */
  readonly source: string;
}

/**
 * Reads and validates a JSON policy file.
 *
 * @throws {CliError} when the file cannot be read, is not JSON, or the policy is invalid
 *   (one line per mistake: file, line, column and the field to fix).
 * @example
 * ```ts
 * import { readPolicyFile } from './load.js';
 * const policy = readPolicyFile('policy.json');
 * ```
 */
export function readPolicyFile(path: string): SpendPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the policy file ${path}: ${(error as Error).message}`);
  }
  const { policy, problems } = checkPolicyText(text);
  if (policy === undefined || problems.length > 0) {
    const count = problems.length === 1 ? 'a mistake' : `${problems.length} mistakes`;
    throw new CliError(
      `The policy file ${path} has ${count} (stipend policy check ${path} explains it):\n` +
        problems.map((problem) => `  ${formatProblem(path, problem)}`).join('\n'),
    );
  }
  return policy;
}

/**
 * The policy in force: `--policy <file>`, else the stipend directory's `policy.json` when it
 * exists, else none (the fail-closed defaults).
 *
 * @example
 * ```ts
 * import { loadPolicy } from './load.js';
 * const { policy, source } = loadPolicy(undefined, '/home/me/.config/stipend/policy.json');
 * ```
 */
export function loadPolicy(explicit: string | undefined, defaultFile: string): LoadedPolicy {
  if (explicit !== undefined) return { policy: readPolicyFile(explicit), source: explicit };
  if (existsSync(defaultFile)) return { policy: readPolicyFile(defaultFile), source: defaultFile };
  return { policy: undefined, source: 'default' };
}
