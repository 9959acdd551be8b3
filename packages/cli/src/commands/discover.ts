/**
 * `stipend discover <origin>`: the priced endpoints a seller publishes (OpenAPI
 * `x-payment-info`, the x402 manifests, llms.txt links, the terms of listed resources' 402s),
 * read with `discover` from `@stipend/client/discover`. Only unpaid `GET`s without credentials
 * go out, all to that origin: nothing is paid.
 *
 * @module
 */
import {
  type Amount,
  formatAmount,
  formatUsd,
  type KnownAsset,
  type KnownToken,
  type PriceSource,
} from '@stipend/client';
import { parse, timeoutMsOf } from '../args.js';
import { homeFiles } from '../home.js';
import { nodeFetch } from '../http/node-fetch.js';
import { CliError, type CliIo, EXIT } from '../io.js';
import { toJsonOutput } from '../output/json.js';
import { renderTable } from '../output/table.js';
import { printable, shortId } from '../output/words.js';
import { pricesOf, tokensOf } from '../wallets/build.js';
import { loadWalletSettings } from '../wallets/settings.js';
import { checkUrl } from './fetch.js';

/** `--timeout` when not given, in seconds (each document). */
const DEFAULT_TIMEOUT_S = 10;

export const DISCOVER_HELP = `Usage: stipend discover <https://host> [options]

Lists what a seller publishes about its prices, without paying: /openapi.json (x-payment-info),
/.well-known/x402 and /.well-known/x402.json, llms.txt links to those, and the 402 terms of
the resources they list (asked with an unpaid GET). Discovery is advisory: the 402 of the real
call decides what is paid (stipend quote <url> shows it).

Options:
      --json              print the discovery as JSON; every amount is { value, unit, display }
      --probe <n>         at most n listed resources asked for their 402 (default 8; 0: none)
      --timeout <seconds> the longest wait for each document (default ${DEFAULT_TIMEOUT_S})
      --wallets <file>    wallet settings, for the extra assets and prices they name
                          (default ~/.config/stipend/wallets.json; see stipend help wallets)
  -h, --help              this help
`;

interface DiscoverFlags {
  json?: boolean;
  probe?: string;
  timeout?: string;
  wallets?: string;
  help?: boolean;
}

/** What the command reads of a discovery (the shape of `@stipend/client/discover`'s `Discovery`). */
interface DiscoveryView {
  readonly origin: string;
  readonly endpoints: readonly {
    readonly method: string;
    readonly path: string;
    readonly tool?: string;
    readonly source: string;
    readonly description?: string;
    readonly offers: readonly {
      readonly protocol: string;
      readonly scheme: string;
      readonly amount?: Amount;
      readonly payee?: string;
      readonly usdMicros?: bigint;
      readonly unpriced?: string;
    }[];
    readonly cheapestUsdMicros?: bigint;
    readonly unpriced?: string;
  }[];
  readonly documents: readonly {
    readonly url: string;
    readonly outcome: 'read' | 'absent' | 'skipped';
    readonly code?: string;
    readonly reason?: string;
    readonly endpoints?: number;
  }[];
  readonly skipped: readonly { readonly where: string; readonly reason: string }[];
}

/** `discover` of `@stipend/client/discover`, as this command calls it. */
export type Discover = (
  origin: string,
  options: {
    readonly fetch: typeof fetch;
    readonly timeoutMs: number;
    readonly prices: PriceSource;
    readonly assets: readonly KnownAsset[];
    readonly tokens: Readonly<Record<string, KnownToken>>;
    readonly probe?: number;
  },
) => Promise<DiscoveryView>;

/**
 * Runs `stipend discover`. Returns the exit code: 0 when priced endpoints were found, 3 when
 * the seller publishes none.
 *
 * @example
 * ```ts
 * import { discoverCommand } from './discover.js';
 * import { processIo } from '../io.js';
 * process.exitCode = await discoverCommand(['https://api.example.com'], processIo());
 * ```
 */
export async function discoverCommand(
  args: readonly string[],
  io: CliIo,
  options: { readonly discover?: Discover } = {},
): Promise<number> {
  const { values: flags, positionals } = parse<DiscoverFlags>('discover', args, {
    json: { type: 'boolean' },
    probe: { type: 'string' },
    timeout: { type: 'string' },
    wallets: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) {
    io.stdout.write(DISCOVER_HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) {
    throw new CliError(
      'stipend discover: give exactly one origin, e.g. stipend discover https://api.example.com',
      EXIT.usage,
    );
  }
  const origin = new URL(checkUrl(positionals[0]!, 'discover')).origin;
  let probe: number | undefined;
  if (flags.probe !== undefined) {
    probe = Number(flags.probe);
    if (!/^\d+$/.test(flags.probe) || probe > 100) {
      throw new CliError(
        `--probe must be a whole number from 0 to 100, e.g. --probe 8, not "${flags.probe}"`,
        EXIT.usage,
      );
    }
  }
  const timeoutMs = timeoutMsOf(flags.timeout, DEFAULT_TIMEOUT_S);
  const files = homeFiles(io.env);
  const settings = loadWalletSettings({
    env: io.env,
    defaultFile: files.wallets,
    ...(flags.wallets !== undefined ? { explicitFile: flags.wallets } : {}),
  });
  const discover = options.discover ?? (await loadDiscover());
  const http = nodeFetch(io.env, { timeoutMs });
  try {
    const found = await discover(origin, {
      fetch: http.fetch,
      timeoutMs,
      prices: pricesOf(settings),
      assets: settings.assets,
      tokens: tokensOf(settings),
      ...(probe !== undefined ? { probe } : {}),
    });
    if (flags.json) io.stdout.write(`${toJsonOutput(found)}\n`);
    else io.stdout.write(renderDiscovery(found));
    return found.endpoints.length > 0 ? EXIT.ok : EXIT.refused;
  } finally {
    await http.close();
  }
}

/**
 * `discover` from its entry, `@stipend/client/discover` (loaded only by this command).
 *
 * @throws {CliError} when the installed `@stipend/client` has no such entry.
 */
async function loadDiscover(): Promise<Discover> {
  // A specifier in a variable: resolved at run time, from the installed @stipend/client.
  const specifier = '@stipend/client/discover';
  try {
    const module = (await import(specifier)) as { discover?: unknown };
    if (typeof module.discover !== 'function') throw new Error('it has no discover export');
    return module.discover as Discover;
  } catch (error) {
    throw new CliError(
      `stipend discover: ${specifier} could not be loaded (${(error as Error).message}); ` +
        'install a @stipend/client that has it, the same version as @stipend/cli',
    );
  }
}

/**
 * A discovery as text for people: the endpoints (cheapest offer first), then what was read
 * and skipped. Every text the seller chose is made printable.
 *
 * @example
 * ```ts
 * import { renderDiscovery } from './discover.js';
 * process.stdout.write(renderDiscovery(await discover('https://api.example.com')));
 * ```
 */
export function renderDiscovery(found: DiscoveryView): string {
  const lines: string[] = [];
  const n = found.endpoints.length;
  lines.push(
    `Discovery: ${printable(found.origin)} publishes ${n} priced endpoint${n === 1 ? '' : 's'}. Nothing was paid.`,
  );
  if (n > 0) {
    const rows: string[][] = [];
    for (const endpoint of found.endpoints) {
      const where = `${printable(endpoint.method, 10)} ${printable(endpoint.tool ?? endpoint.path, 80)}`;
      if (endpoint.offers.length === 0) {
        rows.push([where, '—', '—', '?', '—', printable(endpoint.unpriced ?? 'no terms', 60)]);
        continue;
      }
      for (const [i, offer] of endpoint.offers.entries()) {
        rows.push([
          i === 0 ? where : '',
          `${printable(offer.protocol, 8)} ${printable(offer.scheme, 32)}`,
          offer.amount ? safeAmount(offer.amount) : '—',
          offer.usdMicros !== undefined ? formatUsd(offer.usdMicros) : '?',
          offer.payee !== undefined ? shortId(printable(offer.payee, 80)) : '—',
          i === 0 ? sourceWords(endpoint.source) : '',
        ]);
      }
    }
    lines.push('', renderTable(['endpoint', 'offer', 'amount', 'USD', 'payee', 'from'], rows));
    const unpriced = found.endpoints.flatMap((endpoint) =>
      endpoint.offers
        .filter((offer) => offer.unpriced !== undefined)
        .map(
          (offer) =>
            `  ${printable(endpoint.method, 10)} ${printable(endpoint.path, 80)} ${printable(offer.scheme, 32)}: no USD cost (${printable(offer.unpriced!, 200)})`,
        ),
    );
    lines.push(...unpriced);
  }
  lines.push('', 'Read:');
  for (const doc of found.documents) {
    const detail =
      doc.outcome === 'read'
        ? `${doc.endpoints ?? 0} endpoint${doc.endpoints === 1 ? '' : 's'}`
        : doc.outcome === 'absent'
          ? `not published${doc.reason ? ` (${printable(doc.reason, 60)})` : ''}`
          : `skipped: ${printable(doc.code ?? '', 40)} ${printable(doc.reason ?? '', 200)}`;
    lines.push(`  ${printable(doc.url, 200)}: ${detail}`);
  }
  for (const skip of found.skipped) {
    lines.push(`  left out ${printable(skip.where, 120)}: ${printable(skip.reason, 200)}`);
  }
  lines.push(
    '',
    'Prices here are what the seller publishes; the 402 of the real call decides (stipend quote <url>).',
  );
  return `${lines.join('\n')}\n`;
}

function sourceWords(source: string): string {
  switch (source) {
    case 'openapi':
      return 'openapi.json';
    case 'x402-manifest':
      return '.well-known/x402';
    case 'x402-json':
      return '.well-known/x402.json';
    case 'x402-402':
      return 'its 402';
    default:
      return printable(source, 24);
  }
}

function safeAmount(amount: Amount): string {
  try {
    return formatAmount(amount);
  } catch {
    return `${amount.value} (unknown unit)`;
  }
}
