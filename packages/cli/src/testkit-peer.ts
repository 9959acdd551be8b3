/**
 * The local marketplace behind `stipend demo` and `stipend testkit serve` comes from
 * `@stipend/testkit`, an optional peer of `@stipend/cli` (it brings a chain, a compiler and the
 * reference servers, which paying for a real API never needs). It is loaded only by those two
 * commands; without it they say what to install.
 *
 * @module
 */
import { CliError } from './io.js';

/** The parts of `@stipend/testkit` the commands use. */
export interface Testkit {
  readonly market: typeof import('@stipend/testkit/market');
  readonly lightning: typeof import('@stipend/testkit/lightning');
  readonly mpp: typeof import('@stipend/testkit/mpp');
}

/** Loads the testkit's modules (replaceable in tests). */
export type TestkitLoader = () => Promise<Testkit>;

const importTestkit: TestkitLoader = async () => ({
  market: await import('@stipend/testkit/market'),
  lightning: await import('@stipend/testkit/lightning'),
  mpp: await import('@stipend/testkit/mpp'),
});

/**
 * Loads `@stipend/testkit` for `command`.
 *
 * @throws {CliError} when it is not installed, saying what to install and where it comes from.
 * @example
 * ```ts
 * import { loadTestkit } from './testkit-peer.js';
 * const { market } = await loadTestkit('demo');
 * const marketplace = await market.startMarketplace();
 * ```
 */
export async function loadTestkit(command: string, load = importTestkit): Promise<Testkit> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingTestkit(error)) throw error;
    throw new CliError(
      `stipend ${command} needs the local 402 marketplace from @stipend/testkit, an optional companion of @stipend/cli that is not installed here. ` +
        'It is not on npm (it carries a local chain, a Solidity compiler and the reference servers): ' +
        `clone the Stipend repository, run "pnpm install" there, then "pnpm stipend ${command}". ` +
        'Paying real APIs (stipend fetch, ledger, reconcile, policy check, mcp) needs none of it.',
    );
  }
}

function isMissingTestkit(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes('@stipend/testkit')
  );
}
