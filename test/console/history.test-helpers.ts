/**
 * Earlier spend for the console's screenshot: a few days of committed payments on three
 * other hosts and rails (x402, L402, MPP), booked the way a paying fetch books them (a budget
 * reservation in the policy's limits, committed, and its ledger record). Seeded, not paid:
 * the payments the suite asserts on are the agent process's, counted at the rail.
 */
import {
  type BudgetLimit,
  type BudgetStore,
  fiatUnit,
  type Ledger,
  msatUnit,
  type SpendRecord,
  type Unit,
} from '@stipend/client';
import { TEST_USDC } from '@stipend/testkit/core';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const SELLERS: readonly {
  origin: string;
  path: string;
  protocol: string;
  scheme: string;
  unit: Unit;
  amount: bigint;
  usdMicros: bigint;
  payee: string;
}[] = [
  {
    origin: 'https://api.weather.example',
    path: '/forecast',
    protocol: 'x402',
    scheme: 'exact',
    unit: TEST_USDC,
    amount: 20_000n,
    usdMicros: 20_000n,
    payee: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  },
  {
    origin: 'https://news.example',
    path: '/article/42',
    protocol: 'l402',
    scheme: 'bolt11',
    unit: msatUnit,
    amount: 25_000_000n,
    usdMicros: 26_250n,
    payee: '02b1…c9f4',
  },
  {
    origin: 'https://papers.example',
    path: '/pdf/7',
    protocol: 'mpp',
    scheme: 'charge',
    unit: fiatUnit('USD'),
    amount: 5n,
    usdMicros: 50_000n,
    payee: 'profile_papers',
  },
];

/**
 * Books `count` earlier payments spread over the last days (and a few over the last hours).
 *
 * @example
 * ```ts
 * await seedHistory(stores.budget, stores.ledger, Date.now());
 * ```
 */
export async function seedHistory(
  budget: BudgetStore,
  ledger: Ledger,
  now: number,
): Promise<number> {
  const limits: BudgetLimit[] = [
    { scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxUsdMicros: 1_000_000n },
  ];
  const times: number[] = [];
  for (let day = 6; day >= 1; day--)
    for (let n = 0; n < 2 + (day % 3); n++) times.push(now - day * DAY + n * 3 * HOUR);
  for (let hour = 20; hour >= 2; hour -= 3) times.push(now - hour * HOUR);
  let index = 0;
  for (const at of times) {
    const seller = SELLERS[index % SELLERS.length]!;
    const id = `p_seed_${index++}`;
    const reserved = await budget.reserve({
      id: `r_${id}`,
      limits,
      usdMicros: seller.usdMicros,
      now: at,
      expiresAt: at + 60_000,
    });
    if (!reserved.ok) continue;
    await budget.commit(`r_${id}`, seller.usdMicros);
    const record: SpendRecord = {
      id,
      purchaseKey: `GET ${seller.origin}${seller.path}`,
      reservationId: `r_${id}`,
      protocol: seller.protocol as SpendRecord['protocol'],
      scheme: seller.scheme,
      method: 'GET',
      origin: seller.origin,
      resource: `${seller.origin}${seller.path}`,
      payee: seller.payee,
      offerId: 'o1',
      amount: { value: seller.amount, unit: seller.unit },
      reservedUsdMicros: seller.usdMicros,
      committedUsdMicros: seller.usdMicros,
      rate: { numerator: 1n, denominator: 1n, source: 'seed', asOf: at },
      walletId: 'seed',
      status: 'committed',
      outcome: 'accepted',
      tags: [],
      createdAt: at,
      updatedAt: at,
    };
    await ledger.append(record);
  }
  return index;
}
