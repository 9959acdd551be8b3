/**
 * `startConsole`: the spend console's local HTTP server.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ApprovalStore,
  type BudgetStore,
  createPayingFetch,
  isLoopbackHost,
  type Ledger,
  type PurchaseJournal,
  type SpendPolicy,
} from '@stipend/client';
import { exportLedgerCsv } from '@stipend/stores/file';
import { type ActionResult, decide, resolve } from './actions.js';
import { type Asset, COMMON_HEADERS, loadAssets, PAGE_CSP, pageWeight } from './http/assets.js';
import { checkToken, type GuardConfig, guard, newToken } from './http/guard.js';
import { createLive } from './http/live.js';
import { LimitFinder, type RuleLimits } from './view/budgets.js';
import { matches, parseFilter } from './view/ledger.js';
import { exportable, messageOf, readState, type StateSources } from './view/state.js';

/** The stores a console reads (the ones the agents use). */
export interface ConsoleStoreSet {
  readonly budget: BudgetStore;
  readonly ledger: Ledger;
  /** Without it the page shows no approvals. */
  readonly approvals?: ApprovalStore;
  /** Without it the page shows no held purchases (and cannot resolve them). */
  readonly journal?: PurchaseJournal;
}

/** Options of {@link startConsole}. */
export interface ConsoleOptions {
  /** Port to listen on. Default `0`: a free port the system picks (the URL says which). */
  readonly port?: number;
  /**
   * Address to listen on. Default `127.0.0.1`. Anything but a loopback address is refused
   * unless `allowRemote: true` (the page is plain HTTP: on a network its token can be read).
   */
  readonly host?: string;
  /** Listen beyond loopback (only behind something that adds TLS). Default `false`. */
  readonly allowRemote?: boolean;
  /** The stores, e.g. from `openConsoleStores(...)`; the single options below override them. */
  readonly stores?: ConsoleStoreSet;
  readonly budget?: BudgetStore;
  readonly ledger?: Ledger;
  readonly approvals?: ApprovalStore;
  readonly journal?: PurchaseJournal;
  /**
   * The agents' spend policy: its limits show in the budgets (and on the chart) before anything
   * is spent. Without it the console shows the limits it finds on the reservations.
   */
  readonly policy?: SpendPolicy;
  /** The URL's token. Default: 32 random bytes. */
  readonly token?: string;
  /** How often the stores are read for live updates while a page is open (ms). Default 1000. */
  readonly pollMs?: number;
  /** The clock (ms since epoch). */
  readonly now?: () => number;
  /** Where unexpected errors are reported. Default `console.error`. */
  readonly onError?: (error: unknown) => void;
}

/** A running console. */
export interface RunningConsole {
  /** The page's address, token included: `http://127.0.0.1:<port>/<token>/`. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  /** Bytes of HTML + CSS + JS the page weighs. */
  readonly pageBytes: number;
  /** Stops listening and ends the live streams. The stores are the caller's to close. */
  close(): Promise<void>;
}

const MAX_BODY = 4096;

/**
 * Starts the spend console: a local web page that shows what agents spend (chart, budgets,
 * ledger with filters and CSV export), lets a person approve or deny what agents wait for, and
 * resolve held purchases by hand. It reads and decides through the same stores the agents
 * use, so an agent in another process sees the decision on its next call.
 *
 * Every request must carry the token (in the URL's path); every action must also come from the
 * console's own page (`Origin`, a token header, JSON). Nothing but the fields shown leaves the
 * stores, and no store holds a secret.
 *
 * @param options - See {@link ConsoleOptions}; `stores` (or `budget` and `ledger`) is required.
 * @returns The URL (print it: it is the only way in), the token and `close()`.
 * @throws {TypeError} when no budget or ledger is given, the token is malformed, or `host` is
 *   not loopback without `allowRemote`.
 *
 * @example
 * ```ts
 * import { openConsoleStores, startConsole } from '@stipend/console';
 *
 * const stores = await openConsoleStores({ dir: '/var/lib/agent' });
 * const console_ = await startConsole({ stores });
 * process.stdout.write(`${console_.url}\n`);
 * // … on exit:
 * await console_.close();
 * await stores.close();
 * ```
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const budget = options.budget ?? options.stores?.budget;
  const ledger = options.ledger ?? options.stores?.ledger;
  if (!budget || !ledger) {
    throw new TypeError(
      'startConsole needs the agents’ stores: pass { stores } from openConsoleStores({ dir }) or { budget, ledger } (and approvals, journal).',
    );
  }
  const approvals = options.approvals ?? options.stores?.approvals;
  const journal = options.journal ?? options.stores?.journal;
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new TypeError(
      `startConsole: host ${host} is not a loopback address; the console is plain HTTP with the token in its URL. Keep the default 127.0.0.1 (reach it over an SSH tunnel), or pass allowRemote: true (--allow-remote) behind TLS.`,
    );
  }
  const token = options.token === undefined ? newToken() : checkToken(options.token);
  const now = options.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const pollMs = Math.max(100, options.pollMs ?? 1000);

  // A paying fetch without wallets: it pays nothing, and its public API decides approvals and
  // resolves purchases with the same rules as the agents' own.
  const payingFetch = createPayingFetch({
    wallets: [],
    budget,
    ledger,
    ...(journal ? { journal } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
    approvals: { mode: 'pending', ...(approvals ? { store: approvals } : {}) },
    now,
  });
  const rules: RuleLimits[] = [];
  if (options.policy) {
    const compiled = payingFetch.engine.policy;
    rules.push(compiled.global, ...compiled.hosts, ...compiled.tags.values());
  }
  const sources: StateSources = {
    budget,
    ledger,
    ...(approvals ? { approvals } : {}),
    ...(journal ? { journal } : {}),
    rules,
    finder: new LimitFinder(),
  };
  const assets = loadAssets();
  const live = createLive(async () => {
    const { now: _time, ...rest } = await readState(sources, {}, now());
    return JSON.stringify(rest);
  }, pollMs);

  let config: GuardConfig | undefined;
  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      onError(error);
      if (!response.headersSent)
        send(response, 500, {
          error: { code: 'INTERNAL', message: 'The console failed; see its terminal.' },
        });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const verdict = guard(
      { method: request.method ?? '', target: request.url ?? '', headers: request.headers },
      config!,
    );
    if (!verdict.ok) {
      request.resume();
      response.writeHead(verdict.status, {
        ...COMMON_HEADERS,
        'content-type': 'text/plain; charset=utf-8',
      });
      response.end(`Refused: ${verdict.reason}. Open the console with the URL it printed.\n`);
      return;
    }
    const { path, query } = verdict;
    const head = request.method === 'HEAD';
    if (request.method !== 'POST') {
      if (path === '') {
        response.writeHead(302, { ...COMMON_HEADERS, location: `/${token}/` });
        response.end();
        return;
      }
      const asset = assets.get(path);
      if (asset) return serveAsset(response, asset, head);
      if (path === '/api/state') {
        return send(response, 200, await readState(sources, parseFilter(query), now()), head);
      }
      if (path === '/api/ledger.csv') return exportCsv(response, query, head);
      if (path === '/api/events' && !head) return live.add(response);
      return send(response, 404, { error: { code: 'NOT_FOUND', message: 'No such page.' } }, head);
    }
    const body = await readBody(request);
    if (body === undefined) {
      return send(response, 400, {
        error: { code: 'BAD_BODY', message: 'Send a JSON object of at most 4 kB.' },
      });
    }
    const approval = /^\/api\/approvals\/([^/]+)\/(approve|deny)$/.exec(path);
    const purchase = /^\/api\/purchases\/([^/]+)\/resolve$/.exec(path);
    let result: ActionResult;
    if (approval) {
      result = await decide(payingFetch, decoded(approval[1]!), approval[2] as 'approve' | 'deny');
    } else if (purchase) {
      result = await resolve(payingFetch, decoded(purchase[1]!), body);
    } else {
      return send(response, 404, { error: { code: 'NOT_FOUND', message: 'No such action.' } });
    }
    if (result.status === 500) onError(new Error(`console action ${path} failed`));
    live.poke();
    send(response, result.status, result.body);
  }

  async function exportCsv(response: ServerResponse, query: URLSearchParams, head: boolean) {
    let records: readonly unknown[];
    try {
      records = await ledger!.list();
    } catch (error) {
      return send(response, 503, {
        error: { code: 'STORE_UNAVAILABLE', message: messageOf(error) },
      });
    }
    const chosen = exportable(records, parseFilter(query), matches);
    const csv = Buffer.from(exportLedgerCsv(chosen), 'utf8');
    response.writeHead(200, {
      ...COMMON_HEADERS,
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="stipend-ledger.csv"',
      'content-length': String(csv.length),
      'x-stipend-left-out': String(records.length - chosen.length),
    });
    response.end(head ? undefined : csv);
  }

  // A client that trickles its request is cut off; the event stream (a response) is not.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const named = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const names = new Set([`${named}:${port}`.toLowerCase()]);
  if (isLoopbackHost(host)) {
    for (const alias of ['127.0.0.1', 'localhost', '[::1]']) names.add(`${alias}:${port}`);
  }
  config = { token, hosts: options.allowRemote ? 'any' : names };
  return {
    url: `http://${named}:${port}/${token}/`,
    token,
    port,
    pageBytes: pageWeight(assets),
    async close() {
      live.close();
      server.closeAllConnections?.();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A path segment decoded, or `''` (refused as an id) when it is not valid percent-encoding. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

function serveAsset(response: ServerResponse, asset: Asset, head: boolean): void {
  response.writeHead(200, {
    ...COMMON_HEADERS,
    'content-type': asset.type,
    'content-length': String(asset.body.length),
    ...(asset.type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP } : {}),
  });
  response.end(head ? undefined : asset.body);
}

function send(response: ServerResponse, status: number, body: unknown, head = false): void {
  const text = Buffer.from(
    JSON.stringify(body, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)),
    'utf8',
  );
  response.writeHead(status, {
    ...COMMON_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(text.length),
  });
  response.end(head ? undefined : text);
}

/** The request's JSON object (at most {@link MAX_BODY} bytes; empty means `{}`), or `undefined`. */
async function readBody(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      request.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
