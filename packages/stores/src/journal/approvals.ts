/**
 * Pending approvals replicated from a {@link JournalLog}: every `put`, `update` and winning
 * `transition` is one fenced journal entry, so an approval decided in one process (or tab) is
 * seen by the agent in another, survives a restart, and is claimed by exactly one caller.
 *
 * @module
 */
import type { ApprovalState, ApprovalStore, PendingApproval } from '@stipend/client';
import { decodeJson, encodeJson } from '../codec.js';
import { storeCorrupt } from '../errors.js';
import type { JournalLog } from './log.js';
import { createReplica } from './replica.js';

/** A persisted approval store: every method is asynchronous. */
export interface PersistedApprovalStore extends ApprovalStore {
  put(approval: PendingApproval): Promise<void>;
  get(id: string): Promise<PendingApproval | undefined>;
  forPurchase(purchaseKey: string): Promise<PendingApproval | undefined>;
  update(id: string, patch: Partial<PendingApproval>): Promise<void>;
  transition(id: string, from: ApprovalState, to: ApprovalState): Promise<boolean>;
  list(): Promise<readonly PendingApproval[]>;
  /** Releases the underlying file or database. */
  close(): Promise<void>;
}

type Op =
  | { t: 'p'; approval: PendingApproval }
  | { t: 'u'; id: string; patch: Partial<PendingApproval> };
type State = Map<string, PendingApproval>;

function apply(state: State, op: Op): void {
  if (op.t === 'p') {
    state.set(op.approval.id, Object.freeze({ ...op.approval }));
    return;
  }
  const approval = state.get(op.id);
  if (!approval) throw new Error(`no pending approval ${op.id}`);
  state.set(op.id, Object.freeze({ ...approval, ...op.patch, id: op.id }));
}

/**
 * Creates an approval store over a journal log.
 *
 * @example
 * ```ts
 * import { createJournaledApprovalStore } from './approvals.js';
 * const approvals = createJournaledApprovalStore(log, 'the approvals journal ./approvals.jsonl');
 * ```
 */
export function createJournaledApprovalStore(
  log: JournalLog,
  describe: string,
): PersistedApprovalStore {
  const replica = createReplica<State>({
    log,
    describe,
    init: () => new Map(),
    apply: (state, json) => {
      try {
        apply(state, decodeJson(json) as Op);
      } catch (error) {
        throw storeCorrupt(
          `Cannot replay entry ${JSON.stringify(json)} from ${describe}.`,
          'The approvals journal was edited by hand or written by an incompatible version; restore it from a backup.',
          error,
        );
      }
    },
  });
  const write = (op: Op) =>
    replica.write(async (state) => {
      apply(state, op);
      return { result: undefined, entry: encodeJson(op) };
    });
  return {
    put: (approval) => write({ t: 'p', approval }),
    update: (id, patch) => write({ t: 'u', id, patch }),
    // Compare-and-set decided on caught-up state under the log's lock, logged as an update:
    // of N processes claiming one approved approval, exactly one appends and gets true.
    transition: (id, from, to) =>
      replica.write(async (state) => {
        if (state.get(id)?.state !== from) return { result: false };
        const op: Op = { t: 'u', id, patch: { state: to } };
        apply(state, op);
        return { result: true, entry: encodeJson(op) };
      }),
    get: (id) => replica.read((state) => state.get(id)),
    forPurchase: (purchaseKey) =>
      replica.read((state) => {
        let found: PendingApproval | undefined;
        for (const approval of state.values()) {
          if (approval.purchaseKey === purchaseKey && approval.state !== 'used') found = approval;
        }
        return found;
      }),
    list: () => replica.read((state) => [...state.values()]),
    close: () => log.close(),
  };
}
