/**
 * What a command reads and writes: streams, environment and working directory, passed in so
 * that commands can be run in-process by tests and by other programs.
 *
 * @module
 */
import type { Readable } from 'node:stream';

/** A place to write text. */
export interface Output {
  write(text: string | Uint8Array): unknown;
  /** True when it is a terminal. */
  readonly isTTY?: boolean;
}

/** The world a command runs in. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly stdin: Readable & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/**
 * The process's own streams, environment and working directory.
 *
 * @example
 * ```ts
 * import { processIo } from './io.js';
 * const io = processIo();
 * io.stdout.write('hello\n');
 * ```
 */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Exit codes of the `stipend` command. */
export const EXIT = {
  /** A response was received (whatever its HTTP status), or the command did its job. */
  ok: 0,
  /** Something failed: network, configuration, a file. */
  error: 1,
  /** The command line is wrong. */
  usage: 2,
  /** A payment was needed and the policy, a person or a missing wallet refused it. */
  refused: 3,
  /** A payment was attempted and failed (see the message for whether money moved). */
  paymentFailed: 4,
} as const;

/**
 * An error the command reports as one clear message and an exit code (no stack trace).
 *
 * @example
 * ```ts
 * import { CliError, EXIT } from './io.js';
 * throw new CliError('--max must be a USD amount such as 0.05', EXIT.usage);
 * ```
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.exitCode = exitCode;
  }
}
