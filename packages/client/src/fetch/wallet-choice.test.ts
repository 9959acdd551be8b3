import { createTestPaywall, createTestRail, testAdapter, testWallet } from '@stipend/testkit/core';
import { describe, expect, it } from 'vitest';
import { createPayingFetch } from '../index.js';
import type { Wallet } from '../wallet/wallet.js';
import { ORIGIN, usdc } from './fixtures.test-helpers.js';

const POLICY = {
  global: {
    maxPerRequest: { usd: '1.00' },
    limits: [{ usd: '10', window: { calendar: 'day' as const } }],
  },
};

/** A test wallet that reports `held` atomic units and counts the balance reads. */
function withBalance(wallet: Wallet, id: string, held: bigint) {
  const reads: string[] = [];
  const counted: Wallet = {
    ...wallet,
    id,
    pay: wallet.pay.bind(wallet),
    canPay: wallet.canPay.bind(wallet),
    async balance(offer) {
      reads.push(offer.id);
      return { value: held, unit: offer.amount.unit };
    },
  };
  return { wallet: counted, reads };
}

describe('the paying path asks balances only when they can change the choice', () => {
  it('one offer, one wallet for its rail: no balance read per purchase (the wallet refuses cleanly when short)', async () => {
    const rail = createTestRail();
    const paywall = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    const { wallet, reads } = withBalance(testWallet({ rail }), 'only', 1_000_000n);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [wallet],
      policy: POLICY,
      fetch: (input, init) => paywall(new Request(input as string, init)),
    });
    for (let index = 0; index < 3; index++) {
      expect((await payingFetch(`${ORIGIN}/paid`)).status).toBe(200);
    }
    expect(reads).toEqual([]);
    expect(rail.payments().length).toBe(3);
  });

  it('two wallets for the rail: the one provably short is passed over for the funded one', async () => {
    const rail = createTestRail();
    const paywall = createTestPaywall({ rail, routes: { '/paid': { offers: [usdc(1000n)] } } });
    const poor = withBalance(testWallet({ rail }), 'poor', 10n);
    const rich = withBalance(testWallet({ rail }), 'rich', 1_000_000n);
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [poor.wallet, rich.wallet],
      policy: POLICY,
      fetch: (input, init) => paywall(new Request(input as string, init)),
    });
    const response = await payingFetch(`${ORIGIN}/paid`);
    expect(response.status).toBe(200);
    expect(poor.reads.length).toBe(1);
    expect(rich.reads.length).toBe(1);
    const [record] = await payingFetch.ledger.list();
    expect(record?.walletId).toBe('rich');
  });
});
