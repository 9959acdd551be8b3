/**
 * MPP end to end: Stipend's paying fetch with the MPP adapter and the Stripe wallet (the real
 * `stripe` SDK pointed at the SPT stand-in) against the REAL mppx 0.11 server of the testkit.
 * The `/evm/article` route runs against a real local anvil chain.
 */
import {
  ChallengeParseError,
  createPayingFetch,
  getPayment,
  type PayingFetchConfig,
  PaymentFailedError,
} from '@stipend/client';
import { devAccount, type LocalChain, startChain } from '@stipend/testkit/chain';
import { type MppServer, startMppServer } from '@stipend/testkit/mpp';
import { type StripeStandIn, startStripeStandIn } from '@stipend/testkit/stripe';
import { evmWallet } from '@stipend/wallet-evm';
import { sptReference, stripeWallet } from '@stipend/wallet-stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
// Not exported from @stipend/client's index yet (the lead wires it); the source is used.
import { decodeBase64UrlJson, mppAdapter } from '../../packages/client/src/protocols/mpp/index.js';

const seller = 'profile_test_e2e_seller';
let chain: LocalChain;
let stripeApi: StripeStandIn;
let server: MppServer;
let sent: { url: string; method: string; headers: Headers; body?: string }[];

/** Counts what leaves the client: every request, and the Payment credentials in it. */
const recordingFetch: typeof fetch = async (input, init) => {
  const headers = new Headers(init?.headers);
  sent.push({
    url: String(input),
    method: init?.method ?? 'GET',
    headers,
    ...(typeof init?.body === 'string' ? { body: init.body } : {}),
  });
  return fetch(input, init);
};
const credentialsSent = () =>
  sent.filter((r) =>
    [r.headers.get('authorization'), r.headers.get('payment-authorization')].some((v) =>
      v?.startsWith('Payment '),
    ),
  );

function payingFetch(config: Partial<PayingFetchConfig> = {}) {
  return createPayingFetch({
    adapters: [
      mppAdapter({
        tokens: {
          [`${chain.network}/${chain.token.address}`]: { symbol: 'USDC', decimals: 6, peg: 'USD' },
        },
      }),
    ],
    wallets: [
      stripeWallet({ stripe: stripeApi.createStripeClient(), paymentMethod: 'pm_card_visa' }),
    ],
    policy: { global: { maxPerRequest: { usd: '2.00' } } },
    fetch: recordingFetch,
    ...config,
  });
}

/** The stand-in's token behind a record's reference (`spt:` + hash, never the id). */
async function tokenOf(reference: string) {
  for (const token of stripeApi.ledger.list()) {
    if ((await sptReference(token.id)) === reference) return token;
  }
  return undefined;
}

const sptIssued = () =>
  stripeApi.requests.filter((r) => r.path === '/v1/shared_payment/issued_tokens').length;
const succeeded = () =>
  stripeApi.paymentIntents.paymentIntents.filter((p) => p.status === 'succeeded').length;

beforeAll(async () => {
  chain = await startChain();
  stripeApi = await startStripeStandIn({ sellerProfile: seller });
  server = await startMppServer({
    networkId: seller,
    paymentIntents: stripeApi.paymentIntents,
    evm: { rpcUrl: chain.rpcUrl, tokenAddress: chain.token.address, chainId: chain.chainId },
  });
});
afterAll(async () => {
  await server?.close();
  await stripeApi?.close();
  await chain?.stop();
});
beforeEach(() => {
  sent = [];
});

describe('MPP stripe charges against the real mppx server', () => {
  it('pays /article: 200, a parsed receipt, exactly one SPT and one PaymentIntent', async () => {
    const before = stripeApi.paymentIntents.paymentIntents.length;
    const response = await payingFetch()(server.urlOf('/article'));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ title: 'Testkit article', body: 'Paid content.' });

    const intents = stripeApi.paymentIntents.paymentIntents.slice(before);
    expect(intents).toHaveLength(1);
    const payment = getPayment(response)!;
    expect(payment.status).toBe('paid');
    expect(payment.receipt).toMatchObject({
      protocol: 'mpp',
      reference: intents[0]!.id,
      raw: { method: 'stripe', status: 'success', reference: intents[0]!.id },
    });
    expect(payment.record).toMatchObject({
      status: 'committed',
      scheme: 'stripe.charge',
      amount: { value: 50n },
      payee: seller,
      receiptReference: intents[0]!.id,
      committedUsdMicros: 500_000n,
    });
    expect(intents[0]).toMatchObject({ amount: 50n });
    expect(payment.record.reference).toBe(await sptReference(intents[0]!.spt));
    expect(sent).toHaveLength(2);
    expect(credentialsSent()).toHaveLength(1);
    const idempotency = sent[1]!.headers.get('idempotency-key');
    expect(idempotency).toMatch(/^stipend-[0-9a-f]{32}$/);
  });

  it('echoes the challenge the server signed and the SPT as payload', async () => {
    const response = await payingFetch()(server.urlOf('/article'));
    expect(response.status).toBe(200);
    const credential = decodeBase64UrlJson(
      credentialsSent()[0]!.headers.get('authorization')!.slice('Payment '.length),
    ) as { challenge: Record<string, string>; payload: unknown };
    const issued = server.challenges.at(-1)!.challenge;
    expect(credential.challenge).toMatchObject({
      id: issued.id,
      realm: issued.realm,
      method: 'stripe',
      intent: 'charge',
      description: 'Testkit article',
      expires: issued.expires,
    });
    const { spt } = credential.payload as { spt: string };
    expect(spt).toMatch(/^spt_/);
    expect(getPayment(response)!.record.reference).toBe(await sptReference(spt));
  });

  it('refuses a replayed credential and charges nothing more', async () => {
    const paid = await payingFetch()(server.urlOf('/article'));
    expect(paid.status).toBe(200);
    const intents = stripeApi.paymentIntents.paymentIntents.length;
    const [credential] = credentialsSent();
    const replay = await fetch(server.urlOf('/article'), {
      headers: { authorization: credential!.headers.get('authorization')! },
    });
    expect(replay.status).toBe(402);
    expect(((await replay.json()) as { type: string }).type).toBe(
      'https://paymentauth.org/problems/verification-failed',
    );
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(intents);
    expect(stripeApi.paymentIntents.calls.at(-1)?.outcome).toBe('replayed');
  });

  it('does not pay an expired challenge (client clock 10 minutes ahead)', async () => {
    const spts = sptIssued();
    const intents = stripeApi.paymentIntents.paymentIntents.length;
    const error = await payingFetch({ now: () => Date.now() + 600_000 })(
      server.urlOf('/article'),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as ChallengeParseError).shortMessage).toMatch(/expired at .*fresh challenge/);
    expect(sptIssued()).toBe(spts);
    expect(stripeApi.paymentIntents.paymentIntents).toHaveLength(intents);
    expect(credentialsSent()).toHaveLength(0);
  });

  it('resends a POST body byte-identical with the credential', async () => {
    const body = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
    const response = await payingFetch()(server.urlOf('/echo'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe(body);
    expect(getPayment(response)?.status).toBe('paid');
    expect(credentialsSent()).toHaveLength(1);
  });

  it('keeps the Bearer token when the challenge asks for Payment-Authorization', async () => {
    const bearer = `Bearer ${server.bearerToken}`;
    const response = await payingFetch()(server.urlOf('/authed/article'), {
      headers: { authorization: bearer },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ title: 'Members article' });
    expect(sent).toHaveLength(2);
    expect(sent[1]!.headers.get('authorization')).toBe(bearer);
    expect(sent[1]!.headers.get('payment-authorization')).toMatch(/^Payment /);
  });

  it('pays the cheapest of several stripe challenges on /multi; the tempo offer has no wallet', async () => {
    const before = stripeApi.paymentIntents.paymentIntents.length;
    const response = await payingFetch()(server.urlOf('/multi'));
    expect(response.status).toBe(200);
    expect(stripeApi.paymentIntents.paymentIntents.slice(before).map((p) => p.amount)).toEqual([
      50n,
    ]);
    expect(credentialsSent()).toHaveLength(1);
  });

  it('pre-authorizes a route: later calls pay the remembered challenge in one round trip', async () => {
    const fetchOnce = payingFetch({ preauthorize: true });
    const before = stripeApi.paymentIntents.paymentIntents.length;
    const first = await fetchOnce(server.urlOf('/article'), { payment: { idempotencyKey: 'a' } });
    expect(first.status).toBe(200);
    expect(sent).toHaveLength(2);
    sent = [];
    const second = await fetchOnce(server.urlOf('/article'), { payment: { idempotencyKey: 'b' } });
    expect(second.status).toBe(200);
    expect(sent).toHaveLength(1);
    expect(credentialsSent()).toHaveLength(1);
    expect(getPayment(second)?.status).toBe('paid');
    const intents = stripeApi.paymentIntents.paymentIntents.slice(before);
    expect(intents.map((p) => p.status)).toEqual(['succeeded', 'succeeded']);
    expect(new Set(intents.map((p) => p.spt)).size).toBe(2);
  });

  it('sends Accept-Payment where the policy allows it', async () => {
    await payingFetch({ acceptPayment: ['127.0.0.1'] })(server.urlOf('/article'));
    expect(sent[0]!.headers.get('accept-payment')).toBe('stripe/charge');
    sent = [];
    await payingFetch()(server.urlOf('/article'));
    expect(sent[0]!.headers.get('accept-payment')).toBeNull();
  });

  it('stops after one declined attempt (mppx would pay again); the token is revoked and the budget released, never on the server word alone', async () => {
    stripeApi.paymentIntents.declineNext();
    const spts = sptIssued();
    const ok = succeeded();
    const fetchOnce = payingFetch();
    const response = await fetchOnce(server.urlOf('/article'));
    expect(response.status).toBe(402);
    const payment = getPayment(response)!;
    expect(payment.error).toBeInstanceOf(PaymentFailedError);
    expect((payment.error as PaymentFailedError).paid).not.toBe(true);
    expect(payment.error?.shortMessage).toMatch(/verification_failed/);
    expect(sptIssued()).toBe(spts + 1);
    expect(credentialsSent()).toHaveLength(1);
    expect(succeeded()).toBe(ok);
    // Released only once the wallet revoked the token (at once, or when reconciled).
    await fetchOnce.reconcile();
    const [record] = await fetchOnce.ledger.list();
    expect(record!.status).toBe('released');
    expect((await tokenOf(record!.reference!))?.status).toBe('revoked');
  });

  it('says a person must act when the PaymentIntent needs action', async () => {
    stripeApi.paymentIntents.requireActionNext();
    const response = await payingFetch()(server.urlOf('/article'));
    expect(response.status).toBe(402);
    const payment = getPayment(response)!;
    expect(payment.error?.shortMessage).toMatch(/action_required.*a person must/);
    expect(credentialsSent()).toHaveLength(1);
  });

  it('refuses offers below the card minimum with the wallet reason (no SPT)', async () => {
    const cheap = await startMppServer({
      networkId: seller,
      paymentIntents: stripeApi.paymentIntents,
      prices: { article: '0.30' },
    });
    try {
      const spts = sptIssued();
      const error = await payingFetch()(cheap.urlOf('/article')).catch((e: unknown) => e);
      expect((error as { reason?: string }).reason).toBe('no_wallet');
      expect((error as Error).message).toMatch(/below Stripe's card minimum of 50 usd/);
      expect(sptIssued()).toBe(spts);
    } finally {
      await cheap.close();
    }
  });
});

describe('MPP evm charge on the route that also offers x402 (MPP adapter only)', () => {
  it('offers both protocols; the MPP adapter pays the evm challenge exactly once', async () => {
    const unpaid = await fetch(server.urlOf('/evm/article'));
    expect(unpaid.status).toBe(402);
    expect(unpaid.headers.get('www-authenticate')).toMatch(/^Payment .*method="evm"/);
    expect(unpaid.headers.get('payment-required')).toBeTruthy();

    const payer = devAccount(5);
    await chain.mint(payer.address, 1_000_000n);
    const payee = devAccount(1).address;
    const before = await chain.balanceOf(payee);
    const wallet = evmWallet({
      account: payer,
      publicClient: chain.publicClient,
    });
    const response = await payingFetch({ wallets: [wallet] })(server.urlOf('/evm/article'));
    expect(response.status).toBe(200);
    const payment = getPayment(response)!;
    expect(payment.record).toMatchObject({
      protocol: 'mpp',
      scheme: 'evm.charge',
      network: chain.network,
      amount: { value: 10_000n },
      status: 'committed',
    });
    expect(payment.receipt?.raw).toMatchObject({ method: 'evm', status: 'success' });
    expect(await chain.balanceOf(payee)).toBe(before + 10_000n);
    expect(credentialsSent()).toHaveLength(1);
    expect(sent.filter((r) => r.headers.has('payment-signature'))).toHaveLength(0);
  });
});
