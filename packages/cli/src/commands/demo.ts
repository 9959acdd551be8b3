/**
 * `stipend demo`: the embedded marketplace demo.
 *
 * @module
 */
import { parse } from '../args.js';
import { runDemo } from '../demo/run.js';
import { CliError, type CliIo, EXIT } from '../io.js';

export const DEMO_HELP = `Usage: stipend demo [--ledger <file>]

Starts a local 402 marketplace (anvil chain with test USDC and the official x402 server, an
L402 server over a Lightning simulator, the mppx server with a Stripe stand-in), then runs an
agent through it under a spend policy and prints what it paid. Nothing to configure; nothing
leaves 127.0.0.1. The ledger goes to .stipend/demo-ledger.jsonl unless --ledger is given.
`;

/**
 * Runs `stipend demo`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { demoCommand } from './demo.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await demoCommand([], processIo());
 * ```
 */
export async function demoCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse<{ ledger?: string; help?: boolean }>('demo', args, {
    ledger: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(DEMO_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) {
    throw new CliError(`stipend demo takes no arguments (got "${positionals[0]}")`, EXIT.usage);
  }
  return runDemo(io, values.ledger !== undefined ? { ledgerPath: values.ledger } : {});
}
