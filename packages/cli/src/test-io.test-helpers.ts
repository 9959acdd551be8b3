/**
 * An in-memory {@link CliIo} for unit tests: captured stdout and stderr, a scripted stdin.
 */
import { PassThrough } from 'node:stream';
import type { CliIo } from './io.js';

/** A CliIo whose outputs are captured; `stdin` is a PassThrough (not a TTY unless asked). */
export function memoryIo(
  options: { env?: Record<string, string>; tty?: boolean; cwd?: string } = {},
): CliIo & { out(): string; err(): string; stdin: PassThrough & { isTTY?: boolean } } {
  let out = '';
  let err = '';
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = true;
  const text = (chunk: string | Uint8Array) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return {
    stdout: { write: (chunk) => (out += text(chunk)) },
    stderr: { write: (chunk) => (err += text(chunk)) },
    stdin,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    out: () => out,
    err: () => err,
  };
}
