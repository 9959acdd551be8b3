/**
 * Session spend in the ledger. One record per deposit or top-up (`session:<id>` purchase key,
 * the hold's reservation): `pending` while paying, `held` while the session is open, and on
 * close `committed` at the part of the hold no use accounts for (fees, a refund that never
 * came) or `released`. One record per use (amount = the unit price, `committed`, linked to the
 * session by its purchase key and reference); a use does not reserve again. So the sum of
 * `committedUsdMicros` over a session's records is what its holds committed in the budget
 * (up to rounding each use up to a micro-dollar). Records are secret-free.
 *
 * @module
 */
import type { Core } from '../fetch/core.js';
import { randomId } from '../internal/ids.js';
import type { SpendRecord } from '../ledger/record.js';
import { applyRate, type Rate } from '../money/price.js';
import { type Amount, amount, msatUnit, type Unit } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import { rateOf } from './close.js';
import type { SessionRecord } from './types.js';

/** What a session record needs of its opening offer. */
export interface LedgerContext {
  readonly method: string;
  readonly offer: PaymentOffer;
  readonly rate: Rate;
  readonly tags: readonly string[];
}

/**
 * Appends the record of a deposit or top-up (status `pending`), before the wallet pays.
 *
 * @example
 * ```ts
 * import { recordDeposit } from './ledger.js';
 * await recordDeposit(core, session, hold.reservationId, ctx, plan.amount, 12_000n, reference);
 * ```
 */
export async function recordDeposit(
  core: Core,
  session: SessionRecord,
  reservationId: string,
  ctx: LedgerContext,
  deposit: Amount,
  reservedUsdMicros: bigint,
  reference: string | undefined,
): Promise<void> {
  const now = core.now();
  const record: SpendRecord = {
    id: reservationId,
    purchaseKey: `session:${session.id}`,
    reservationId,
    protocol: ctx.offer.protocol,
    scheme: ctx.offer.scheme,
    method: ctx.method,
    origin: session.origin,
    resource: session.resource,
    payee: session.payee,
    ...(ctx.offer.network !== undefined ? { network: ctx.offer.network } : {}),
    offerId: ctx.offer.id,
    amount: deposit,
    reservedUsdMicros,
    rate: {
      numerator: ctx.rate.usdMicrosPerUnitNumerator,
      denominator: ctx.rate.denominator,
      source: ctx.rate.source,
      asOf: ctx.rate.asOf,
    },
    walletId: session.walletId,
    ...(reference !== undefined ? { reference } : {}),
    status: 'pending',
    tags: ctx.tags,
    createdAt: now,
    updatedAt: now,
  };
  await core.ledger.append(record);
}

/**
 * Appends the record of one use: the unit price, committed, no reservation of its own.
 *
 * @example
 * ```ts
 * import { recordUse } from './ledger.js';
 * await recordUse(core, session, price, usdMicros, 'GET', tags);
 * ```
 */
export async function recordUse(
  core: Core,
  session: SessionRecord,
  price: Amount,
  usdMicros: bigint,
  rate: SpendRecord['rate'],
  method: string,
  tags: readonly string[],
): Promise<void> {
  const now = core.now();
  await core.ledger.append({
    id: randomId('u_'),
    purchaseKey: `session:${session.id}`,
    reservationId: session.holds[0]?.reservationId ?? '',
    protocol: 'mpp',
    scheme: `${session.method}.session`,
    method,
    origin: session.origin,
    resource: session.resource,
    payee: session.payee,
    offerId: `session:${session.id}`,
    amount: price,
    reservedUsdMicros: 0n,
    committedUsdMicros: usdMicros,
    rate,
    walletId: session.walletId,
    reference: session.id,
    status: 'committed',
    outcome: 'accepted',
    tags,
    createdAt: now,
    updatedAt: now,
  });
}

/** The unit of each session's amounts (for its ledger records), by session id. */
const units = new Map<string, Unit>();

/**
 * Remembers the unit of a session's amounts (its ledger records carry it).
 *
 * @example
 * ```ts
 * import { rememberUnit } from './ledger.js';
 * rememberUnit('ses_…', offer.amount.unit);
 * ```
 */
export function rememberUnit(sessionId: string, unit: Unit): void {
  units.set(sessionId, unit);
  if (units.size > 10_000) units.delete(units.keys().next().value!);
}

/**
 * Appends the record of `count` uses of a session (one call, or the metered units of a
 * stream): the unit price times `count`, each unit priced at the opening rate as a separate
 * use would be, so the records add up to what the session's holds commit.
 *
 * @example
 * ```ts
 * import { recordSessionUse } from './ledger.js';
 * await recordSessionUse(core, session, 'GET', ['agent'], 3);
 * ```
 */
export async function recordSessionUse(
  core: Core,
  session: SessionRecord,
  method: string,
  tags: readonly string[],
  count = 1,
): Promise<void> {
  if (count <= 0) return;
  const hold = session.holds[0];
  const rate = hold ? rateOf(hold.rate) : undefined;
  const unit = units.get(session.id) ?? msatUnit;
  const many = BigInt(count);
  const usd = rate ? applyRate(session.unitPriceAtomic, rate) * many : 0n;
  await recordUse(
    core,
    session,
    amount(session.unitPriceAtomic * many, unit),
    usd,
    {
      numerator: hold?.rate.numerator ?? 0n,
      denominator: hold?.rate.denominator ?? 1n,
      source: 'session',
      asOf: core.now(),
    },
    method,
    tags,
  );
}
