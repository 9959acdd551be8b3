/** A spend record for ledger tests. */
import type { SpendRecord } from '@stipend/client';

/**
 * Builds a pending x402 spend record with the given id and overrides.
 *
 * @example
 * ```ts
 * import { spendRecord } from './fixtures.test-helpers.js';
 * const record = spendRecord('s1', { status: 'committed' });
 * ```
 */
export function spendRecord(id: string, patch: Partial<SpendRecord> = {}): SpendRecord {
  return {
    id,
    purchaseKey: `purchase-${id}`,
    reservationId: `reservation-${id}`,
    protocol: 'x402',
    scheme: 'exact',
    method: 'GET',
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/weather?city=Paris',
    payee: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    network: 'eip155:8453',
    offerId: `offer-${id}`,
    amount: {
      value: 1_000n,
      unit: {
        kind: 'token',
        network: 'eip155:8453',
        asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
        decimals: 6,
        symbol: 'USDC',
      },
    },
    reservedUsdMicros: 1_000n,
    rate: { numerator: 1n, denominator: 1n, source: 'peg:USD', asOf: 1_700_000_000_000 },
    walletId: 'evm',
    status: 'pending',
    tags: ['research', 'weather'],
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    ...patch,
  };
}
