/**
 * `stipend testkit serve`: the local marketplace on its own, for testing your own agent.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse } from '../args.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { toJson } from '../output/json.js';
import { loadTestkit } from '../testkit-peer.js';

export const TESTKIT_HELP = `Usage: stipend testkit serve [options]

Starts the local 402 marketplace and prints its URLs and the agent's wallet settings, then
runs until Ctrl-C (SIGINT) or SIGTERM, and stops everything it started (anvil included).

Options:
      --wallets-out <file>   write the agent's wallet settings there (for stipend --wallets)
      --json                 print the URLs and settings as one JSON line
  -h, --help                 this help
`;

/** Options of {@link testkitCommand}: how it waits for the signal to stop. */
export interface TestkitCommandOptions {
  /** Resolves when the marketplace should stop. Default: SIGINT or SIGTERM. */
  readonly until?: Promise<unknown>;
}

/**
 * Runs `stipend testkit serve`. Returns the exit code.
 *
 * @example
 * ```ts
 * import { testkitCommand } from './testkit.js';
 * import { processIo } from '../io.js';
 * await testkitCommand(['serve', '--wallets-out', 'wallets.json'], processIo());
 * ```
 */
export async function testkitCommand(
  args: readonly string[],
  io: CliIo,
  options: TestkitCommandOptions = {},
): Promise<number> {
  const { values, positionals } = parse<{
    'wallets-out'?: string;
    json?: boolean;
    help?: boolean;
  }>('testkit', args, {
    'wallets-out': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(TESTKIT_HELP);
    return EXIT.ok;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1) {
    throw new CliError('Usage: stipend testkit serve [--wallets-out <file>] [--json]', EXIT.usage);
  }

  const { market: testkitMarket } = await loadTestkit('testkit serve');
  // Listen first, so a signal during start-up still stops what was started.
  let signalled: (signal: string) => void = () => {};
  const stop =
    options.until ??
    new Promise<string>((resolve) => {
      signalled = resolve;
    });
  const onSignal = (signal: NodeJS.Signals) => signalled(signal);
  if (!options.until) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const market = await testkitMarket.startMarketplace({
      onProgress: (line) => io.stderr.write(`· ${line}\n`),
    });
    try {
      if (values['wallets-out']) {
        mkdirSync(dirname(values['wallets-out']), { recursive: true });
        writeFileSync(values['wallets-out'], `${JSON.stringify(market.wallets, null, 2)}\n`, {
          mode: 0o600,
        });
      }
      if (values.json) {
        io.stdout.write(
          `${toJson({ urls: market.urls, items: market.items, wallets: market.wallets, env: market.env })}\n`,
        );
      } else {
        const lines = [
          'Stipend testkit marketplace (everything on 127.0.0.1; public test keys; stand-ins are labelled)',
          '',
          `  x402 seller (official @x402/hono v2):   ${market.urls.x402}`,
          `  L402 seller (aperture-equivalent):      ${market.urls.l402}`,
          `  MPP seller (mppx):                      ${market.urls.mpp}`,
          `  gateway (x402 + L402 on one route):     ${market.urls.gateway}`,
          `  anvil JSON-RPC (chain ${market.chain.chainId}):           ${market.urls.rpc}`,
          `  Stripe API stand-in:                    ${market.urls.stripeApi}`,
          `  agent's Lightning node, LND REST stand-in: ${market.urls.lndRest}`,
          '',
          'Paid routes:',
          ...market.items.map(
            (item) => `  ${item.method.padEnd(4)} ${item.url}  — ${item.terms} (${item.seller})`,
          ),
          '',
          'Agent wallet settings (export these, or use --wallets-out):',
          ...Object.entries(market.env).map(([name, value]) => `  export ${name}='${value}'`),
          '',
          values['wallets-out'] ? `Wallet settings written to ${values['wallets-out']}.` : '',
          'Ready. Press Ctrl-C to stop.',
        ];
        io.stdout.write(`${lines.filter((line, i) => line !== '' || i > 0).join('\n')}\n`);
      }
      const signal = await stop;
      io.stderr.write(`Stopping (${typeof signal === 'string' ? signal : 'done'})…\n`);
    } finally {
      await market.close();
    }
    io.stderr.write('Stopped: anvil, the sellers, the gateway and the stand-ins.\n');
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
