/**
 * The `stipend` command: dispatches to its subcommands and turns errors into one clear
 * message and an exit code.
 *
 * @module
 */
import { isStipendError } from '@stipend/client';
import { CliError, type CliIo, EXIT } from './io.js';

export const HELP = `stipend — pay HTTP 402 APIs (x402, L402, MPP) under a spend policy

Usage:
  stipend fetch <url> [options]      a small curl that pays 402s (see stipend fetch --help)
  stipend quote <url> [--json]       what it would cost and what the policy would do; pays nothing
  stipend discover <https://host>    the priced endpoints a seller publishes; pays nothing
  stipend ledger [--export jsonl|csv] what was spent, per host and rail, and per session;
                                     held purchases first
  stipend sessions [--json]          payment sessions kept open (deposit, spent, refunded)
  stipend sessions close <id>|--all  close them: the refund comes back to your node
  stipend reconcile [--resolve <record>=paid|void]
                                     settle held purchases (asks the wallets, or your answer)
  stipend policy check <file>        validate a policy file and explain it
  stipend demo                       the local marketplace demo (nothing to configure)
  stipend testkit serve              run the local marketplace for your own agent
  stipend console [--dir <folder>]   the spend console: a local page to watch spend and approve
  stipend mcp [options]              an MCP server (stdio) with a paid fetch tool
  stipend mcp proxy -- <command …>   front any MCP server (or: stipend mcp proxy <url>), paying
                                     its paid tool calls under your policy
  stipend mcp add <client>           add stipend to claude, cursor or vscode's MCP configuration
  stipend help wallets               how to configure wallets

Files live in ~/.config/stipend (or $STIPEND_HOME): wallets.json, policy.json, ledger.jsonl,
sessions.jsonl.
HTTP(S)_PROXY and NO_PROXY are honoured.
`;

export const WALLETS_HELP = `Wallets: a JSON file (--wallets <file>, default ~/.config/stipend/wallets.json) and/or
environment variables, which win:

  EVM (x402, MPP evm):  STIPEND_EVM_PRIVATE_KEY=0x…  STIPEND_EVM_RPC_URL=https://…
  Lightning (L402):     STIPEND_LND_REST_URL=https://host:8080  STIPEND_LND_MACAROON=<hex|base64>
                        [STIPEND_LND_TLS_CERT=/path/tls.cert]  or  STIPEND_NWC_URL=nostr+walletconnect://…
                        STIPEND_LIGHTNING_NETWORK=mainnet|testnet|signet|regtest (default mainnet)
  Stripe (MPP stripe):  STIPEND_STRIPE_SECRET_KEY=sk_…  STIPEND_STRIPE_PAYMENT_METHOD=pm_…
                        [STIPEND_STRIPE_API_URL=https://api.stripe.com]
  Extra tokens:         STIPEND_ASSETS='[{"network":"eip155:10","address":"0x…","symbol":"USDC","decimals":6,"peg":"USD"}]'
  BTC price for msat:   STIPEND_BTC_USD=97000 (without it Lightning offers cannot be priced)

File:
  { "evm": { "privateKey": "0x…", "rpcUrl": "…" },
    "lightning": { "network": "mainnet", "lndRest": { "url": "…", "macaroon": "…", "cert": "…" } },
    "stripe": { "secretKey": "sk_…", "paymentMethod": "pm_…" },
    "assets": [ … ], "prices": { "btcUsd": "97000" } }
`;

/**
 * Runs the command line `args` (without `node` and the script). Returns the exit code; never
 * throws for a usage or configuration problem (it prints it).
 *
 * @example
 * ```ts
 * import { main, processIo } from '@stipend/cli';
 * process.exitCode = await main(process.argv.slice(2), processIo());
 * ```
 */
export async function main(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    // Each command is loaded when used: `stipend ledger` never loads the chain or the servers.
    switch (command) {
      case 'fetch':
        return await (await import('./commands/fetch.js')).fetchCommand(rest, io);
      case 'quote':
        return await (await import('./commands/quote.js')).quoteCommand(rest, io);
      case 'discover':
        return await (await import('./commands/discover.js')).discoverCommand(rest, io);
      case 'console':
        return await (await import('./commands/console.js')).consoleCommand(rest, io);
      case 'ledger':
        return await (await import('./commands/ledger.js')).ledgerCommand(rest, io);
      case 'sessions':
        return await (await import('./commands/sessions.js')).sessionsCommand(rest, io);
      case 'reconcile':
        return await (await import('./commands/reconcile.js')).reconcileCommand(rest, io);
      case 'policy':
        return await (await import('./commands/policy.js')).policyCommand(rest, io);
      case 'demo':
        return await (await import('./commands/demo.js')).demoCommand(rest, io);
      case 'testkit':
        return await (await import('./commands/testkit.js')).testkitCommand(rest, io);
      case 'mcp':
        return await (await import('./commands/mcp.js')).mcpCommand(rest, io);
      case 'help':
      case '--help':
      case '-h':
      case undefined:
        io.stdout.write(rest[0] === 'wallets' ? WALLETS_HELP : HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case '--version':
      case '-v':
        io.stdout.write('stipend 0.1.0\n');
        return EXIT.ok;
      default:
        io.stderr.write(`stipend: unknown command "${command}"\n\n${HELP}`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    if (isStipendError(error)) {
      io.stderr.write(`stipend: ${error.code}: ${error.shortMessage}\n`);
      return EXIT.error;
    }
    io.stderr.write(`stipend: ${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT.error;
  }
}
