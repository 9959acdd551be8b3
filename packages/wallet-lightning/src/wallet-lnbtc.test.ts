import {
  type ChallengeInput,
  isStipendError,
  type PaymentOffer,
  x402Adapter,
  x402Lightning,
} from '@stipend/client';
import {
  LNBTC_SPEC_PAYMENT_HASH,
  LNBTC_SPEC_PREIMAGE,
  LNBTC_SPEC_REQUIREMENT,
  LNBTC_SPEC_URL,
  LNBTC_TEST_NOW,
  LNBTC_TEST_PAY_TO,
} from '@stipend/testkit/x402';
import { describe, expect, it } from 'vitest';
import type { BackendPayRequest, LightningBackend } from './backend.js';
import { context } from './simulator.test-helpers.js';
import { lightningWallet } from './wallet.js';

const NOW_MS = LNBTC_TEST_NOW * 1000;
type Requirement = Record<string, unknown> & { extra: Record<string, unknown> };

/** An lnbtc offer as the client's x402 adapter reads it from the spec example. */
async function lnbtcOffer(mutate: (r: Requirement) => void = () => {}): Promise<PaymentOffer> {
  const requirement = structuredClone(LNBTC_SPEC_REQUIREMENT) as unknown as Requirement;
  const header = Buffer.from(
    JSON.stringify({ x402Version: 2, resource: { url: LNBTC_SPEC_URL }, accepts: [requirement] }),
  ).toString('base64');
  const input: ChallengeInput = {
    status: 402,
    headers: new Headers({ 'payment-required': header }),
    url: new URL(LNBTC_SPEC_URL),
    method: 'GET',
    challenges: [],
    bodyText: async () => undefined,
    now: NOW_MS,
  };
  const [offer] = await x402Adapter({ lightning: x402Lightning() }).parse(input);
  // Terms a hostile server could change after the adapter read them (the wallet checks again).
  const raw = offer!.raw as { requirement: Requirement };
  const changed = structuredClone(raw.requirement);
  mutate(changed);
  return { ...offer!, raw: { ...raw, requirement: changed } };
}

/** A backend that settles the spec invoice with the spec preimage. */
function specBackend(): LightningBackend & { paid: BackendPayRequest[] } {
  const paid: BackendPayRequest[] = [];
  return {
    name: 'spec',
    paid,
    async pay(request) {
      paid.push(request);
      return { preimage: LNBTC_SPEC_PREIMAGE, feeMsat: 3n };
    },
    async lookup() {
      return { status: 'not_found' } as const;
    },
  };
}

const wallet = (network: 'mainnet' | 'testnet' = 'mainnet', backend = specBackend()) =>
  lightningWallet({ network, backend, now: () => NOW_MS });

describe('lightningWallet pays x402 exact on Lightning (lnbtc)', () => {
  it('lists the x402:exact rail and verifies the payee from the invoice signature', async () => {
    const offer = await lnbtcOffer();
    const w = wallet();
    expect(w.rails).toContain('x402:exact');
    expect(w.canPay(offer)).toBe(true);
    expect(w.payeeOf!(offer)).toBe(LNBTC_TEST_PAY_TO);
    expect(w.referenceFor!(offer, context())).toBe(LNBTC_SPEC_PAYMENT_HASH);
  });

  it('pays the invoice amount with the offer fee cap and returns the preimage as the x402 payload', async () => {
    const backend = specBackend();
    const offer = await lnbtcOffer();
    const proof = await wallet('mainnet', backend).pay(offer, context());
    expect(backend.paid).toHaveLength(1);
    expect(backend.paid[0]).toMatchObject({ amountMsat: 25_000n, maxFeeMsat: offer.maxFee!.value });
    expect(proof).toMatchObject({
      reference: LNBTC_SPEC_PAYMENT_HASH,
      secret: { payload: { preimage: LNBTC_SPEC_PREIMAGE } },
      paid: { value: 25_000n },
    });
  });

  it.each<[string, (r: Requirement) => void, string]>([
    [
      'an amount other than the invoice amount',
      (r) => {
        r.amount = '25001';
      },
      'amount',
    ],
    [
      'a payTo that did not sign the invoice',
      (r) => {
        r.payTo = `03${'1'.repeat(64)}`;
      },
      'not by payTo',
    ],
    [
      'an expiry other than the invoice expiry',
      (r) => {
        r.maxTimeoutSeconds = 301;
      },
      'maxTimeoutSeconds',
    ],
    [
      'a request hash the invoice does not commit to',
      (r) => {
        r.extra.requestHash = '0'.repeat(64);
      },
      'does not bind this request',
    ],
  ])('refuses %s', async (_name, mutate, words) => {
    const backend = specBackend();
    const offer = await lnbtcOffer(mutate);
    const w = wallet('mainnet', backend);
    expect(w.canPay(offer)).toContain(words);
    await expect(w.pay(offer, context())).rejects.toSatisfy(
      (e: unknown) => isStipendError(e) && (e as { paid?: unknown }).paid === false,
    );
    expect(backend.paid).toHaveLength(0);
  });

  it('refuses an lnbtc offer of another network than its own', async () => {
    const offer = await lnbtcOffer();
    expect(wallet('testnet').canPay(offer)).toMatch(/mainnet|testnet/);
  });

  it('refuses x402 exact offers that are not on Lightning, and leaves their payee as signed', async () => {
    const offer = { ...(await lnbtcOffer()), network: 'eip155:8453', payee: '0xabc' };
    const w = wallet();
    expect(w.canPay(offer)).toContain('not Lightning');
    expect(w.payeeOf!(offer)).toBe('0xabc');
  });
});
