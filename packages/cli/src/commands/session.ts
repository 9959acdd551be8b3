/**
 * What `stipend fetch` (and its dry run) pays with: settings, wallets, policy, the ledger file
 * and budgets that remember it, the session file, the proxy-aware fetch, and the approver.
 *
 * @module
 */
import {
  createMemoryBudgetStore,
  createPayingFetch,
  lightningSessionMethod,
  type OfferSummary,
  type PayingFetch,
} from '@stipend/client';
import { type FileSessionStore, fileSessionStore } from '@stipend/stores/file';
import { cliApprover } from '../approve/approver.js';
import { homeFiles } from '../home.js';
import { type NodeFetch, nodeFetch } from '../http/node-fetch.js';
import type { CliIo } from '../io.js';
import { withHistory } from '../ledger/history-budget.js';
import { type JsonlLedger, openJsonlLedger } from '../ledger/jsonl.js';
import { createProgress, followPayments, type Progress } from '../output/progress.js';
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
  /** Deadline of each request to a seller, ms (`--timeout`); also the transport's. */
  readonly timeoutMs?: number;
}

/** A paying fetch and everything around it. */
export interface PayingSession {
  readonly payingFetch: PayingFetch;
  readonly settings: WalletSettings;
  readonly parts: PayingParts;
  readonly ledger: JsonlLedger;
  readonly policy: LoadedPolicy;
  readonly http: NodeFetch;
  /**
   * Where payment sessions are kept between runs: `sessions.jsonl` in the stipend directory,
   * a journal of `@stipend/stores/file` (closed by {@link PayingSession.close}).
   */
  readonly sessions: FileSessionStore;
  /** The offers of every 402 read so far (secret-free summaries). */
  readonly offersSeen: OfferSummary[];
  /** The progress line on stderr (silent unless stderr is a terminal). */
  readonly progress: Progress;
  /**
   * Ends every connection, the progress line and the session journal: nothing is left to keep
   * the process alive.
   */
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
  const http = nodeFetch(
    io.env,
    flags.timeoutMs !== undefined ? { timeoutMs: flags.timeoutMs } : {},
  );
  const parts = buildPayingParts(settings, {
    fetch: http.fetch,
    credentials: fileCredentialStore(files.credentials),
    ...(flags.timeoutMs !== undefined ? { timeoutMs: flags.timeoutMs } : {}),
  });
  const progress = createProgress(io.stderr);
  const sessions = fileSessionStore(files.sessions);
  const approve = cliApprover({ io, yes: flags.yes === true });
  const payingFetch = createPayingFetch({
    wallets: parts.wallets,
    adapters: parts.adapters,
    prices: parts.prices,
    ...(policy.policy ? { policy: policy.policy } : {}),
    budget: withHistory(createMemoryBudgetStore(), ledger.history),
    ledger,
    fetch: http.fetch,
    approver: async (request, context) => {
      progress.pause(); // the prompt, not the progress line, is on the terminal now
      try {
        return await approve(request, context);
      } finally {
        progress.resume();
      }
    },
    ...(flags.timeoutMs !== undefined ? { timeoutMs: flags.timeoutMs } : {}),
    // A session outlives the command: the next run uses it, `stipend sessions close` ends it
    // (and the seller closes it after its idle timeout, refunding to the return invoice).
    sessions: { methods: [lightningSessionMethod()], store: sessions, idleCloseMs: 0 },
  });
  const unfollow = followPayments(payingFetch, progress);
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
    sessions,
    offersSeen,
    progress,
    close: async () => {
      unfollow();
      progress.stop();
      await Promise.all([http.close(), sessions.close()]);
    },
  };
}
