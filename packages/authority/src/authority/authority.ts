/**
 * The spend authority: it holds the real wallets, the policy and the budget; it mints
 * delegation tokens with its own root key and pays for their holders, within their caps.
 *
 * @module
 */
import {
  type Approver,
  type BudgetStore,
  createMemoryBudgetStore,
  createPolicyEngine,
  type Decision,
  formatUsd,
  type HttpRule,
  isLoopbackHost,
  isWalletError,
  type PaymentOffer,
  type PaymentStatus,
  type PolicyEngine,
  type PriceSource,
  type Proof,
  pegPriceSource,
  type Rule,
  railOf,
  type SpendPolicy,
  StipendError,
  type Usd,
  type Wallet,
  WalletError,
  walletFailureFacts,
} from '@stipend/client';
import {
  capsToCaveats,
  checkScope,
  type DelegationCaps,
  formatCaveat,
  limitsOf,
} from '../remote/caveats.js';
import { delegationError } from '../remote/errors.js';
import { IDEMPOTENCY_REFERENCE, type TokenStatus } from '../remote/wire.js';
import { type PayInput, readPayInput } from './request-input.js';
import { scopedBudget } from './scoped-budget.js';
import { scopeLimits, tokenKeys, type VerifiedToken } from './tokens.js';
import { type TrustedAsset, unitChecker } from './units.js';

/** Configuration of {@link createSpendAuthority}. */
export interface SpendAuthorityConfig {
  /** The real wallets; only the authority ever holds their keys. */
  readonly wallets: readonly Wallet[];
  /** The authority's own policy, applied to every delegated payment on top of the token's caps. */
  readonly policy?: SpendPolicy;
  /** Where budgets (the policy's and every token scope) are counted. Default: in memory. */
  readonly budget?: BudgetStore;
  /** Prices for converting offers into USD. Default: USD stablecoins and USD at par. */
  readonly prices?: PriceSource;
  /** Asked when the policy or a token's `approveAbove` says a person must approve. */
  readonly approver?: Approver;
  /**
   * The key tokens are minted and verified with (32 bytes or more). Never share it. Default:
   * a random key, so tokens stop verifying when the process ends; pass a stored key to keep them.
   */
  readonly rootKey?: Uint8Array;
  /**
   * The tokens the authority pays in, with their decimals and peg (the x402 adapter's
   * `X402_KNOWN_ASSETS` has this shape). Offers in any other token are refused: a sub-agent's
   * claim about a token's decimals or peg is never used for pricing.
   */
  readonly assets?: readonly TrustedAsset[];
  /** Location hint written into minted tokens (e.g. the authority's URL). */
  readonly location?: string;
  /** The clock (ms since epoch). */
  readonly now?: () => number;
  /** Protocol names of custom adapters the policy may list (beyond x402, l402, mpp). */
  readonly protocols?: readonly string[];
  /** Tags every delegated payment carries (select `policy.tags` rules). Default `['delegated']`. */
  readonly tags?: readonly string[];
  /** Plain-HTTP resources: `'loopback'` (default) pays only loopback hosts over `http:`. */
  readonly allowHttp?: HttpRule;
  /** How long a wallet may take before the outcome counts as unknown. Default 60 000 ms. */
  readonly payTimeoutMs?: number;
  /**
   * How many payment records (with their proofs, for replays and lookups) stay in memory;
   * beyond it, settled ones shrink to a paid/failed note. Default 10 000.
   */
  readonly maxRecords?: number;
}

/** What {@link SpendAuthority.mint} takes: the caps, of which a total is required. */
export interface MintCaps extends DelegationCaps {
  /** Total spend of the token and everything attenuated from it. */
  readonly totalUsd: Usd;
}

/** What a sub-agent asks the authority to pay (the body of `POST /v1/pay` without the token). */
export interface PayRequest {
  readonly request: { readonly method: string; readonly url: string };
  readonly offer: PaymentOffer;
  readonly idempotencyKey: string;
  readonly maxAuthorizationTtlSec: number;
}

/** The spend authority. */
export interface SpendAuthority {
  /**
   * Mints a delegation token (standard base64 of a v2 binary macaroon) capped by `caps`.
   * `expiresAt` defaults to one hour from now.
   */
  mint(caps: MintCaps): string;
  /** Verifies a token (signature, caveats, revocation); does not check expiry. */
  verify(token: string): VerifiedToken;
  /** Pays one offer for a token holder, within the token's caps and the authority's policy. */
  pay(token: string, request: PayRequest): Promise<Proof>;
  /** What became of a payment made for this token (`Proof.reference` or `idem:<key>`). */
  lookup(token: string, reference: string): Promise<PaymentStatus>;
  /** The caps on the token's chain and what is left of each. */
  status(token: string): Promise<TokenStatus>;
  /** Revokes a token and everything attenuated from it (in memory, for this process). */
  revoke(token: string): void;
  /**
   * Asks the wallets about held payments (signed authorizations not yet known to be used):
   * those whose reservation expired, or all with `{ all: true }`; commits or releases them.
   */
  reconcile(options?: {
    all?: boolean;
  }): Promise<{ committed: number; released: number; pending: number }>;
  readonly budget: BudgetStore;
  readonly engine: PolicyEngine;
}

/** One payment attempt for one token. */
interface Entry {
  readonly leaf: string;
  /** `<leaf> <attempt key> <offer id>`: replays of this key get the same proof. */
  readonly key: string;
  /** `<leaf> <attempt key>`: what `idem:` lookups name. */
  readonly attempt: string;
  readonly offer: PaymentOffer;
  state: 'paying' | 'held' | 'committed' | 'released';
  wallet?: Wallet;
  decision?: Decision;
  reference?: string;
  proof?: Proof;
  promise?: Promise<Proof>;
}

const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;
/** Settled payments remembered (as paid/failed only) after their entry is dropped. */
const MAX_SETTLED = 100_000;

/**
 * Creates a spend authority.
 *
 * @example
 * ```ts
 * import { createSpendAuthority, startAuthorityServer } from '@stipend/authority';
 * import { READ_ONLY_METHODS } from '@stipend/authority/remote';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const authority = createSpendAuthority({
 *   wallets: [evmWallet({ account })],
 *   policy: { global: { maxPerRequest: { usd: '0.05' }, limits: [{ usd: '5', window: { calendar: 'day' } }] } },
 *   rootKey: loadRootKey(),
 * });
 * const token = authority.mint({ totalUsd: '0.10', methods: READ_ONLY_METHODS, expiresAt: Date.now() + 3_600_000 });
 * const server = await startAuthorityServer(authority, { port: 0 });
 * // hand `token` and `server.url` to the research agent
 * ```
 */
export function createSpendAuthority(config: SpendAuthorityConfig): SpendAuthority {
  const rootKey = config.rootKey ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  if (!(rootKey instanceof Uint8Array) || rootKey.length < 32) {
    throw new StipendError(
      'AUTHORITY_CONFIG_INVALID',
      'rootKey must be a Uint8Array of at least 32 random bytes; generate one with crypto.getRandomValues(new Uint8Array(32)) and keep it secret.',
    );
  }
  const keys = tokenKeys(rootKey);
  const clock = config.now ?? Date.now;
  const budget = scopedBudget(config.budget ?? createMemoryBudgetStore());
  const engine = createPolicyEngine({
    ...(config.policy ? { policy: config.policy } : {}),
    budget,
    prices: config.prices ?? pegPriceSource(),
    ...(config.approver ? { approver: config.approver } : {}),
    now: clock,
    protocols: config.protocols ?? [],
  });
  const tags = config.tags ?? ['delegated'];
  const trustUnit = unitChecker(config.assets ?? []);
  const allowHttp = config.allowHttp ?? 'loopback';
  const payTimeoutMs = config.payTimeoutMs ?? 60_000;
  const revoked = new Set<string>();
  const entries = new Map<string, Entry>();
  const byReference = new Map<string, Entry>();
  const byAttempt = new Map<string, Entry>();
  const settled = new Map<string, 'paid' | 'failed'>();
  const maxEntries = config.maxRecords ?? 10_000;

  function verify(token: string): VerifiedToken {
    const verified = keys.verify(token);
    if (verified.chain.some((key) => revoked.has(key))) {
      throw delegationError(
        'revoked',
        'This delegation token (or one it was attenuated from) has been revoked; ask its issuer for a new one.',
        { tokenId: verified.id },
      );
    }
    return verified;
  }

  function mint(caps: MintCaps): string {
    if (caps.totalUsd === undefined) {
      throw delegationError(
        'malformed',
        "A delegation token needs a total cap: pass totalUsd (e.g. '0.10').",
        { field: 'totalUsd' },
      );
    }
    const now = clock();
    const expiresAt = caps.expiresAt ?? now + DEFAULT_LIFETIME_MS;
    if (expiresAt <= now) {
      throw delegationError('malformed', 'expiresAt is in the past; pass a future time in ms.', {
        field: 'expiresAt',
      });
    }
    const conditions = capsToCaveats({ ...caps, expiresAt }).map(formatCaveat);
    limitsOf(conditions, true);
    return keys.mint(randomHex(16), conditions, config.location);
  }

  async function pay(token: string, request: PayRequest): Promise<Proof> {
    const verified = verify(token);
    const input = readPayInput(request, trustUnit);
    const now = clock();
    checkScope(verified.limits, {
      now,
      method: input.method,
      url: input.url,
      rail: input.offer,
    });
    if (input.url.protocol === 'http:' && allowHttp !== true) {
      if (allowHttp === false || !isLoopbackHost(input.url.hostname)) {
        throw new StipendError(
          'INSECURE_TRANSPORT',
          `The authority does not pay for plain-HTTP resources on ${input.url.host}; use https (or set allowHttp on the authority).`,
        );
      }
    }
    const attempt = `${verified.leaf} ${input.idempotencyKey}`;
    const key = `${attempt} ${input.offer.id}`;
    const earlier = entries.get(key);
    if (earlier?.promise && earlier.state !== 'released') return earlier.promise;
    if (settled.get(key) === 'paid') {
      throw new StipendError(
        'ALREADY_PAID',
        'This payment attempt was paid long ago and its proof is no longer kept; start a new purchase.',
      );
    }
    const entry: Entry = { leaf: verified.leaf, key, attempt, offer: input.offer, state: 'paying' };
    const promise = purchase(verified, input, entry);
    entry.promise = promise;
    remember(entry);
    promise.catch(() => {});
    return promise;
  }

  async function purchase(verified: VerifiedToken, input: PayInput, entry: Entry): Promise<Proof> {
    const { offer, url } = input;
    const limits = verified.limits;
    const override: Rule = {
      ...(limits.perRequestUsdMicros !== undefined
        ? { maxPerRequest: { usd: limits.perRequestUsdMicros } }
        : {}),
      ...(limits.approveAboveUsdMicros !== undefined
        ? { approveAbove: limits.approveAboveUsdMicros }
        : {}),
      maxAuthorizationTtlSec: ttlFor(input.maxAuthorizationTtlSec, limits.expiresAt, clock()),
    };
    try {
      const [evaluation] = await engine.evaluate([offer], { url, tags, override });
      if (evaluation?.usdMicros !== undefined) {
        checkScope(limits, { now: clock(), usdMicros: evaluation.usdMicros });
      }
    } catch (error) {
      entry.state = 'released';
      throw error;
    }

    const reservationId = `dlg_${randomHex(12)}`;
    const chosen = new Map<string, Wallet>();
    budget.expect(reservationId, scopeLimits(verified));
    let decision: Decision;
    try {
      decision = await engine.decide([offer], {
        url,
        method: input.method,
        tags,
        override,
        reservationId,
        canPay: (candidate) => findWallet(candidate, chosen),
      });
    } catch (error) {
      entry.state = 'released';
      const refusal = budget.settle(reservationId);
      const scope = refusal && verified.scopes.find((s) => s.scope === refusal.limit.scope);
      if (refusal && scope) {
        const own = scope === verified.scopes[verified.scopes.length - 1];
        throw delegationError(
          'total',
          `This payment would exceed the ${formatUsd(scope.capUsdMicros)} total of ${own ? 'this delegation token' : 'a token this one was delegated from'}: ${formatUsd(refusal.remaining)} is left. Ask the issuer for a new token.`,
          {
            scope: scope.scope,
            capUsdMicros: scope.capUsdMicros,
            remainingUsdMicros: refusal.remaining,
          },
        );
      }
      throw error;
    }
    budget.settle(reservationId);
    const wallet = chosen.get(offer.id)!;
    entry.wallet = wallet;
    entry.decision = decision;
    entry.state = 'held';

    let proof: Proof;
    try {
      proof = await withTimeout(
        wallet.pay(offer, {
          request: { method: input.method, url: url.href },
          idempotencyKey: `delegation:${verified.leaf}:${input.idempotencyKey}`,
          maxAuthorizationTtlSec: decision.maxAuthorizationTtlSec,
          reservationId,
          now: clock(),
        }),
        payTimeoutMs,
        wallet.id,
      );
    } catch (error) {
      // By shape, not instanceof: a wallet may bring its own copy of @stipend/client.
      const { paid, reference } = walletFailureFacts(error);
      if (reference) {
        entry.reference = reference;
        byReference.set(`${entry.leaf} ${reference}`, entry);
      }
      if (paid === false) await settle(entry, 'failed');
      else if (paid === true) await settle(entry, 'paid');
      throw isWalletError(error)
        ? error
        : new WalletError({
            walletId: wallet.id,
            message: `Wallet ${wallet.id} could not pay: ${(error as Error)?.message ?? String(error)}`,
            paid,
            cause: error,
          });
    }
    if (proof.offerId !== offer.id) {
      throw new WalletError({
        walletId: wallet.id,
        message: `Wallet ${wallet.id} returned a proof for another offer; the payment stays held until reconciled.`,
        paid: 'unknown',
        reference: proof.reference,
      });
    }
    entry.proof = proof;
    entry.reference = proof.reference;
    byReference.set(`${entry.leaf} ${proof.reference}`, entry);
    // Money has moved: count it now. An authorization stays held (it counts against every cap)
    // until the rail says it was used or it expired unused (lookup / reconcile).
    if (proof.settlement === 'final') await settle(entry, 'paid');
    return proof;
  }

  async function findWallet(
    offer: PaymentOffer,
    chosen: Map<string, Wallet>,
  ): Promise<true | string> {
    const rail = railOf(offer);
    const reasons: string[] = [];
    for (const wallet of config.wallets) {
      if (!wallet.rails.includes(rail)) continue;
      let verdict: true | string;
      try {
        verdict = await wallet.canPay(offer);
      } catch (error) {
        verdict = `its check failed: ${(error as Error)?.message ?? String(error)}`;
      }
      if (verdict === true) {
        chosen.set(offer.id, wallet);
        return true;
      }
      reasons.push(`${wallet.id}: ${verdict}`);
    }
    return reasons.length > 0 ? reasons.join('; ') : `the authority has no wallet for ${rail}`;
  }

  async function settle(entry: Entry, status: 'paid' | 'failed'): Promise<void> {
    if (entry.state !== 'held' || entry.decision === undefined) return;
    if (status === 'paid') {
      try {
        await engine.commit(entry.decision, entry.proof?.paid, entry.proof?.fee);
        entry.state = 'committed';
      } catch {
        // Above the reservation or another unit: it stays held (over-counts, never under).
      }
    } else {
      await engine.release(entry.decision);
      entry.state = 'released';
    }
  }

  /** Indexes an entry; beyond `maxRecords`, settled ones are dropped to a paid/failed note. */
  function remember(entry: Entry): void {
    entries.set(entry.key, entry);
    byAttempt.set(entry.attempt, entry);
    if (entries.size <= maxEntries) return;
    for (const [key, old] of entries) {
      if (old.state !== 'committed' && old.state !== 'released') continue;
      const outcome = old.state === 'committed' ? 'paid' : 'failed';
      entries.delete(key);
      settled.set(key, outcome);
      if (byAttempt.get(old.attempt) === old) {
        byAttempt.delete(old.attempt);
        settled.set(old.attempt, outcome);
      }
      if (old.reference) {
        byReference.delete(`${old.leaf} ${old.reference}`);
        settled.set(`${old.leaf} ${old.reference}`, outcome);
      }
      if (entries.size <= maxEntries) break;
    }
    while (settled.size > MAX_SETTLED) settled.delete(settled.keys().next().value!);
  }

  async function ask(entry: Entry): Promise<PaymentStatus> {
    if (entry.state === 'committed') return 'paid';
    if (entry.state === 'released') return 'failed';
    if (entry.state === 'paying' || !entry.wallet?.lookup || !entry.reference) return 'pending';
    let status: PaymentStatus;
    try {
      status = await entry.wallet.lookup(entry.reference, entry.offer);
    } catch {
      return 'pending';
    }
    if (status !== 'pending') await settle(entry, status);
    return status;
  }

  async function lookup(token: string, reference: string): Promise<PaymentStatus> {
    const verified = verify(token);
    const name = reference.startsWith(IDEMPOTENCY_REFERENCE)
      ? `${verified.leaf} ${reference.slice(IDEMPOTENCY_REFERENCE.length)}`
      : `${verified.leaf} ${reference}`;
    const entry = reference.startsWith(IDEMPOTENCY_REFERENCE)
      ? byAttempt.get(name)
      : byReference.get(name);
    if (entry !== undefined) return ask(entry);
    // Settled long ago, or never started for this token under that name (nothing was paid).
    return settled.get(name) ?? 'failed';
  }

  async function status(token: string): Promise<TokenStatus> {
    const verified = verify(token);
    const now = clock();
    const scopes = await Promise.all(
      verified.scopes.map(async (s) => {
        const use = await budget.usage({ scope: s.scope, window: { kind: 'total' } }, now);
        const left = s.capUsdMicros - use.committedUsdMicros - use.heldUsdMicros;
        return {
          scope: s.scope,
          capUsdMicros: s.capUsdMicros,
          spentUsdMicros: use.committedUsdMicros,
          heldUsdMicros: use.heldUsdMicros,
          remainingUsdMicros: left > 0n ? left : 0n,
        };
      }),
    );
    return {
      id: verified.id,
      depth: verified.depth,
      ...(verified.limits.expiresAt !== undefined ? { expiresAt: verified.limits.expiresAt } : {}),
      scopes,
    };
  }

  async function reconcile(options: { all?: boolean } = {}) {
    const counts = { committed: 0, released: 0, pending: 0 };
    const now = clock();
    for (const entry of [...entries.values()]) {
      if (entry.state !== 'held') continue;
      if (!options.all && (entry.decision?.reservation.expiresAt ?? Infinity) > now) {
        counts.pending++;
        continue;
      }
      const result = await ask(entry);
      if (result === 'paid') counts.committed++;
      else if (result === 'failed') counts.released++;
      else counts.pending++;
    }
    return counts;
  }

  return Object.freeze({
    mint,
    verify,
    pay,
    lookup,
    status,
    revoke(token: string) {
      revoked.add(keys.verify(token).leaf);
    },
    reconcile,
    budget,
    engine,
  });
}

/** The authorization lifetime: the caller's cap, and never past the token's expiry. */
function ttlFor(requested: number, expiresAt: number | undefined, now: number): number {
  if (expiresAt === undefined) return requested;
  const left = Math.floor((expiresAt - now) / 1000);
  return Math.max(1, Math.min(requested, left));
}

function randomHex(bytes: number): string {
  const buffer = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(buffer, (b) => b.toString(16).padStart(2, '0')).join('');
}

class PayTimeout extends Error {
  override name = 'PayTimeout';
}

function withTimeout<T>(promise: Promise<T>, ms: number, walletId: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new WalletError({
            walletId,
            message: `Wallet ${walletId} did not answer within ${ms} ms; the outcome is unknown.`,
            paid: 'unknown',
            cause: new PayTimeout(),
          }),
        ),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
