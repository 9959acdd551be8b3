/**
 * `stipend policy check <file>`: validates a policy file and explains it in plain words.
 *
 * @module
 */
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { explainPolicy } from '../policy/explain.js';
import { readPolicyFile } from '../policy/load.js';

export const POLICY_HELP = `Usage: stipend policy check <file>

Validates a JSON spend policy and explains what it allows: caps per payment, limits per
window, host and tag rules, approvals. A mistake is reported with the field to fix.
`;

/**
 * Runs `stipend policy …`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { policyCommand } from './policy.js';
 * import { processIo } from '../io.js';
 * await policyCommand(['check', 'policy.json'], processIo());
 * ```
 */
export async function policyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse<{ help?: boolean }>('policy', args, {
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(POLICY_HELP);
    return EXIT.ok;
  }
  const [action, file, ...rest] = positionals;
  if (action !== 'check' || file === undefined || rest.length > 0) {
    throw new CliError('Usage: stipend policy check <file>', EXIT.usage);
  }
  let policy: ReturnType<typeof readPolicyFile>;
  try {
    policy = readPolicyFile(file);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`✗ ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
  io.stdout.write(`✓ ${file} is a valid policy.\n\n${explainPolicy(policy).join('\n')}\n`);
  return EXIT.ok;
}
