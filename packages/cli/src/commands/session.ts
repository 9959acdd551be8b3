/**
 * What `stipend fetch` (and its dry run) pays with: settings, wallets, policy, the ledger file
 * and budgets that remember it, the proxy-aware fetch, and the approver.
 *
 * @module
 */
import {
  createMemoryBudgetStore,
  createPayingFetch,
  type OfferSummary,
  type PayingFetch,
} from '@stipend/client';
import { cliApprover } from '../approve/approver.js';
import { homeFiles } from '../home.js';
import { type NodeFetch, nodeFetch } from '../http/node-fetch.js';
import type { CliIo } from '../io.js';
import { withHistory } from '../ledger/history-budget.js';
import { type JsonlLedger, openJsonlLedger } from '../ledger/jsonl.js';
import { type LoadedPolicy, loadPolicy } from '../policy/load.js';
import { buildPayingParts, type PayingParts } from '../wallets/build.js';
import { fileCredentialStore } from '../wallets/credential-file.js';
import { loadWalletSettings, type WalletSettings } from '../wallets/settings.js';

/** Where a session reads its configuration from (command-line flags). */
export interface SessionFlags {
  readonly wallets?: string;
  readonly policy?: string;
  readonly ledger?: string;
  readonly yes?: boolean;
}

/** A paying fetch and everything around it. */
export interface PayingSession {
  readonly payingFetch: PayingFetch;
  readonly settings: WalletSettings;
  readonly parts: PayingParts;
  readonly ledger: JsonlLedger;
  readonly policy: LoadedPolicy;
  readonly http: NodeFetch;
  /** The offers of every 402 read so far (secret-free summaries). */
  readonly offersSeen: OfferSummary[];
  close(): Promise<void>;
}

/**
 * Opens a session: reads wallets and policy, opens the ledger, builds the paying fetch.
 *
 * @throws {CliError} when a setting, the policy or the ledger cannot be used.
 * @example
 * ```ts
 * import { openSession } from './session.js';
 * import { processIo } from '../io.js';
 * const session = openSession(processIo(), { policy: 'policy.json' });
 * const res = await session.payingFetch('https://api.example.com/paid');
 * await session.close();
 * ```
 */
export function openSession(io: CliIo, flags: SessionFlags): PayingSession {
  const files = homeFiles(io.env);
  const settings = loadWalletSettings({
    env: io.env,
    defaultFile: files.wallets,
    ...(flags.wallets !== undefined ? { explicitFile: flags.wallets } : {}),
  });
  const policy = loadPolicy(flags.policy, files.policy);
  const ledger = openJsonlLedger(flags.ledger ?? files.ledger);
  const http = nodeFetch(io.env);
  const parts = buildPayingParts(settings, {
    fetch: http.fetch,
    credentials: fileCredentialStore(files.credentials),
  });
  const payingFetch = createPayingFetch({
    wallets: parts.wallets,
    adapters: parts.adapters,
    prices: parts.prices,
    ...(policy.policy ? { policy: policy.policy } : {}),
    budget: withHistory(createMemoryBudgetStore(), ledger.history),
    ledger,
    fetch: http.fetch,
    approver: cliApprover({ io, yes: flags.yes === true }),
  });
  const offersSeen: OfferSummary[] = [];
  payingFetch.on('challenge', (event) => {
    offersSeen.push(...event.offers);
  });
  return {
    payingFetch,
    settings,
    parts,
    ledger,
    policy,
    http,
    offersSeen,
    close: () => http.close(),
  };
}
