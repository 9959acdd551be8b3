/**
 * Reading the spend policy from a JSON file, checked up front.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { type SpendPolicy, StipendError, validatePolicy } from '@stipend/client';

/**
 * Reads and validates a JSON spend policy (`{ "global": { "maxPerRequest": { "usd": "0.05" } } }`).
 *
 * @throws {StipendError} code `POLICY_FILE_UNREADABLE` when the file cannot be read or is not
 *   JSON, `POLICY_INVALID` when the policy is wrong (with the field to fix).
 * @example
 * ```ts
 * import { loadPolicyFile } from '@stipend/mcp/server';
 * const policy = await loadPolicyFile('./stipend.policy.json');
 * ```
 */
export async function loadPolicyFile(path: string): Promise<SpendPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new StipendError(
      'POLICY_FILE_UNREADABLE',
      `Cannot read the policy file ${path}: ${(error as Error).message}. Check the path given as policyFile.`,
      { details: { path }, cause: error },
    );
  }
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch (error) {
    throw new StipendError(
      'POLICY_FILE_UNREADABLE',
      `The policy file ${path} is not valid JSON: ${(error as Error).message}.`,
      { details: { path }, cause: error },
    );
  }
  validatePolicy(policy as SpendPolicy);
  return policy as SpendPolicy;
}
