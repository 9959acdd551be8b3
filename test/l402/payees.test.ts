/**
 * Payees from what is verified (finding 12), across packages: `lightningWallet.payeeOf`
 * recovers the signer of the invoice, `verifyPayees` puts it on the offer, and the policy's
 * payee lists judge that key, never the server's claim or a placeholder.
 */
import {
  createMemoryBudgetStore,
  createPolicyEngine,
  fixedPriceSource,
  l402Adapter,
  type PaymentOffer,
  type SpendPolicy,
} from '@stipend/client';
import { createLightningNetwork } from '@stipend/testkit/l402';
import { lightningWallet } from '@stipend/wallet-lightning';
import { describe, expect, it } from 'vitest';
import { isPayeeVerified, verifyPayees } from '../../packages/client/src/fetch/payees.js';
import {
  challengeInput,
  mint,
} from '../../packages/client/src/protocols/l402/l402.test-helpers.js';
import { simulatorBackend } from './helpers.js';

const prices = fixedPriceSource({ btcUsd: '100000' });
const network = createLightningNetwork();
const wallet = lightningWallet({ backend: simulatorBackend(network), network: 'regtest' });

async function offerFromServer(): Promise<PaymentOffer> {
  const minted = mint(); // signed by the helpers' node key, no n tag
  const [offer] = await l402Adapter().parse(
    challengeInput([`L402 macaroon="${minted.macaroon}", invoice="${minted.invoice}"`]),
  );
  return offer!;
}

async function evaluate(policy: SpendPolicy, offer: PaymentOffer) {
  const engine = createPolicyEngine({ policy, budget: createMemoryBudgetStore(), prices });
  const [evaluation] = await engine.evaluate([offer], {
    url: new URL('https://api.example.com/quote'),
    canPay: async () => true as const,
  });
  return evaluation!;
}

describe('payee lists judge the key recovered from the invoice signature', () => {
  it('an L402 offer without an n tag carries no usable payee until the wallet verifies it', async () => {
    const offer = await offerFromServer();
    expect(offer.payee).toBe('unverified');
    const { offers } = await verifyPayees([offer], [wallet]);
    const signer = await wallet.payeeOf!(offer);
    expect(offers[0]!.payee).toBe(signer);
    expect(isPayeeVerified(offers[0]!)).toBe(true);
  });

  it('payees.deny refuses the real signer (the unverified placeholder used to slip past it)', async () => {
    const offer = await offerFromServer();
    const signer = await wallet.payeeOf!(offer);
    const deny: SpendPolicy = { global: { payees: { deny: [signer] } } };
    expect(await evaluate(deny, offer)).toMatchObject({ ok: false, code: 'payee_not_allowed' });
    const { offers } = await verifyPayees([offer], [wallet]);
    const verified = await evaluate(deny, offers[0]!);
    expect(verified).toMatchObject({ ok: false, code: 'payee_not_allowed' });
    expect((verified as { reason: string }).reason).toMatch(/deny list/);
  });

  it('payees.allow lets the real signer through once verified', async () => {
    const offer = await offerFromServer();
    const signer = await wallet.payeeOf!(offer);
    const allow: SpendPolicy = { global: { payees: { allow: [signer] } } };
    const { offers } = await verifyPayees([offer], [wallet]);
    expect(await evaluate(allow, offers[0]!)).toMatchObject({ ok: true });
  });
});
