/**
 * `stipend policy check <file>`: validates a policy file and explains it in plain words.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { explainPolicy } from '../policy/explain.js';
import { checkPolicyText, formatProblem } from '../policy/load.js';
import { policyWarnings } from '../policy/warnings.js';

export const POLICY_HELP = `Usage: stipend policy check <file>

Validates a JSON spend policy and explains what it allows: caps per payment, limits per
window, host and tag rules, approvals. Every mistake is reported at once, with its line,
column and the field to fix; settings that are valid but probably not meant are warned about.
Exit codes: 0 valid (warnings included), 1 mistakes or an unreadable file, 2 usage.
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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.stderr.write(`✗ Cannot read the policy file ${file}: ${(error as Error).message}\n`);
    return EXIT.error;
  }
  const { policy, problems } = checkPolicyText(text);
  if (policy === undefined || problems.length > 0) {
    const count = problems.length === 1 ? 'a mistake' : `${problems.length} mistakes`;
    io.stderr.write(
      `✗ ${file} has ${count}:\n${problems.map((p) => `  ${formatProblem(file, p)}`).join('\n')}\n`,
    );
    return EXIT.error;
  }
  const warnings = policyWarnings(policy);
  io.stdout.write(`✓ ${file} is a valid policy.\n\n${explainPolicy(policy).join('\n')}\n`);
  if (warnings.length > 0) {
    io.stderr.write(`\n${warnings.map((warning) => `⚠ ${warning}`).join('\n')}\n`);
  }
  return EXIT.ok;
}
