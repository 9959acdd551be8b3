/**
 * A model-based test (fast-check `fc.commands`) of the policy engine on top of a budget store:
 * random interleavings of reserve (one decision, or a concurrent batch spread over two store
 * instances), commit (lower, equal or above the reservation), release, time moving on, the
 * reconciliation of expired holds, and — for persistent stores — a crash: every in-memory
 * object is dropped (engines, store instances, the decisions in flight) and the store is
 * opened again from the same file / Redis prefix.
 *
 * After every command: no limit of the policy is exceeded (committed + held, and count), every
 * reservation the model knows reads back from the store with the state and amounts the model
 * expects, the store's sums per scope and window equal the model's, and the money reconciles:
 * everything ever reserved is committed, freed by a cheaper commit, released, or still held.
 */
import {
  amount,
  type BudgetLimit,
  type BudgetStore,
  type BudgetWindow,
  createPolicyEngine,
  type Decision,
  freezeOffer,
  isStipendError,
  type PaymentOffer,
  PolicyDeniedError,
  pegPriceSource,
  type SpendPolicy,
  type Unit,
  windowStart,
} from '@stipend/client';
import fc from 'fast-check';
import { expect } from 'vitest';

/** A store under test, with a way to open it again from what it persisted. */
export interface StoreUnderTest {
  readonly store: BudgetStore;
  /** Another instance over the same persisted state (persistent stores only). */
  reopen?(): Promise<BudgetStore> | BudgetStore;
  /** Releases every instance opened for this run. */
  close(): Promise<void>;
}

const MINUTE = 60_000;
const USDC: Unit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913',
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
};
const HOSTS = ['a.example.com', 'b.example.com'] as const;
const TAGS = ['research', 'ops'] as const;
/** The reservation TTL the policy sets (expiry of a hold), seconds. */
const TTL_SEC = 120;

type WindowSpec = { rolling: string } | { calendar: 'day' } | { total: true };
const WINDOWS: readonly [WindowSpec, BudgetWindow][] = [
  [{ rolling: '10m' }, { kind: 'rolling', ms: 10 * MINUTE }],
  [{ rolling: '1h' }, { kind: 'rolling', ms: 60 * MINUTE }],
  [{ calendar: 'day' }, { kind: 'calendar', unit: 'day' }],
  [{ total: true }, { kind: 'total' }],
];

/** One rule's budget: USD limits and request counts, as window indexes. */
interface RuleSpec {
  usd: [number, number][];
  count: [number, number][];
}
const ruleArb: fc.Arbitrary<RuleSpec> = fc.record({
  usd: fc.array(fc.tuple(fc.integer({ min: 0, max: 60_000 }), fc.nat(3)), { maxLength: 2 }),
  count: fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.nat(3)), { maxLength: 1 }),
});
export interface PolicySpec {
  global: RuleSpec;
  hosts: [RuleSpec, RuleSpec];
  tags: [RuleSpec, RuleSpec];
}
export const policyArb: fc.Arbitrary<PolicySpec> = fc.record({
  global: ruleArb,
  hosts: fc.tuple(ruleArb, ruleArb),
  tags: fc.tuple(ruleArb, ruleArb),
});

function rule(spec: RuleSpec) {
  return {
    ...(spec.usd.length > 0
      ? {
          limits: spec.usd.map(([micros, w]) => ({
            usd: (micros / 1e6).toFixed(6),
            window: WINDOWS[w]![0],
          })),
        }
      : {}),
    ...(spec.count.length > 0
      ? { maxRequests: spec.count.map(([count, w]) => ({ count, window: WINDOWS[w]![0] })) }
      : {}),
  };
}

/** The policy the engine gets: per-request cap $0.05, holds expire after 120 s. */
export function policyOf(spec: PolicySpec): SpendPolicy {
  return {
    global: {
      ...rule(spec.global),
      maxPerRequest: { usd: '0.05' },
      maxAuthorizationTtlSec: TTL_SEC,
    },
    hosts: { [HOSTS[0]]: rule(spec.hosts[0]), [HOSTS[1]]: rule(spec.hosts[1]) },
    tags: { [TAGS[0]]: rule(spec.tags[0]), [TAGS[1]]: rule(spec.tags[1]) },
  } as SpendPolicy;
}

/** The limits a call touches, worked out from the spec (independently of the engine). */
function limitsOf(spec: PolicySpec, host: number, tags: readonly number[]): BudgetLimit[] {
  const out: BudgetLimit[] = [];
  const push = (scope: string, r: RuleSpec) => {
    for (const [micros, w] of r.usd) {
      out.push({ scope, window: WINDOWS[w]![1], maxUsdMicros: BigInt(micros) });
    }
    for (const [count, w] of r.count) out.push({ scope, window: WINDOWS[w]![1], maxCount: count });
  };
  push('global', spec.global);
  push(`host:${HOSTS[host]}`, spec.hosts[host as 0 | 1]);
  for (const t of tags) push(`tag:${TAGS[t]}`, spec.tags[t as 0 | 1]);
  return out;
}

/** Every scope a call can touch, with every window, for the sums check. */
const ALL_SCOPES = ['global', ...HOSTS.map((h) => `host:${h}`), ...TAGS.map((t) => `tag:${t}`)];

interface ModelReservation {
  readonly id: string;
  readonly seq: number;
  readonly scopes: readonly string[];
  readonly at: number;
  readonly expiresAt: number;
  readonly reserved: bigint;
  state: 'held' | 'committed' | 'released';
  actual?: bigint;
}

/** The model: the clock and every reservation ever made. */
export interface Model {
  spec: PolicySpec;
  clock: number;
  reservations: ModelReservation[];
  /** Ids whose decision is still in memory (lost in a crash). */
  live: string[];
  persistent: boolean;
}

/** The system: store instances, engines over them, and the decisions in memory. */
export interface Real {
  tested: StoreUnderTest;
  instances: BudgetStore[];
  decisions: Map<string, Decision>;
  crashes: number;
  serial: number;
}

function usageOf(model: Model, scope: string, window: BudgetWindow, now: number) {
  const start = windowStart(window, now);
  let committed = 0n;
  let held = 0n;
  let count = 0;
  for (const r of model.reservations) {
    if (r.state === 'released' || r.at < start || !r.scopes.includes(scope)) continue;
    count++;
    if (r.state === 'held') held += r.reserved;
    else committed += r.actual ?? 0n;
  }
  return { committedUsdMicros: committed, heldUsdMicros: held, count };
}

function fits(model: Model, limits: readonly BudgetLimit[], usd: bigint, now: number): boolean {
  for (const limit of limits) {
    const use = usageOf(model, limit.scope, limit.window, now);
    if (
      limit.maxUsdMicros !== undefined &&
      use.committedUsdMicros + use.heldUsdMicros + usd > limit.maxUsdMicros
    ) {
      return false;
    }
    if (limit.maxCount !== undefined && use.count + 1 > limit.maxCount) return false;
  }
  return true;
}

function engineOver(model: Model, store: BudgetStore) {
  return createPolicyEngine({
    policy: policyOf(model.spec),
    budget: store,
    prices: pegPriceSource(),
    now: () => model.clock,
  });
}

function offer(id: string, micros: number): PaymentOffer {
  return freezeOffer({
    id,
    protocol: 'x402',
    scheme: 'exact',
    amount: amount(BigInt(micros), USDC),
    payee: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    network: USDC.kind === 'token' ? USDC.network : undefined,
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    reusable: false,
    raw: {},
  });
}

interface Call {
  micros: number;
  host: number;
  tags: number[];
  instance: number;
}
const callArb: fc.Arbitrary<Call> = fc.record({
  micros: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 50_001, max: 60_000 }) },
  ),
  host: fc.nat(1),
  tags: fc.subarray([0, 1]),
  instance: fc.nat(1),
});

/** Decides one call; returns what happened, for the caller to check against the model. */
async function decide(model: Model, real: Real, call: Call) {
  const id = `r${real.serial++}`;
  const store = real.instances[call.instance % real.instances.length]!;
  const engine = engineOver(model, store);
  const now = model.clock;
  try {
    const decision = await engine.decide([offer(`o-${id}`, call.micros)], {
      url: new URL(`https://${HOSTS[call.host]}/r`),
      method: 'GET',
      tags: call.tags.map((t) => TAGS[t]!),
      canPay: () => true,
      reservationId: id,
    });
    return { id, now, decision };
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(PolicyDeniedError);
    return { id, now, refusal: (error as PolicyDeniedError).reason };
  }
}

function record(model: Model, call: Call, id: string, now: number): void {
  const scopes = [
    ...new Set(limitsOf(model.spec, call.host, call.tags).map((limit) => limit.scope)),
  ];
  model.reservations.push({
    id,
    seq: model.reservations.length,
    scopes,
    at: now,
    expiresAt: now + TTL_SEC * 1000,
    reserved: BigInt(call.micros),
    state: 'held',
  });
  model.live.push(id);
}

type Command = fc.AsyncCommand<Model, Real>;

class Reserve implements Command {
  constructor(readonly call: Call) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const limits = limitsOf(model.spec, this.call.host, this.call.tags);
    const usd = BigInt(this.call.micros);
    const outcome = await decide(model, real, this.call);
    if (this.call.micros > 50_000) {
      expect(outcome.refusal).toBe('per_request_cap');
    } else if (fits(model, limits, usd, model.clock)) {
      expect(outcome.refusal, 'the model says it fits').toBeUndefined();
      expect(outcome.decision!.reservation.usdMicros).toBe(usd);
      record(model, this.call, outcome.id, outcome.now);
      real.decisions.set(outcome.id, outcome.decision!);
    } else {
      expect(['window_cap', 'request_count_cap']).toContain(outcome.refusal);
    }
    await verify(model, real);
  }
  toString = () => `reserve(${JSON.stringify(this.call)})`;
}

/** Several decisions at once, spread over the store instances: never more than fits. */
class ReserveConcurrently implements Command {
  constructor(readonly calls: Call[]) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const outcomes = await Promise.all(this.calls.map((call) => decide(model, real, call)));
    // Record the accepted ones in the order the store took them (their reservations say).
    const accepted = outcomes
      .map((outcome, i) => ({ outcome, call: this.calls[i]! }))
      .filter(({ outcome }) => outcome.decision !== undefined);
    for (const { outcome, call } of accepted) {
      record(model, call, outcome.id, outcome.now);
      real.decisions.set(outcome.id, outcome.decision!);
    }
    // Within one batch usage only grows, so a refused call must not fit the final state.
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.decision) continue;
      const call = this.calls[i]!;
      if (call.micros > 50_000) {
        expect(outcome.refusal).toBe('per_request_cap');
        continue;
      }
      const limits = limitsOf(model.spec, call.host, call.tags);
      expect(fits(model, limits, BigInt(call.micros), model.clock), 'refused but fits').toBe(false);
    }
    await verify(model, real);
  }
  toString = () => `concurrently(${this.calls.length})`;
}

class Commit implements Command {
  constructor(
    readonly pick: number,
    readonly quarters: number,
  ) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  async run(model: Model, real: Real) {
    const id = model.live[this.pick % model.live.length]!;
    const r = model.reservations.find((x) => x.id === id)!;
    const decision = real.decisions.get(id)!;
    // quarters 5: one atomic unit above the reservation.
    const actual =
      this.quarters === 5 ? r.reserved + 1n : (r.reserved * BigInt(this.quarters)) / 4n;
    const engine = engineOver(model, real.instances[0]!);
    let code = 'OK';
    try {
      await engine.commit(decision, amount(actual, USDC));
    } catch (error) {
      if (!isStipendError(error)) throw error;
      code = error.code;
    }
    if (actual > r.reserved) {
      expect(code).toBe('BUDGET_COMMIT_INVALID');
    } else {
      expect(code).toBe('OK');
      r.state = 'committed';
      r.actual = actual;
      model.live = model.live.filter((x) => x !== id);
      real.decisions.delete(id);
    }
    await verify(model, real);
  }
  toString = () => `commit(${this.pick}, ${this.quarters}/4)`;
}

class Release implements Command {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.live.length > 0;
  async run(model: Model, real: Real) {
    const id = model.live[this.pick % model.live.length]!;
    const engine = engineOver(model, real.instances[real.instances.length - 1]!);
    await engine.release(real.decisions.get(id)!);
    model.reservations.find((x) => x.id === id)!.state = 'released';
    model.live = model.live.filter((x) => x !== id);
    real.decisions.delete(id);
    await verify(model, real);
  }
  toString = () => `release(${this.pick})`;
}

class Advance implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    model.clock += this.ms;
    await verify(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

/** The reconciler: lists expired holds and settles each as the rail says (paid or failed). */
class Reconcile implements Command {
  constructor(readonly paid: boolean[]) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const store = real.instances[0]!;
    const due = model.reservations
      .filter((r) => r.state === 'held' && r.expiresAt <= model.clock)
      .sort((a, b) => a.expiresAt - b.expiresAt || a.seq - b.seq);
    const listed = await store.expired(model.clock);
    // Soonest first; the order among equal expiries (a concurrent batch) is the store's own.
    expect(listed.map((r) => r.id).sort()).toEqual(due.map((r) => r.id).sort());
    for (let i = 1; i < listed.length; i++) {
      expect(listed[i]!.expiresAt).toBeGreaterThanOrEqual(listed[i - 1]!.expiresAt);
    }
    for (const [i, r] of due.entries()) {
      if (this.paid[i % Math.max(1, this.paid.length)] ?? false) {
        await store.commit(r.id, r.reserved);
        r.state = 'committed';
        r.actual = r.reserved;
      } else {
        await store.release(r.id);
        r.state = 'released';
      }
      model.live = model.live.filter((x) => x !== r.id);
      real.decisions.delete(r.id);
    }
    await verify(model, real);
  }
  toString = () => `reconcile(${this.paid.map((p) => (p ? 'paid' : 'failed')).join(',')})`;
}

/** A crash: every in-memory object is lost; the store is opened again from what it persisted. */
class Crash implements Command {
  check = (model: Readonly<Model>) => model.persistent;
  async run(model: Model, real: Real) {
    const reopen = real.tested.reopen!;
    real.instances = [await reopen(), await reopen()];
    real.decisions.clear();
    model.live = [];
    real.crashes++;
    await verify(model, real);
  }
  toString = () => 'crash';
}

/** Everything that must hold after every command. */
async function verify(model: Model, real: Real): Promise<void> {
  const now = model.clock;
  // 1. No limit exceeded: committed + held within every USD cap, payments within every count.
  for (const host of [0, 1]) {
    for (const limit of limitsOf(model.spec, host, [0, 1])) {
      const use = await real.instances[0]!.usage(limit, now);
      if (limit.maxUsdMicros !== undefined) {
        expect(use.committedUsdMicros + use.heldUsdMicros).toBeLessThanOrEqual(limit.maxUsdMicros);
        expect(use.committedUsdMicros).toBeLessThanOrEqual(limit.maxUsdMicros);
      }
      if (limit.maxCount !== undefined) expect(use.count).toBeLessThanOrEqual(limit.maxCount);
    }
  }
  // 2. The store's sums equal the model's, in every scope and window, from every instance.
  for (const store of real.instances) {
    for (const scope of ALL_SCOPES) {
      for (const [, window] of WINDOWS) {
        expect(
          await store.usage({ scope, window }, now),
          `${scope} ${JSON.stringify(window)}`,
        ).toEqual(usageOf(model, scope, window, now));
      }
    }
  }
  // 3. Every reservation reads back as the model says, and the money reconciles.
  let reserved = 0n;
  let committed = 0n;
  let freed = 0n;
  let released = 0n;
  let held = 0n;
  const last = real.instances[real.instances.length - 1]!;
  for (const r of model.reservations) {
    const stored = await last.get(r.id);
    expect(stored?.state, r.id).toBe(r.state);
    expect(stored?.usdMicros).toBe(r.reserved);
    expect(stored?.committedUsdMicros).toBe(r.actual);
    reserved += stored!.usdMicros;
    if (stored!.state === 'committed') {
      committed += stored!.committedUsdMicros!;
      freed += stored!.usdMicros - stored!.committedUsdMicros!;
    } else if (stored!.state === 'released') {
      released += stored!.usdMicros;
    } else {
      held += stored!.usdMicros;
    }
  }
  expect(committed + freed + released + held).toBe(reserved);
  // The lifetime sums of the global scope are the committed and held amounts of the
  // reservations that touched it (every one does when the global rule has a limit).
  const global = model.reservations.filter((r) => r.scopes.includes('global'));
  const total = await last.usage({ scope: 'global', window: { kind: 'total' } }, now);
  expect(total.committedUsdMicros).toBe(
    global.reduce((sum, r) => sum + (r.state === 'committed' ? r.actual! : 0n), 0n),
  );
  expect(total.heldUsdMicros).toBe(
    global.reduce((sum, r) => sum + (r.state === 'held' ? r.reserved : 0n), 0n),
  );
  if (global.length === model.reservations.length) {
    expect(total.committedUsdMicros).toBe(committed);
    expect(total.heldUsdMicros).toBe(held);
  }
}

/** The commands, weighted; `Crash` only runs for persistent stores. */
export const commandsArb = (maxCommands: number) =>
  fc.commands<Model, Real, false>(
    [
      callArb.map((call) => new Reserve(call)),
      callArb.map((call) => new Reserve(call)),
      fc
        .array(callArb, { minLength: 2, maxLength: 8 })
        .map((calls) => new ReserveConcurrently(calls)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 })).map(([pick, q]) => new Commit(pick, q)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 5 })).map(([pick, q]) => new Commit(pick, q)),
      fc.nat().map((pick) => new Release(pick)),
      fc
        .oneof(
          fc.integer({ min: 1, max: 30_000 }),
          fc.integer({ min: 1, max: 15 * MINUTE }),
          fc.integer({ min: 1, max: 26 * 60 * MINUTE }),
        )
        .map((ms) => new Advance(ms)),
      fc.array(fc.boolean(), { maxLength: 4 }).map((paid) => new Reconcile(paid)),
      fc.constant(new Crash()),
    ],
    { maxCommands, size: 'large' },
  );

/** The start of a run: a time that sometimes sits just before a UTC midnight. */
export const startArb = fc.oneof(
  fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2025, 11, 31) }),
  fc.integer({ min: 0, max: 10 * MINUTE }).map((ms) => Date.UTC(2025, 5, 2) - ms),
);

/**
 * Runs one generated scenario against a fresh store; returns how many reservations and crashes
 * it saw (the caller checks the generators reach the interesting parts).
 */
export async function runScenario(
  open: () => Promise<StoreUnderTest>,
  spec: PolicySpec,
  start: number,
  commands: Iterable<Command>,
): Promise<{ reservations: number; crashes: number; committed: number; released: number }> {
  const tested = await open();
  try {
    const model: Model = {
      spec,
      clock: start,
      reservations: [],
      live: [],
      persistent: tested.reopen !== undefined,
    };
    const second = tested.reopen ? await tested.reopen() : tested.store;
    const real: Real = {
      tested,
      instances: [tested.store, second],
      decisions: new Map(),
      crashes: 0,
      serial: 0,
    };
    await fc.asyncModelRun(() => ({ model, real }), commands);
    return {
      reservations: model.reservations.length,
      crashes: real.crashes,
      committed: model.reservations.filter((r) => r.state === 'committed').length,
      released: model.reservations.filter((r) => r.state === 'released').length,
    };
  } finally {
    await tested.close();
  }
}
