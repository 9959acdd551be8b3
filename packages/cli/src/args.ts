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

/** A value to show for an option that was given without one. */
const EXAMPLES: Readonly<Record<string, string>> = {
  max: '0.05',
  timeout: '30',
  policy: 'policy.json',
  wallets: 'wallets.json',
  'wallets-out': 'wallets.json',
  ledger: 'ledger.jsonl',
  method: 'POST',
  header: '"Accept: application/json"',
  data: '\'{"q": 1}\'',
  tag: 'research',
  export: 'csv',
  'allow-host': '127.0.0.1',
  resolve: 's_…=paid',
};

/**
 * Parses `args` for `command` with strict options; unknown options are usage errors.
 *
 * @throws {CliError} exit code 2, naming the command, the option and what to write.
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
      `stipend ${command}: ${usageProblem(error as Error & { code?: string })} (see stipend ${command} --help)`,
      EXIT.usage,
    );
  }
}

/**
 * `--timeout <seconds>` in ms (`fallbackSeconds` when not given).
 *
 * @throws {CliError} exit code 2 unless it is a number of seconds above 0 (at most a day).
 * @example
 * ```ts
 * import { timeoutMsOf } from './args.js';
 * timeoutMsOf('2.5', 60); // 2500
 * ```
 */
export function timeoutMsOf(text: string | undefined, fallbackSeconds: number): number {
  if (text === undefined) return fallbackSeconds * 1000;
  const seconds = Number(text.trim());
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(seconds > 0) || seconds > 86_400) {
    throw new CliError(
      `--timeout must be a number of seconds above 0 (at most 86400), e.g. --timeout 30, not "${text}"`,
      EXIT.usage,
    );
  }
  return Math.ceil(seconds * 1000);
}

/** `parseArgs`' complaint in the command's words. */
function usageProblem(error: Error & { code?: string }): string {
  const named = /'(?:-\w, )?(--[\w-]+)/.exec(error.message)?.[1];
  const name = named?.slice(2);
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && named !== undefined) {
    if (/does not take an argument/.test(error.message)) {
      return `${named} is a switch and takes no value: write ${named} alone`;
    }
    const example = (name !== undefined && EXAMPLES[name]) || '<value>';
    return `${named} needs a value, e.g. ${named} ${example}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(error.message)?.[1] ?? 'that option';
    return `unknown option ${option}`;
  }
  return error.message.replace(/\. To specify.*$/s, '');
}
