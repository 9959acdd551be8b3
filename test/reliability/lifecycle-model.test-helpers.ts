/**
 * The world of the purchase-lifecycle model (`lifecycle-model.test.ts`): the `stipend-test`
 * rail, a seller and wallets the model steers step by step, paying fetches ("processes") that
 * share one journal, budget store, ledger and approval store, and the invariants checked
 * against the rail's own records after every step.
 *
 * - Time: one fake clock (`now` of createPayingFetch, authorizations' `validUntil`) moves
 *   together with the fake `setTimeout` that drives every deadline (wallet, seller). When the
 *   clock passes an authorization's `validUntil`, the rail voids it (chain time).
 * - A process "crashes" by stopping dead: every store operation, wallet call and request it
 *   starts afterwards never returns (optionally after N more operations, so it can die between
 *   two writes of one transition). A new process opens the same stores.
 * - Wallets know their payment's reference before paying (`referenceFor`, like an L402
 *   payment hash), look it up on the rail, recover final proofs, and (per scenario) void
 *   unused authorizations. The seller redeems, refuses, lies, drops or holds paid requests,
 *   and may settle an authorization it refused later, until it expires.
 *
 * Money is counted at the rail: an authorization can move money once the seller holds it,
 * until it is settled, voided or expired; a final payment has moved when the wallet paid.
 */
import {
  type ApprovalStore,
  type BudgetStore,
  createMemoryApprovalStore,
  createMemoryBudgetStore,
  createMemoryLedger,
  createMemoryPurchaseJournal,
  createPayingFetch,
  isStipendError,
  type Ledger,
  type PayContext,
  type PayingFetch,
  type PaymentOffer,
  type Proof,
  type PurchaseJournal,
  type PurchaseRecord,
  type Reservation,
  type SpendPolicy,
  type SpendRecord,
  type Wallet,
  WalletError,
  windowStart,
} from '@stipend/client';
import {
  CHALLENGE_HEADER,
  createTestRail,
  ERROR_HEADER,
  PROOF_HEADER,
  PROTOCOL,
  RECEIPT_HEADER,
  SCHEME,
  TEST_USDC,
  type TestRail,
  testAdapter,
  type WireOffer,
} from '@stipend/testkit/core';
import { vi } from 'vitest';

export const ORIGIN = 'https://shop.example.com';
/** Deadlines (fake timers) and policy times, ms. */
export const PAY_TIMEOUT_MS = 1_000;
export const SEND_TIMEOUT_MS = 2_000;
export const AUTH_TTL_SEC = 60;
export const APPROVAL_TTL_MS = 5 * 60_000;
const START = Date.UTC(2026, 0, 15, 12, 0, 0);

/** Routes: ids starting with `f` are paid by the final wallet, the others are authorizations. */
export const ROUTES: Readonly<Record<string, readonly { id: string; amount: bigint }[]>> = {
  '/a': [{ id: 'a', amount: 3_000n }],
  '/b': [{ id: 'b', amount: 7_000n }],
  '/f': [{ id: 'f', amount: 2_000n }],
  '/big': [{ id: 'big', amount: 9_000n }],
  '/two': [
    { id: 'x', amount: 4_000n },
    { id: 'fy', amount: 2_500n },
  ],
};
export const PATHS = Object.keys(ROUTES);

/** The limits the model checks (USD micros; TEST_USDC: 1 atomic unit = 1 µUSD). */
const WINDOW = { kind: 'rolling', ms: 10 * 60_000 } as const;
export const LIMITS = [
  { scope: 'global', window: WINDOW, maxUsdMicros: 25_000n, maxCount: 6 },
  { scope: 'tag:c0', window: WINDOW, maxUsdMicros: 8_000n },
  { scope: 'tag:c1', window: { kind: 'total' } as const, maxUsdMicros: 12_000n },
] as const;
export const PER_REQUEST = { global: 10_000n, 'tag:c0': 5_000n } as Record<string, bigint>;
export const APPROVE_ABOVE = 8_000n;

export const POLICY: SpendPolicy = {
  global: {
    maxPerRequest: { usd: '0.01' },
    limits: [{ usd: '0.025', window: { rolling: '10m' } }],
    maxRequests: [{ count: 6, window: { rolling: '10m' } }],
    approveAbove: '0.008',
    maxAuthorizationTtlSec: AUTH_TTL_SEC,
  },
} as SpendPolicy;
export const CHILD_RULES = [
  {
    name: 'c0',
    maxPerRequest: { usd: '0.005' },
    limits: [{ usd: '0.008', window: { rolling: '10m' } }],
  },
  { name: 'c1', limits: [{ usd: '0.012', window: { total: true } }] },
] as const;

export type WalletFault = 'fail' | 'fail-unknown' | 'paid-unknown' | 'hold-before' | 'hold-after';
export type SellerFault = 'refuse' | 'lie' | 'drop' | 'drop-before' | 'error-500' | 'hold';
export type SellerRelease = 'ok' | 'refuse' | 'drop';

/** What one scenario fixes before its commands. */
export interface ScenarioSpec {
  readonly preauthorize: boolean;
  /** Wallets can void an unused authorization (like revoking a Stripe token). */
  readonly walletVoids: boolean;
  /** Wallets tell the payment's reference before paying (`referenceFor`, like L402 / EIP-3009). */
  readonly referenceFirst: boolean;
  /**
   * A deliberately broken part, to show the model catches it: a journal that forgets every
   * purchase (`forgetful-journal`), or a budget store that releases what it should commit
   * (`releasing-budget`).
   */
  readonly mutant?: 'forgetful-journal' | 'releasing-budget';
}

/** One paying fetch and its two children: a "process". */
export interface Proc {
  readonly id: number;
  alive: boolean;
  /** Operations left before it dies (`undefined`: it lives on). */
  opsLeft?: number;
  /** Dies right after the first operation of this name (`b.reserve`, `j.transition→void`…). */
  dieAfter?: string;
  fetch: PayingFetch;
  children: PayingFetch[];
}

/** A payment the wallets started, keyed by its reference (known before paying). */
interface Entry {
  readonly reference: string;
  readonly key: string;
  readonly reservationId: string;
  readonly offerId: string;
  readonly amount: bigint;
  readonly payee: string;
  readonly settlement: 'final' | 'authorization';
  readonly validUntil: number;
  readonly proc: Proc;
  inProgress: boolean;
  railRef?: string;
  secret?: string;
  sellerSaw: boolean;
}

interface Gate {
  readonly kind: 'wallet-before' | 'wallet-after' | 'seller';
  readonly proc: Proc;
  readonly open: (how: string) => void;
}

/** A call or another public-API task the model started. */
interface Task {
  readonly label: string;
  readonly proc: Proc;
  done: boolean;
  result?: string;
}

/** What a run reached (to check that the generators reach the interesting cases). */
export interface Tally {
  steps: number;
  calls: number;
  payments: number;
  settled: number;
  refusals: number;
  unknown: number;
  timeouts: number;
  lateAnswers: number;
  approvals: number;
  crashes: number;
  reconciles: number;
  alreadyPaid: number;
}

const DEBUG = process.env.STIPEND_MODEL_DEBUG === '1';
const never = <T>(): Promise<T> => new Promise<T>(() => {});

/** The whole model: rail, shared stores, processes, gates, faults, tasks. */
export class World {
  readonly rail: TestRail = createTestRail();
  readonly journal: PurchaseJournal = createMemoryPurchaseJournal();
  readonly budget: BudgetStore = createMemoryBudgetStore();
  readonly ledger: {
    list(): readonly SpendRecord[];
    get(id: string): SpendRecord | undefined;
  } & Ledger = createMemoryLedger();
  readonly approvals: ApprovalStore = createMemoryApprovalStore();
  readonly procs: Proc[] = [];
  readonly entries = new Map<string, Entry>();
  readonly byRail = new Map<string, Entry>();
  readonly bySecret = new Map<string, Entry>();
  readonly reservationIds = new Set<string>();
  readonly approved = new Set<string>();
  readonly gates: Gate[] = [];
  readonly tasks: Task[] = [];
  walletFaults: WalletFault[] = [];
  sellerFaults: SellerFault[] = [];
  clock = START;
  /** Bumped by every effect: quiescence is when it stops moving. */
  tick = 0;
  fresh = 0;
  readonly trace: string[] = [];
  readonly problems: string[] = [];

  constructor(
    readonly spec: ScenarioSpec,
    readonly tally: Tally,
  ) {
    this.spawn();
  }

  log(line: string): void {
    this.trace.push(line);
    if (this.trace.length > 400) this.trace.shift();
  }

  alive(): Proc[] {
    return this.procs.filter((proc) => proc.alive);
  }

  /** Runs one effect of `proc`, unless it is dead (then it never returns). */
  op<T>(proc: Proc, effect: () => T | Promise<T>, name = 'op'): Promise<T> {
    this.tick++;
    if (!proc.alive) return never();
    if (DEBUG) this.log(`  p${proc.id} ${name}`);
    if (proc.opsLeft !== undefined) {
      if (proc.opsLeft <= 0) {
        this.kill(proc);
        return never();
      }
      proc.opsLeft--;
    }
    // Dies right after this effect: the next one never runs.
    if (proc.dieAfter !== undefined && name === proc.dieAfter) proc.opsLeft = 0;
    return new Promise<T>((resolve) => resolve(effect()));
  }

  kill(proc: Proc): void {
    if (!proc.alive) return;
    proc.alive = false;
    this.log(`process ${proc.id} died`);
  }

  /** A new process over the shared stores, with its two children. */
  spawn(): Proc {
    const proc = { id: this.procs.length, alive: true } as Proc;
    const wallets = [
      modelWallet(this, proc, 'wallet-auth', 'authorization'),
      modelWallet(this, proc, 'wallet-final', 'final'),
    ];
    proc.fetch = createPayingFetch({
      adapters: [testAdapter({ preauthorize: this.spec.preauthorize })],
      defaultAdapters: false,
      wallets,
      policy: POLICY,
      journal: guardJournal(this, proc),
      budget: guardBudget(this, proc),
      ledger: guardLedger(this, proc),
      approvals: { mode: 'pending', store: guardApprovals(this, proc), ttlMs: APPROVAL_TTL_MS },
      fetch: ((input: RequestInfo | URL, init?: RequestInit) =>
        this.op(proc, () => seller(this, proc, new Request(input, init)), 'send')) as typeof fetch,
      now: () => this.clock,
      payTimeoutMs: PAY_TIMEOUT_MS,
      timeoutMs: SEND_TIMEOUT_MS,
      preauthorize: this.spec.preauthorize,
    });
    proc.children = CHILD_RULES.map((rule) => proc.fetch.child(rule as never));
    this.procs.push(proc);
    this.log(`process ${proc.id} started`);
    return proc;
  }

  /** Starts a public-API task without waiting for it. */
  launch(label: string, proc: Proc, work: () => Promise<unknown>): void {
    const task: Task = { label, proc, done: false };
    this.tasks.push(task);
    this.log(`start ${label}`);
    Promise.resolve()
      .then(work)
      .then(
        (value) => {
          task.done = true;
          task.result = value instanceof Response ? `${value.status}` : 'ok';
          this.log(`end ${label}: ${task.result}`);
        },
        (error: unknown) => {
          task.done = true;
          task.result = isStipendError(error) ? error.code : `THROWN ${String(error)}`;
          if (task.result === 'ALREADY_PAID') this.tally.alreadyPaid++;
          if (!isStipendError(error) || error.code === 'INTERNAL') {
            this.problems.push(
              `${label} failed with an untyped or internal error: ${String(error)}`,
            );
          }
          this.log(`end ${label}: ${task.result}`);
        },
      );
  }

  gate(kind: Gate['kind'], proc: Proc): Promise<string> {
    return new Promise((resolve) => {
      this.gates.push({ kind, proc, open: resolve });
    });
  }

  /** Opens the `index`-th gate of a live process (of `kind` when given). */
  release(index: number, how: string, kind?: 'wallet' | 'seller'): void {
    const open = this.gates.filter(
      (gate) => gate.proc.alive && (!kind || gate.kind.startsWith(kind)),
    );
    if (open.length === 0) return;
    const gate = open[index % open.length]!;
    this.gates.splice(this.gates.indexOf(gate), 1);
    this.log(`release ${gate.kind} of process ${gate.proc.id}: ${how}`);
    if (gate.kind !== 'seller') this.tally.lateAnswers++;
    gate.open(how);
  }

  /** Moves the clock (and the fake timers with it); the rail voids what expired. */
  async advance(ms: number): Promise<void> {
    this.clock += ms;
    this.voidExpired();
    await vi.advanceTimersByTimeAsync(ms);
  }

  voidExpired(): void {
    for (const entry of this.entries.values()) {
      if (entry.railRef && entry.settlement === 'authorization' && this.clock > entry.validUntil) {
        this.rail.void(entry.railRef);
      }
    }
  }

  /** Lets every started task run until all wait for a gate, a timer, or have ended. */
  async quiesce(): Promise<void> {
    let stable = 0;
    let last = '';
    for (let turn = 0; turn < 5_000; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const now = `${this.tick}:${this.tasks.filter((task) => task.done).length}`;
      stable = now === last ? stable + 1 : 0;
      last = now;
      if (stable >= 3) return;
    }
    throw new Error('the lifecycle never came to rest (5 000 event-loop turns)');
  }

  /**
   * What a person who asked the seller and the rail would say of a purchase: `paid` when its
   * payment settled, `void` when it was voided or never made (and nobody can make it any
   * more), `undefined` while it can still move.
   */
  truthOf(record: PurchaseRecord): 'paid' | 'void' | undefined {
    const entry = this.entries.get(`m_${record.reservationId}`);
    const payment = entry?.railRef
      ? this.rail.payments().find((p) => p.reference === entry.railRef)
      : undefined;
    if (payment?.settled) return 'paid';
    if (payment?.voided) return 'void';
    if (!payment && !(entry?.inProgress && entry.proc.alive)) return 'void';
    return undefined;
  }

  /** The rail's payments with what the model knows of each. */
  railRows() {
    return this.rail.payments().map((payment) => {
      const entry = this.byRail.get(payment.reference);
      if (!entry) throw new Error(`rail payment ${payment.reference} made outside the wallets`);
      const live =
        payment.settlement === 'authorization' &&
        !payment.settled &&
        !payment.voided &&
        entry.sellerSaw;
      return { payment, entry, live, atRisk: payment.settled || live };
    });
  }
}

/** The seller: a 402 without a proof; with one, what the next seller fault says. */
async function seller(world: World, proc: Proc, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const offers = ROUTES[url.pathname];
  if (!offers) return new Response('no such route', { status: 404 });
  const wire: WireOffer[] = offers.map((offer) => ({
    id: offer.id,
    amount: offer.amount.toString(),
    unit: TEST_USDC,
    payee: 'shop',
  }));
  const challenge = (error?: string) =>
    new Response('{"error":"payment required"}', {
      status: 402,
      headers: {
        [CHALLENGE_HEADER]: JSON.stringify(wire),
        ...(error ? { [ERROR_HEADER]: error } : {}),
      },
    });
  const proof = request.headers.get(PROOF_HEADER);
  if (!proof) return challenge();
  const space = proof.indexOf(' ');
  const offerId = proof.slice(0, space);
  const secret = proof.slice(space + 1);
  const entry = world.bySecret.get(secret);
  if (entry) entry.sellerSaw = true;
  const offer = offers.find((candidate) => candidate.id === offerId);
  const redeem = () =>
    offer
      ? world.rail.redeem(secret, { offerId, amount: offer.amount, payee: 'shop' })
      : 'mismatch';
  let fault: SellerFault | SellerRelease = world.sellerFaults.shift() ?? 'ok';
  world.log(`seller got ${offerId} (${entry?.reference ?? '?'}): ${fault}`);
  if (fault === 'hold') {
    fault = (await world.gate('seller', proc)) as SellerRelease;
    if (!proc.alive) return never();
  }
  switch (fault) {
    case 'ok': {
      const result = redeem();
      if (result !== 'ok') {
        world.tally.refusals++;
        return challenge(result);
      }
      return new Response('{"paid":true}', { status: 200, headers: { [RECEIPT_HEADER]: offerId } });
    }
    case 'refuse':
      world.tally.refusals++;
      return challenge('refused');
    case 'lie':
      redeem();
      world.tally.refusals++;
      return challenge('refused');
    case 'error-500':
      redeem();
      return new Response('oops', { status: 500 });
    case 'drop':
      redeem();
      world.tally.unknown++;
      throw new TypeError('fetch failed: connection reset');
    case 'drop-before':
      world.tally.unknown++;
      throw new TypeError('fetch failed: connection reset');
  }
  throw new Error(`unknown seller fault ${fault}`);
}

/** A wallet of the `stipend-test` rail steered by the model's wallet faults. */
function modelWallet(
  world: World,
  proc: Proc,
  id: string,
  settlement: 'final' | 'authorization',
): Wallet {
  const mine = (offer: PaymentOffer) => offer.id.startsWith('f') === (settlement === 'final');
  const proofOf = (entry: Entry): Proof => ({
    offerId: entry.offerId,
    reference: entry.reference,
    settlement,
    ...(settlement === 'authorization' ? { validUntil: entry.validUntil } : {}),
    secret: entry.secret,
  });
  const payOnRail = (entry: Entry) => {
    const { reference, secret } = world.rail.pay({
      offerId: entry.offerId,
      amount: entry.amount,
      payee: entry.payee,
      settlement,
    });
    entry.railRef = reference;
    entry.secret = secret;
    world.byRail.set(reference, entry);
    world.bySecret.set(secret, entry);
    world.tally.payments++;
    world.log(
      `${id} of process ${proc.id} paid ${entry.offerId} (${entry.reference}, key ${entry.key})`,
    );
  };
  const wallet: Wallet = {
    id,
    rails: [`${PROTOCOL}:${SCHEME}`],
    canPay: (offer) =>
      world.op(
        proc,
        async () => {
          await null; // an allowance read, say: other calls run meanwhile
          return mine(offer) ? true : `${id} pays only ${settlement} offers`;
        },
        'canPay',
      ),
    ...(world.spec.referenceFirst
      ? {
          referenceFor: (_offer: PaymentOffer, context: PayContext) => `m_${context.reservationId}`,
        }
      : {}),
    pay: (offer, context) =>
      world.op(
        proc,
        async () => {
          const reference = `m_${context.reservationId}`;
          if (world.entries.has(reference)) {
            world.problems.push(`reservation ${context.reservationId} was paid twice`);
          }
          const entry: Entry = {
            reference,
            key: context.idempotencyKey,
            reservationId: context.reservationId,
            offerId: offer.id,
            amount: offer.amount.value,
            payee: offer.payee,
            settlement,
            validUntil: context.now + context.maxAuthorizationTtlSec * 1000,
            proc,
            inProgress: true,
            sellerSaw: false,
          };
          world.entries.set(reference, entry);
          context.signal?.addEventListener('abort', () => world.tally.timeouts++, { once: true });
          const fault = world.walletFaults.shift() ?? 'ok';
          world.log(
            `${id} of process ${proc.id} asked to pay ${offer.id} (key ${entry.key}): ${fault}`,
          );
          try {
            switch (fault) {
              case 'fail':
                throw new WalletError({ walletId: id, message: 'declined', paid: false });
              case 'fail-unknown':
                world.tally.unknown++;
                throw new WalletError({ walletId: id, message: 'node timed out', paid: 'unknown' });
              case 'paid-unknown':
                payOnRail(entry);
                world.tally.unknown++;
                throw new WalletError({
                  walletId: id,
                  message: 'node timed out after paying',
                  paid: 'unknown',
                  reference,
                });
              case 'hold-before': {
                const how = await world.gate('wallet-before', proc);
                if (!proc.alive) return never<Proof>();
                if (how === 'fail')
                  throw new WalletError({ walletId: id, message: 'late decline', paid: false });
                payOnRail(entry);
                return proofOf(entry);
              }
              case 'hold-after':
                payOnRail(entry);
                await world.gate('wallet-after', proc);
                if (!proc.alive) return never<Proof>();
                return proofOf(entry);
              default:
                payOnRail(entry);
                return proofOf(entry);
            }
          } finally {
            entry.inProgress = false;
          }
        },
        'pay',
      ),
    lookup: (reference) =>
      world.op(
        proc,
        () => {
          const entry = world.entries.get(reference);
          if (!entry) return 'failed' as const;
          if (entry.railRef) return world.rail.lookup(entry.railRef);
          // Not (yet) paid: pending while a live process may still pay it.
          return entry.inProgress && entry.proc.alive ? ('pending' as const) : ('failed' as const);
        },
        'lookup',
      ),
    recover: (reference, offer) =>
      world.op(
        proc,
        () => {
          const entry = world.entries.get(reference);
          if (settlement !== 'final' || !entry?.railRef || entry.offerId !== offer.id)
            return undefined;
          if (world.rail.lookup(entry.railRef) !== 'paid') return undefined;
          return proofOf(entry);
        },
        'recover',
      ),
    ...(world.spec.walletVoids
      ? {
          void: (reference: string) =>
            world.op(
              proc,
              () => {
                const entry = world.entries.get(reference);
                if (!entry?.railRef) return false;
                world.rail.void(entry.railRef);
                const payment = world.rail.payments().find((p) => p.reference === entry.railRef);
                return payment?.voided === true;
              },
              'void',
            ),
        }
      : {}),
  };
  return wallet;
}

function guardJournal(world: World, proc: Proc): PurchaseJournal {
  const j = world.journal;
  return {
    open: (record) =>
      world.op(
        proc,
        () =>
          world.spec.mutant === 'forgetful-journal'
            ? j.open({ ...record, key: `${record.key}#${record.id}` })
            : j.open(record),
        'j.open',
      ),
    transition: (...args) => world.op(proc, () => j.transition(...args), `j.transition→${args[2]}`),
    get: (id) => world.op(proc, () => j.get(id), 'j.get'),
    byKey: (key) =>
      world.op(
        proc,
        () => (world.spec.mutant === 'forgetful-journal' ? [] : j.byKey(key)),
        'j.byKey',
      ),
    list: (filter) => world.op(proc, () => j.list(filter), 'j.list'),
  };
}

function guardBudget(world: World, proc: Proc): BudgetStore {
  const b = world.budget;
  return {
    reserve: (request) =>
      world.op(
        proc,
        async () => {
          const result = await b.reserve(request);
          if (result.ok) world.reservationIds.add(request.id);
          return result;
        },
        'b.reserve',
      ),
    commit: (id, usd) =>
      world.op(
        proc,
        () => (world.spec.mutant === 'releasing-budget' ? b.release(id) : b.commit(id, usd)),
        'b.commit',
      ),
    release: (id) => world.op(proc, () => b.release(id), 'b.release'),
    usage: (limit, now) => world.op(proc, () => b.usage(limit, now), 'b.usage'),
    get: (id) => world.op(proc, () => b.get(id), 'b.get'),
    expired: (now) => world.op(proc, () => b.expired(now), 'b.expired'),
  };
}

function guardLedger(world: World, proc: Proc): Ledger {
  const l = world.ledger;
  return {
    append: (record) => world.op(proc, () => l.append(record), 'l.append'),
    update: (id, patch) => world.op(proc, () => l.update(id, patch), 'l.update'),
    list: () => world.op(proc, () => l.list(), 'l.list'),
    get: (id) => world.op(proc, () => l.get(id), 'l.get'),
  };
}

function guardApprovals(world: World, proc: Proc): ApprovalStore {
  const a = world.approvals;
  return {
    put: (approval) => world.op(proc, () => a.put(approval), 'a.put'),
    get: (id) => world.op(proc, () => a.get(id), 'a.get'),
    forPurchase: (key) => world.op(proc, () => a.forPurchase(key), 'a.forPurchase'),
    update: (id, patch) => world.op(proc, () => a.update(id, patch), 'a.update'),
    transition: (id, from, to) => world.op(proc, () => a.transition(id, from, to), 'a.transition'),
    list: () => world.op(proc, () => a.list(), 'a.list'),
  };
}

const UNDER_WAY = new Set(['decided', 'authorizing', 'signed', 'sent']);

/**
 * The invariants, against the rail's own records, after every step. Returns what is broken.
 * 1. at most one live authorization per purchase (idempotency key);
 * 2. budget committed + held ≥ money that moved or can still move (in total, and per
 *    reservation: a reservation pays at most once and counts what its payment put at risk);
 * 4. an idempotency key is never paid twice (settled or live payments per key ≤ 1);
 * 5. no policy limit is exceeded, at the rail and in the store; nothing above approveAbove
 *    moves without a person's approval, claimed once.
 */
export async function stepViolations(world: World): Promise<string[]> {
  const problems = [...world.problems];
  const rows = world.railRows();
  const perKey = new Map<string, { live: number; settled: number; atRisk: number }>();
  for (const row of rows) {
    const count = perKey.get(row.entry.key) ?? { live: 0, settled: 0, atRisk: 0 };
    if (row.live) count.live++;
    if (row.payment.settled) count.settled++;
    if (row.atRisk) count.atRisk++;
    perKey.set(row.entry.key, count);
  }
  for (const [key, count] of perKey) {
    if (count.live > 1) problems.push(`inv 1: key ${key} has ${count.live} live authorizations`);
    if (count.settled > 1) problems.push(`inv 4: key ${key} was paid ${count.settled} times`);
    else if (count.atRisk > 1)
      problems.push(`inv 1/4: key ${key} has ${count.atRisk} payments that moved or can move`);
  }

  const reservations = new Map<string, Reservation>();
  for (const id of world.reservationIds) {
    const reservation = await world.budget.get(id);
    if (reservation) reservations.set(id, reservation);
  }
  const counted = (r: Reservation | undefined) =>
    r?.state === 'held'
      ? r.usdMicros
      : r?.state === 'committed'
        ? (r.committedUsdMicros ?? 0n)
        : 0n;
  let budgetTotal = 0n;
  for (const reservation of reservations.values()) budgetTotal += counted(reservation);
  let moneyTotal = 0n;
  const perReservation = new Map<string, { payments: number; atRisk: bigint }>();
  for (const row of rows) {
    const slot = perReservation.get(row.entry.reservationId) ?? { payments: 0, atRisk: 0n };
    slot.payments++;
    if (row.atRisk) {
      slot.atRisk += row.payment.amount;
      moneyTotal += row.payment.amount;
    }
    perReservation.set(row.entry.reservationId, slot);
  }
  if (budgetTotal < moneyTotal) {
    problems.push(
      `inv 2: budget counts ${budgetTotal} µUSD, the rail has ${moneyTotal} moved or movable`,
    );
  }
  for (const [id, slot] of perReservation) {
    const reservation = reservations.get(id);
    if (slot.payments > 1) problems.push(`inv 2: reservation ${id} paid ${slot.payments} times`);
    if (counted(reservation) < slot.atRisk) {
      problems.push(
        `inv 2: reservation ${id} is ${reservation?.state ?? 'missing'} (${counted(reservation)} µUSD) but ${slot.atRisk} µUSD moved or can move`,
      );
    }
  }

  // 5. Limits, at the rail (money at risk per scope and window) and in the store.
  for (const limit of LIMITS) {
    const start = windowStart(limit.window, world.clock);
    let usd = 0n;
    let count = 0;
    for (const [id, slot] of perReservation) {
      const reservation = reservations.get(id);
      if (!reservation || slot.atRisk === 0n || reservation.at < start) continue;
      if (!reservation.limits.some((l) => l.scope === limit.scope)) continue;
      usd += slot.atRisk;
      count++;
    }
    if (usd > limit.maxUsdMicros)
      problems.push(
        `inv 5: ${limit.scope} has ${usd} µUSD at the rail, limit ${limit.maxUsdMicros}`,
      );
    const maxCount = 'maxCount' in limit ? limit.maxCount : undefined;
    if (maxCount !== undefined && count > maxCount) {
      problems.push(`inv 5: ${limit.scope} has ${count} payments at the rail, limit ${maxCount}`);
    }
    const usage = await world.budget.usage(limit, world.clock);
    if (usage.committedUsdMicros + usage.heldUsdMicros > limit.maxUsdMicros) {
      problems.push(
        `inv 5: the store counts ${usage.committedUsdMicros + usage.heldUsdMicros} µUSD in ${limit.scope}`,
      );
    }
    if (maxCount !== undefined && usage.count > maxCount) {
      problems.push(`inv 5: the store counts ${usage.count} payments in ${limit.scope}`);
    }
  }
  const approvals = await world.approvals.list();
  for (const row of rows) {
    if (!row.atRisk) continue;
    const reservation = reservations.get(row.entry.reservationId);
    for (const l of reservation?.limits ?? []) {
      const cap = PER_REQUEST[l.scope];
      if (cap !== undefined && row.payment.amount > cap) {
        problems.push(`inv 5: ${row.payment.amount} µUSD paid under ${l.scope}, cap ${cap}`);
      }
    }
    if (row.payment.amount > APPROVE_ABOVE) {
      const approval = approvals.find((a) => a.reservationId === row.entry.reservationId);
      if (!approval || !world.approved.has(approval.id) || approval.state !== 'used') {
        problems.push(
          `inv 5: ${row.payment.amount} µUSD (above approveAbove) paid without an approval claimed once (${approval?.state ?? 'none'})`,
        );
      }
    }
  }
  return problems;
}

/**
 * Invariant 3 and "every call ends", after the final reconciliation (every authorization
 * expired or settled): ledger committed = budget committed = rail settled, nothing held,
 * no purchase under way, and the ledger shows each purchase's state.
 */
export async function finalViolations(world: World): Promise<string[]> {
  const problems: string[] = [];
  for (const task of world.tasks) {
    if (task.proc.alive && !task.done) problems.push(`inv 7: ${task.label} never ended`);
  }
  const railSettled = world.rail.settledTotal();
  let ledgerCommitted = 0n;
  for (const record of world.ledger.list()) {
    if (record.status === 'committed') ledgerCommitted += record.committedUsdMicros ?? 0n;
  }
  const records: readonly PurchaseRecord[] = await world.journal.list();
  // Money the rail settled for purchases under way that nobody can look up (no reference).
  let underWay = 0n;
  for (const record of records) {
    if (!UNDER_WAY.has(record.state) || record.reference) continue;
    const entry = world.entries.get(`m_${record.reservationId}`);
    const payment = entry?.railRef
      ? world.rail.payments().find((p) => p.reference === entry.railRef)
      : undefined;
    if (payment?.settled) underWay += payment.amount;
  }
  const why = (gap: bigint) =>
    underWay > 0n && gap === underWay
      ? ' (all of it paid by purchases under way without a reference)'
      : '';
  if (ledgerCommitted !== railSettled) {
    problems.push(
      `inv 3: the ledger committed ${ledgerCommitted} µUSD, the rail settled ${railSettled}${why(railSettled - ledgerCommitted)}`,
    );
  }
  let committed = 0n;
  const approvals = await world.approvals.list();
  for (const id of world.reservationIds) {
    const reservation = await world.budget.get(id);
    if (reservation?.state === 'committed') committed += reservation.committedUsdMicros ?? 0n;
    if (reservation?.state !== 'held') continue;
    const record = records.find((r) => r.reservationId === id);
    const approval = approvals.find((a) => a.reservationId === id);
    const owner = record
      ? `purchase ${record.id} (${record.state}${record.booked ? '' : ', not booked'}${record.reference ? '' : ', no reference'})`
      : approval
        ? `approval ${approval.id} (${approval.state})`
        : 'no purchase and no approval: a crash between reserve and journal open';
    problems.push(
      `inv 3: reservation ${id} still holds ${reservation.usdMicros} µUSD after the final reconcile; it belongs to ${owner}`,
    );
  }
  if (committed !== railSettled) {
    problems.push(
      `inv 3: the budget committed ${committed} µUSD, the rail settled ${railSettled}${why(railSettled - committed)}`,
    );
  }
  for (const record of records) {
    if (UNDER_WAY.has(record.state)) {
      problems.push(
        `inv 3: purchase ${record.id} (${record.key}) is still ${record.state}${record.reference ? '' : ' (no reference)'}`,
      );
    }
    const spend = world.ledger.get(record.id);
    const expected =
      record.state === 'paid' || record.state === 'delivered'
        ? 'committed'
        : record.state === 'void'
          ? 'released'
          : record.state === 'live' || record.state === 'unknown'
            ? 'held'
            : 'pending';
    // A purchase voided before its spend record was written (a crash between the journal and
    // the ledger) moved nothing; it may have no record.
    if (spend === undefined && record.state === 'void') continue;
    if (spend?.status !== expected) {
      problems.push(
        `inv 3: purchase ${record.id} is ${record.state} but its spend record is ${spend?.status ?? 'missing'}`,
      );
    }
  }
  return problems;
}

/** Settles the world: answers every gate, lets every authorization expire, reconciles. */
export async function settleWorld(world: World): Promise<void> {
  world.walletFaults = [];
  world.sellerFaults = [];
  for (let round = 0; round < 5; round++) {
    for (
      let gate = world.gates.find((g) => g.proc.alive);
      gate;
      gate = world.gates.find((g) => g.proc.alive)
    ) {
      world.release(0, gate.kind === 'wallet-before' ? 'fail' : 'ok');
      await world.quiesce();
    }
    await world.advance(30 * 60_000);
    await world.quiesce();
    if (!world.gates.some((gate) => gate.proc.alive)) break;
  }
  const last = world.spawn();
  world.launch('final approvals.expire()', last, () => last.fetch.approvals.expire());
  await world.quiesce();
  for (let pass = 1; pass <= 2; pass++) {
    world.launch(`final reconcile() #${pass}`, last, () => last.fetch.reconcile());
    await world.quiesce();
  }
  // What no rail can be asked about (no reference) a person resolves, truthfully.
  for (const record of await world.journal.list()) {
    if (record.reference || FINAL_OR_SPENT.has(record.state)) continue;
    const as = world.truthOf(record);
    if (!as) continue;
    world.launch(`final resolve ${record.id} (${record.state}) as ${as}`, last, () =>
      last.fetch.reconcile({ resolve: { id: record.id, as } }),
    );
    await world.quiesce();
  }
}

const FINAL_OR_SPENT = new Set(['void', 'delivered', 'paid']);
