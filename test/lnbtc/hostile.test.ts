/**
 * Hostile x402 `lnbtc` sellers: the testkit seller with its challenge rewritten (or its paid
 * answer refused) per case. Money is counted at the simulated rail: a refused challenge pays
 * nothing; a purchase is paid at most once, whatever the seller answers after the proof.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPayment, isStipendError } from '@stipend/client';
import { createLightningNetwork } from '@stipend/testkit/lightning';
import {
  LNBTC_NETWORK_IDS,
  type LnbtcChallengeContext,
  type LnbtcSeller,
  type LnbtcSellerOptions,
  sellerHttpBinding,
  startLnbtcSeller,
} from '@stipend/testkit/lnbtc';
import { afterEach, describe, expect, it } from 'vitest';
import { paidHashes, payingSetup } from './helpers.js';

const network = createLightningNetwork();
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function seller(options: Omit<LnbtcSellerOptions, 'network'>): Promise<LnbtcSeller> {
  const started = await startLnbtcSeller({ network, ...options });
  open.push(started);
  return started;
}

/** A rewrite of the one requirement (and its invoice) of each challenge. */
function rewrite(
  change: (requirement: Record<string, unknown>, context: LnbtcChallengeContext) => void,
) {
  return (context: LnbtcChallengeContext) => {
    const paymentRequired = structuredClone(context.paymentRequired) as unknown as {
      accepts: Record<string, unknown>[];
    };
    change(paymentRequired.accepts[0]!, context);
    return paymentRequired;
  };
}

const extraOf = (requirement: Record<string, unknown>) =>
  requirement.extra as Record<string, unknown>;

async function refused(
  payer: string,
  s: LnbtcSeller,
  path = 'article/A',
  init?: RequestInit,
): Promise<unknown> {
  const { payingFetch } = payingSetup(network, payer);
  const error = await payingFetch(`${s.url}${path}`, init).then(
    (response) => response,
    (e: unknown) => e,
  );
  expect(isStipendError(error)).toBe(true);
  expect(network.payments.filter((payment) => payment.payer === payer)).toEqual([]);
  expect(s.settlements).toEqual([]);
  return error;
}

const POST = {
  method: 'POST',
  body: '{"q":1}',
  headers: { 'content-type': 'application/json', 'x-account': 'a1' },
};

describe('hostile lnbtc sellers', () => {
  it('an invoice amount that is not the offer amount is never paid', async () => {
    const s = await seller({
      rewriteChallenge: rewrite((requirement, context) => {
        extraOf(requirement).invoice = context.issue({
          amountMsat: 250_000n,
          descriptionHash: extraOf(requirement).requestHash as string,
          expirySeconds: 300,
        }).bolt11;
      }),
    });
    const error = await refused('wrong-amount', s);
    expect(JSON.stringify(error)).toContain('invoice amount');
  });

  it('an expired invoice is never paid', async () => {
    const s = await seller({
      rewriteChallenge: rewrite((requirement, context) => {
        extraOf(requirement).invoice = context.issue({
          amountMsat: 25_000n,
          descriptionHash: extraOf(requirement).requestHash as string,
          expirySeconds: 300,
          timestamp: Math.floor(Date.now() / 1000) - 301,
        }).bolt11;
      }),
    });
    const error = await refused('expired', s);
    expect(JSON.stringify(error)).toContain('expired');
  });

  it('an offer on another network than its invoice (mainnet id, regtest invoice) is never paid', async () => {
    const s = await seller({
      rewriteChallenge: rewrite((requirement) => {
        requirement.network = LNBTC_NETWORK_IDS.mainnet;
      }),
    });
    const error = await refused('other-network', s);
    expect(JSON.stringify(error)).toContain(
      "the invoice is for regtest, the offer's network is mainnet",
    );
  });

  it('an invoice whose description hash binds another body is never paid, even with a matching requestHash', async () => {
    const s = await seller({
      rewriteChallenge: rewrite((requirement, context) => {
        // A consistent lie: the hash of another body in both the echo and the signed invoice.
        const other = sellerHttpBinding({
          method: 'POST',
          url: context.paymentRequired.resource.url,
          body: new TextEncoder().encode('{"q":2}'),
          headerLines: Object.entries(POST.headers),
          boundHeaders: ['content-type', 'x-account'],
        }).requestHash;
        extraOf(requirement).requestHash = other;
        extraOf(requirement).invoice = context.issue({
          amountMsat: 50_000n,
          descriptionHash: other,
          expirySeconds: 300,
        }).bolt11;
      }),
    });
    const error = await refused('other-body', s, 'report', POST);
    expect(JSON.stringify(error)).toContain('not the hash of this request');
  });

  it('a new invoice on the answer to the paid retry is not paid: one payment, outcome paid-not-delivered', async () => {
    const s = await seller({ refuseAfterPayment: true });
    const { payingFetch } = payingSetup(network, 'second-invoice');
    const outcome = await payingFetch(`${s.url}article/A`).then(
      (response) => response,
      (e: unknown) => e,
    );
    expect(paidHashes(network, 'second-invoice')).toHaveLength(1);
    // The seller issued a second invoice with its 402; nobody paid it.
    expect(s.challenges).toHaveLength(2);
    expect(network.invoiceStatus(s.challenges[1]!.paymentHash)?.state).toBe('open');
    expect(outcome).toBeInstanceOf(Response);
    expect((outcome as Response).status).toBe(402);
    expect(getPayment(outcome as Response)?.status).toBe('rejected');
    // Money moved at the rail: the ledger commits it (the seller's 402 does not release it).
    const records = await payingFetch.ledger.list();
    expect(records.map((r) => [r.status, r.outcome, r.amount.value, r.reference])).toEqual([
      ['committed', 'rejected', 25_000n, paidHashes(network, 'second-invoice')[0]],
    ]);
  });

  it('a seller that keeps answering 402 is paid once per idempotency key', async () => {
    const s = await seller({ refuseAfterPayment: true });
    const { payingFetch } = payingSetup(network, 'keeps-402');
    const init = { payment: { idempotencyKey: 'order-1' } };
    for (let i = 0; i < 3; i++) {
      await payingFetch(`${s.url}article/A`, init).catch((e: unknown) => e);
    }
    expect(paidHashes(network, 'keeps-402')).toHaveLength(1);
    expect(s.settlements).toHaveLength(1);
  });

  it('a redirect to another origin before the 402: paid there without the credentials fetch stripped', async () => {
    const s = await seller({
      routes: [
        {
          method: 'GET',
          path: '/whoami',
          priceMsat: 10_000n,
          serve: (request) =>
            Response.json({
              authorization: request.headers.get('authorization'),
              cookie: request.headers.get('cookie'),
            }),
        },
        { method: 'POST', path: '/report', priceMsat: 50_000n },
      ],
    });
    const front = createServer((req, res) => {
      res.writeHead(307, { location: `${s.origin}${req.url}` });
      res.end();
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    open.push({
      close: () => new Promise<void>((resolve) => front.close(() => resolve())),
    });
    // 127.0.0.1 and localhost are two origins.
    const frontUrl = `http://localhost:${(front.address() as AddressInfo).port}`;
    const { payingFetch } = payingSetup(network, 'redirected');
    const response = await payingFetch(`${frontUrl}/whoami`, {
      headers: { authorization: 'Bearer app-secret', cookie: 'session=1' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ authorization: null, cookie: null });
    expect(paidHashes(network, 'redirected')).toHaveLength(1);

    // A redirected POST may have lost its body on the way: refused before anything is paid.
    const before = network.payments.length;
    const post = await payingFetch(`${frontUrl}/report`, { method: 'POST', body: 'x' }).catch(
      (e: unknown) => e,
    );
    expect(isStipendError(post)).toBe(true);
    expect(network.payments.length).toBe(before);
  });
});
