/**
 * Command-line parsing on `node:util`'s `parseArgs`, with usage errors that say what to fix.
 *
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, EXIT } from './io.js';

/** Parsed arguments of one command. */
export interface Parsed<T> {
  readonly values: T;
  readonly positionals: readonly string[];
}

/**
 * Parses `args` for `command` with strict options; unknown options are usage errors.
 *
 * @throws {CliError} exit code 2, naming the command and the problem.
 * @example
 * ```ts
 * import { parse } from './args.js';
 * const { values } = parse<{ json?: boolean }>('ledger', ['--json'], { json: { type: 'boolean' } });
 * ```
 */
export function parse<T>(
  command: string,
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): Parsed<T> {
  try {
    const result = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values: result.values as T, positionals: result.positionals };
  } catch (error) {
    throw new CliError(
      `stipend ${command}: ${(error as Error).message.replace(/\. To specify.*$/s, '')} (see stipend ${command} --help)`,
      EXIT.usage,
    );
  }
}
