/**
 * Reading a spend policy from a JSON file, validated up front.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { isStipendError, type SpendPolicy, validatePolicy } from '@stipend/client';
import { CliError } from '../io.js';

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
 *   (the message names the field to fix).
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
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    validatePolicy(policy as SpendPolicy);
  } catch (error) {
    if (isStipendError(error)) throw new CliError(`${path}: ${error.shortMessage}`);
    throw error;
  }
  return policy as SpendPolicy;
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
