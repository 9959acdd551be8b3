import {
  LNBTC_CLIENT_INVOICE_CASES,
  LNBTC_HTTP_BINDING,
  LNBTC_MAINNET,
  LNBTC_SPEC_PAYMENT_HASH,
  LNBTC_SPEC_PREIMAGE,
  LNBTC_SPEC_REQUIREMENT,
  LNBTC_SPEC_URL,
  LNBTC_TEST_NOW,
} from '@stipend/testkit/x402';
import { describe, expect, it } from 'vitest';
import { isStipendError } from '../../errors/base.js';
import { hexToBytes } from '../../internal/codec.js';
import type { PaymentOffer } from '../../offer.js';
import type { Proof } from '../../wallet/wallet.js';
import type { ChallengeInput, RetryRequest } from '../adapter.js';
import { x402Adapter } from './adapter.js';
import { decodeBase64Json } from './base64.js';
import { b64, challenge } from './fixtures.test-helpers.js';
import { x402Lightning } from './lightning.js';
import { LNBTC_NETWORKS, type LnbtcRequestView, lnbtcBindings } from './lnbtc.js';
import type { X402OfferRaw } from './terms.js';

type Requirement = Record<string, unknown> & { extra: Record<string, unknown> };
const spec = (): Requirement => structuredClone(LNBTC_SPEC_REQUIREMENT) as unknown as Requirement;

function input(
  accepts: unknown[],
  parts: {
    url?: string;
    method?: string;
    resourceUrl?: string;
    now?: number;
    request?: LnbtcRequestView;
  } = {},
): ChallengeInput {
  const url = parts.url ?? LNBTC_SPEC_URL;
  const header = b64({ x402Version: 2, resource: { url: parts.resourceUrl ?? url }, accepts });
  const base = challenge({
    url,
    method: parts.method ?? 'GET',
    headers: { 'payment-required': header },
  });
  return {
    ...base,
    now: (parts.now ?? LNBTC_TEST_NOW) * 1000,
    ...(parts.request ? { request: async () => parts.request } : {}),
  } as ChallengeInput;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isStipendError(error)).toBe(true);
  return JSON.stringify((error as { toJSON(): unknown }).toJSON());
}

const retry: RetryRequest = {
  method: 'GET',
  url: new URL(LNBTC_SPEC_URL),
  headers: new Headers(),
  idempotencyKey: `GET ${LNBTC_SPEC_URL}`,
};
const proofOf = (offer: PaymentOffer, preimage: unknown): Proof => ({
  offerId: offer.id,
  reference: LNBTC_SPEC_PAYMENT_HASH,
  settlement: 'final',
  secret: { payload: { preimage, extra: 'not sent' } },
});

describe('lnbtc offers (x402 exact on Lightning)', () => {
  it('reads the spec example into an x402:exact offer in msat with the one fee cap', async () => {
    const [offer] = await x402Adapter({ lightning: x402Lightning() }).parse(input([spec()]));
    expect(offer).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      network: LNBTC_MAINNET,
      amount: { value: 25_000n, unit: { kind: 'msat' } },
      maxFee: { value: 25_000n / 100n + 10_000n },
      payee: 'unverified',
      reusable: false,
      expiresAt: (LNBTC_TEST_NOW + 300) * 1000,
    });
    const raw = offer!.raw as X402OfferRaw;
    expect(raw.transfer).toBe('bolt11');
    expect(raw.invoice).toBe(LNBTC_SPEC_REQUIREMENT.extra.invoice);
    expect(raw.paymentHash).toBe(LNBTC_SPEC_PAYMENT_HASH);
    expect(raw.requirement).toEqual(LNBTC_SPEC_REQUIREMENT);
  });

  it('is opt-in: x402Adapter() without x402Lightning() refuses an lnbtc offer, naming the option', async () => {
    const text = await refusal(Promise.resolve(x402Adapter().parse(input([spec()]))));
    expect(text).toContain('x402Adapter({ lightning: x402Lightning() })');
  });

  it('takes maxFee from x402Adapter({ lightning })', async () => {
    const adapter = x402Adapter({ lightning: x402Lightning({ maxFeeMsat: 777n }) });
    const [offer] = await adapter.parse(input([spec()]));
    expect(offer!.maxFee?.value).toBe(777n);
  });

  it('maps every lnbtc network to its BOLT 11 network (mainnet and testnet as the spec names them)', () => {
    expect(LNBTC_NETWORKS[LNBTC_MAINNET]).toBe('mainnet');
    expect(LNBTC_NETWORKS['lnbtc:000000000933ea01ad0ee984209779ba']).toBe('testnet');
    expect(LNBTC_NETWORKS['lnbtc:0f9188f13cb7b2c71f2a335e3a4fc328']).toBe('regtest');
  });

  const hostile: [string, (r: Requirement) => void, string][] = [
    [
      'an amount other than the invoice amount',
      (r) => {
        r.amount = '25001';
      },
      'invoice amount',
    ],
    [
      'a smaller amount than the invoice asks',
      (r) => {
        r.amount = '24000';
      },
      'invoice amount',
    ],
    [
      'another network than the invoice currency',
      (r) => {
        r.network = 'lnbtc:000000000933ea01ad0ee984209779ba';
      },
      'testnet',
    ],
    [
      'an unknown lnbtc network',
      (r) => {
        r.network = 'lnbtc:00000000000000000000000000000000';
      },
      'not a known lnbtc network',
    ],
    [
      'an expiry other than maxTimeoutSeconds',
      (r) => {
        r.maxTimeoutSeconds = 600;
      },
      'maxTimeoutSeconds',
    ],
    [
      'a request hash of another request',
      (r) => {
        r.extra.requestHash = LNBTC_HTTP_BINDING[1]!.requestHash;
      },
      'not the hash of this request',
    ],
    [
      'a payment flow other than upfront',
      (r) => {
        r.extra.paymentFlow = 'deferred';
      },
      'paymentFlow',
    ],
    [
      'no payment flow',
      (r) => {
        delete r.extra.paymentFlow;
      },
      'paymentFlow',
    ],
    [
      'the invoice transfer method',
      (r) => {
        r.extra.assetTransferMethod = 'invoice';
      },
      'not bolt11',
    ],
    [
      'an asset other than BTC',
      (r) => {
        r.asset = 'USDC';
      },
      'not BTC',
    ],
    [
      'an upper-case payTo',
      (r) => {
        r.payTo = String(r.payTo).toUpperCase();
      },
      'payTo',
    ],
    [
      'no invoice',
      (r) => {
        delete r.extra.invoice;
      },
      'extra.invoice',
    ],
    [
      'an unknown binding profile',
      (r) => {
        r.extra.requestBindingProfile = 'http:2';
      },
      'unsupported request binding',
    ],
    [
      'mcp:1 for an HTTP request',
      (r) => {
        r.extra.requestBindingProfile = 'mcp:1';
        r.extra.requestBindingParams = { server: 'https://api.example.com/mcp', metadata: [] };
      },
      'http:1 only',
    ],
    [
      'an extra binding parameter',
      (r) => {
        r.extra.requestBindingParams = { headers: [], more: 1 };
      },
      'exactly { headers }',
    ],
  ];
  it.each(hostile)('refuses %s before anything is paid', async (_name, mutate, words) => {
    const requirement = spec();
    mutate(requirement);
    expect(
      await refusal(
        Promise.resolve(x402Adapter({ lightning: x402Lightning() }).parse(input([requirement]))),
      ),
    ).toContain(words);
  });

  it.each(LNBTC_CLIENT_INVOICE_CASES.map((c) => [c.id, c] as const))(
    'refuses the vector %s',
    async (_id, vector) => {
      const requirement = spec();
      requirement.extra.invoice = vector.invoice;
      const text = await refusal(
        Promise.resolve(x402Adapter({ lightning: x402Lightning() }).parse(input([requirement]))),
      );
      expect(text).toContain(
        vector.error === 'invalid_exact_lnbtc_invoice_expired' ? 'expired' : 'future',
      );
    },
  );

  it('refuses an invoice at the end of its expiry (open question client-expiry-boundary: reject)', async () => {
    const text = await refusal(
      Promise.resolve(
        x402Adapter({ lightning: x402Lightning() }).parse(
          input([spec()], { now: LNBTC_TEST_NOW + 300 }),
        ),
      ),
    );
    expect(text).toContain('expired');
  });

  it('refuses an invoice bound to another URL (the request for article B)', async () => {
    const url = 'https://api.example.com/article/B';
    expect(
      await refusal(
        Promise.resolve(
          x402Adapter({ lightning: x402Lightning() }).parse(input([spec()], { url })),
        ),
      ),
    ).toContain('not the hash of this request');
  });

  it('refuses when resource.url is not the URL requested', async () => {
    const resourceUrl = 'https://api.example.com/article/B';
    expect(
      await refusal(
        Promise.resolve(
          x402Adapter({ lightning: x402Lightning() }).parse(input([spec()], { resourceUrl })),
        ),
      ),
    ).toContain('resource.url');
  });

  it('refuses a request whose body it cannot see (POST without the request view)', async () => {
    expect(
      await refusal(
        Promise.resolve(
          x402Adapter({ lightning: x402Lightning() }).parse(input([spec()], { method: 'POST' })),
        ),
      ),
    ).toContain('body of this POST request is not known');
  });

  it('refuses bound headers whose sent values it cannot see', async () => {
    const requirement = spec();
    requirement.extra.requestBindingParams = { headers: ['accept'] };
    expect(
      await refusal(
        Promise.resolve(x402Adapter({ lightning: x402Lightning() }).parse(input([requirement]))),
      ),
    ).toContain('headers (accept)');
  });

  it('binds the body and headers the request view gives (POST vector body-json-compact)', async () => {
    const vector = LNBTC_HTTP_BINDING.find((v) => v.id === 'body-json-compact')!;
    const requirement = spec();
    const request: LnbtcRequestView = {
      method: 'POST',
      url: LNBTC_SPEC_URL,
      headers: new Headers(),
      body: hexToBytes(vector.bodyHex),
    };
    const decoded = { accepts: [requirement] };
    const bindings = await lnbtcBindings(
      decoded,
      input([requirement], { method: 'POST', request }),
    );
    expect(bindings.get(requirement)).toMatchObject({ requestHash: vector.requestHash });
  });

  it('an MCP tool call accepts mcp:1 only for the server it calls', async () => {
    const requirement = spec();
    requirement.extra.requestBindingProfile = 'mcp:1';
    requirement.extra.requestBindingParams = { server: 'https://evil.example/mcp', metadata: [] };
    const request: LnbtcRequestView = {
      method: 'POST',
      url: 'https://api.example.com/mcp',
      headers: new Headers(),
      mcp: {
        server: 'https://api.example.com/mcp',
        name: 'get_article',
        arguments: { article: 'A' },
      },
    };
    const bindings = await lnbtcBindings(
      { accepts: [requirement] },
      input([requirement], { request }),
    );
    expect(bindings.get(requirement)).toMatchObject({
      error: expect.stringContaining('binds MCP server'),
    });
    requirement.extra.requestBindingParams = {
      server: 'https://api.example.com/mcp',
      metadata: [],
    };
    const again = await lnbtcBindings(
      { accepts: [requirement] },
      input([requirement], { request }),
    );
    expect(again.get(requirement)).toMatchObject({
      requestHash: '03941bfedc6af8a09b2f459fe83470284a76a8c75801caa9e1487a9276a693f4',
    });
  });

  it('reads the request view only when an lnbtc entry is there, and once for all of them', async () => {
    let asked = 0;
    const view: LnbtcRequestView = { method: 'GET', url: LNBTC_SPEC_URL, headers: new Headers() };
    const counted = (accepts: unknown[]) => ({
      ...input(accepts),
      request: async () => {
        asked++;
        return view;
      },
    });
    const evm = { ...spec(), network: 'eip155:8453' };
    await lnbtcBindings({ accepts: [evm] }, counted([evm]));
    expect(asked).toBe(0);
    const [a, b] = [spec(), spec()];
    const bindings = await lnbtcBindings({ accepts: [a, b] }, counted([a, b]));
    expect(asked).toBe(1);
    expect(bindings.get(a)).toMatchObject({
      requestHash: LNBTC_SPEC_REQUIREMENT.extra.requestHash,
    });
  });

  it('refuses a binding over a header fetch sets on its own when the request does not set it', async () => {
    const requirement = spec();
    requirement.extra.requestBindingParams = { headers: ['user-agent'] };
    const request: LnbtcRequestView = {
      method: 'GET',
      url: LNBTC_SPEC_URL,
      headers: new Headers({ accept: '*/*' }),
    };
    const bindings = await lnbtcBindings(
      { accepts: [requirement] },
      input([requirement], { request }),
    );
    expect(bindings.get(requirement)).toMatchObject({
      error: expect.stringContaining('user-agent, which fetch sets on its own'),
    });
    // Set explicitly, it is what goes on the wire: bound as sent.
    const set = { ...request, headers: new Headers({ 'user-agent': 'agent/1' }) };
    const again = await lnbtcBindings(
      { accepts: [requirement] },
      input([requirement], { request: set }),
    );
    expect(again.get(requirement)).toHaveProperty('requestHash');
  });

  it('keeps the other offers when an lnbtc offer is refused', async () => {
    const bad = spec();
    bad.amount = '1';
    const [offer] = await x402Adapter({ lightning: x402Lightning() }).parse(input([bad, spec()]));
    expect(offer?.amount.value).toBe(25_000n);
  });
});

describe('the lnbtc proof and its outcome', () => {
  it('sends only the preimage, lowercase, with the accepted requirement echoed exactly', async () => {
    const adapter = x402Adapter({ lightning: x402Lightning() });
    const [offer] = await adapter.parse(input([spec()]));
    const headers = adapter.proofHeaders(
      offer!,
      proofOf(offer!, LNBTC_SPEC_PREIMAGE.toUpperCase()),
      retry,
    );
    const sent = decodeBase64Json(headers['PAYMENT-SIGNATURE']!) as Record<string, unknown>;
    expect(sent.payload).toEqual({ preimage: LNBTC_SPEC_PREIMAGE });
    expect(sent.accepted).toEqual(LNBTC_SPEC_REQUIREMENT);
    expect(sent.x402Version).toBe(2);
  });

  it.each([
    ['a short preimage', 'abcd'],
    ['no preimage', undefined],
    ['a non-hex preimage', 'z'.repeat(64)],
  ])('refuses to build a proof from %s', async (_name, preimage) => {
    const adapter = x402Adapter({ lightning: x402Lightning() });
    const [offer] = await adapter.parse(input([spec()]));
    let error: unknown;
    try {
      adapter.proofHeaders(offer!, proofOf(offer!, preimage), retry);
    } catch (e) {
      error = e;
    }
    expect(isStipendError(error) && error.code).toBe('PROOF_INVALID');
  });

  it('a 402 after the preimage was sent is money moved, never released', async () => {
    const adapter = x402Adapter({ lightning: x402Lightning() });
    const [offer] = await adapter.parse(input([spec()]));
    const proof = proofOf(offer!, LNBTC_SPEC_PREIMAGE);
    const refusedAgain = new Response('{}', {
      status: 402,
      headers: {
        'payment-required': b64({
          x402Version: 2,
          error: 'invalid_exact_lnbtc_invoice_expired',
          resource: { url: LNBTC_SPEC_URL },
          accepts: [spec()],
        }),
      },
    });
    const outcome = await adapter.settle(offer!, proof, refusedAgain);
    expect(outcome).toMatchObject({ kind: 'rejected', moneyMoved: 'yes' });
    const failedReceipt = new Response('{}', {
      status: 402,
      headers: {
        'payment-response': b64({
          success: false,
          errorReason: 'duplicate_settlement',
          transaction: '',
        }),
      },
    });
    expect(await adapter.settle(offer!, proof, failedReceipt)).toMatchObject({ moneyMoved: 'yes' });
  });

  it('a receipt names the payment hash as its reference', async () => {
    const adapter = x402Adapter({ lightning: x402Lightning() });
    const [offer] = await adapter.parse(input([spec()]));
    const ok = new Response('ok', {
      headers: {
        'payment-response': b64({
          success: true,
          transaction: LNBTC_SPEC_PAYMENT_HASH,
          network: LNBTC_MAINNET,
        }),
      },
    });
    const outcome = await adapter.settle(offer!, proofOf(offer!, LNBTC_SPEC_PREIMAGE), ok);
    expect(outcome).toMatchObject({
      kind: 'accepted',
      receipt: { reference: LNBTC_SPEC_PAYMENT_HASH },
    });
  });

  it('never pre-authorizes lnbtc terms (an invoice is paid once)', async () => {
    const adapter = x402Adapter({ lightning: x402Lightning() });
    const [offer] = await adapter.parse(input([spec()]));
    adapter.remember!(offer!, proofOf(offer!, LNBTC_SPEC_PREIMAGE), retry, new Response('ok'));
    expect(adapter.preauthorize!(retry, Date.now())).toBeUndefined();
  });
});
