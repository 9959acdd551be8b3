import { createInvoice, createNodeKey, randomBytes32, sha256Hex } from '@stipend/testkit/lightning';
import { describe, expect, it } from 'vitest';
import { evmRequest, PAYEE, stripeRequest, USDC_BASE } from './fixtures.test-helpers.js';
import { type KnownToken, readTerms, UNVERIFIED_PAYEE } from './terms.js';

const ctx = (tokens: Record<string, KnownToken> = {}) => ({
  realm: 'api.example.com',
  tokens: new Map(Object.entries(tokens)),
});

describe('readTerms', () => {
  it('reads a stripe charge in ISO 4217 minor units, payee = seller profile', () => {
    expect(readTerms('stripe', 'charge', stripeRequest(), ctx())).toEqual({
      amount: { value: 75n, unit: { kind: 'fiat', currency: 'USD', exponent: 2 } },
      payee: 'profile_test_123',
    });
    const yen = readTerms(
      'stripe',
      'charge',
      stripeRequest({ amount: '500', currency: 'JPY' }),
      ctx(),
    );
    expect(yen.amount.unit).toEqual({ kind: 'fiat', currency: 'JPY', exponent: 0 });
    expect(yen.amount.value).toBe(500n);
  });

  it('refuses stripe requests with a bad amount, currency or no seller profile', () => {
    const bad = (request: unknown) => () => readTerms('stripe', 'charge', request, ctx());
    expect(bad(stripeRequest({ amount: '0.75' }))).toThrow(/amount/);
    expect(bad(stripeRequest({ amount: '-5' }))).toThrow(/amount/);
    expect(bad(stripeRequest({ amount: '075' }))).toThrow(/amount/);
    expect(bad(stripeRequest({ amount: '0' }))).toThrow(/amount/);
    expect(bad(stripeRequest({ amount: 75 }))).toThrow(/amount/);
    expect(bad(stripeRequest({ currency: 'usdc' }))).toThrow(/currency/);
    expect(bad(stripeRequest({ currency: 'xyz' }))).toThrow(/ISO 4217/);
    expect(bad(stripeRequest({ methodDetails: {} }))).toThrow(/networkId/);
    expect(bad(stripeRequest({ methodDetails: { networkId: '' } }))).toThrow(/networkId/);
  });

  it('reads an evm charge in a known asset with the registry decimals, symbol and peg', () => {
    const terms = readTerms('evm', 'charge', evmRequest(), ctx());
    expect(terms).toEqual({
      amount: {
        value: 10000n,
        unit: {
          kind: 'token',
          network: 'eip155:8453',
          asset: USDC_BASE,
          decimals: 6,
          symbol: 'USDC',
          peg: 'USD',
        },
      },
      payee: PAYEE,
      network: 'eip155:8453',
      asset: USDC_BASE,
    });
    const renamed = readTerms(
      'evm',
      'charge',
      evmRequest(),
      ctx({ [`eip155:8453/${USDC_BASE.toLowerCase()}`]: { decimals: 6, symbol: 'bUSDC' } }),
    );
    expect(renamed.amount.unit).toMatchObject({ symbol: 'bUSDC', peg: 'USD', decimals: 6 });
  });

  it('prices only from client-known decimals: a challenge claiming 18 for a 6-decimal token is refused', () => {
    // The finding: 500,000 USDC sent as "18 decimals" looked like $0.000001.
    const claimed = evmRequest({
      amount: '500000000000',
      methodDetails: { chainId: 8453, decimals: 18 },
    });
    expect(() => readTerms('evm', 'charge', claimed, ctx())).toThrow(
      /claims 18 decimals, but it has 6; it is not paid/,
    );
    const key = `eip155:8453/${USDC_BASE.toLowerCase()}`;
    expect(() =>
      readTerms('evm', 'charge', evmRequest(), ctx({ [key]: { decimals: 18 } })),
    ).toThrow(/claims 6 decimals, but it has 18/);
    // Without stated decimals, the known ones are used.
    const noDecimals = evmRequest({ methodDetails: { chainId: 8453 } });
    expect(readTerms('evm', 'charge', noDecimals, ctx()).amount.unit).toMatchObject({
      decimals: 6,
    });
  });

  it('prices only from client-known decimals: an unknown token is refused whatever decimals it states', () => {
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const stated = evmRequest({ currency: token, methodDetails: { chainId: 31337, decimals: 6 } });
    let refusal: unknown;
    try {
      readTerms('evm', 'charge', stated, ctx());
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ assetRefused: true });
    expect((refusal as Error).message).toMatch(
      /not a known asset.*never used.*mppAdapter\(\{ tokens: \{ 'eip155:31337\/0x5FbDB/,
    );
    const key = `eip155:31337/${token.toLowerCase()}`;
    expect(
      readTerms('evm', 'charge', stated, ctx({ [key]: { decimals: 6, peg: 'USD' } })).amount.unit,
    ).toMatchObject({ decimals: 6, peg: 'USD' });
  });

  it('refuses evm requests with a bad recipient, token or chain', () => {
    const bad = (request: unknown) => () => readTerms('evm', 'charge', request, ctx());
    expect(bad(evmRequest({ recipient: '0x1234' }))).toThrow(/recipient/);
    expect(bad(evmRequest({ currency: 'USDC' }))).toThrow(/currency/);
    expect(bad(evmRequest({ methodDetails: { chainId: '8453', decimals: 6 } }))).toThrow(/chainId/);
    expect(bad(evmRequest({ methodDetails: { chainId: 0, decimals: 6 } }))).toThrow(/chainId/);
  });

  it('reads tempo charges with TIP-20 decimals (6) and knows pathUSD is USD', () => {
    const request = {
      amount: '750000',
      currency: '0x20c0000000000000000000000000000000000000',
      methodDetails: { chainId: 42431 },
      recipient: PAYEE,
    };
    expect(readTerms('tempo', 'charge', request, ctx()).amount).toEqual({
      value: 750000n,
      unit: {
        kind: 'token',
        network: 'eip155:42431',
        asset: '0x20c0000000000000000000000000000000000000',
        decimals: 6,
        peg: 'USD',
      },
    });
    expect(() => readTerms('tempo', 'charge', { ...request, methodDetails: {} }, ctx())).toThrow(
      /chainId/,
    );
  });

  it('parses a tempo session (price per unit) but needs its escrow', () => {
    const session = {
      amount: '100',
      currency: '0x20c0000000000000000000000000000000000000',
      methodDetails: {
        chainId: 4217,
        escrowContract: '0x4d50500000000000000000000000000000000000',
        sessionProtocol: 'v2',
      },
      recipient: '0x12359dEE87A430Cf314127A429A33a2a0C0A612A',
      suggestedDeposit: '5000000',
      unitType: 'token',
    };
    expect(readTerms('tempo', 'session', session, ctx()).amount.value).toBe(100n);
    expect(() =>
      readTerms('tempo', 'session', { ...session, methodDetails: { chainId: 4217 } }, ctx()),
    ).toThrow(/escrowContract/);
  });

  it('reads a lightning charge in msat and checks the invoice against the request', () => {
    const node = createNodeKey();
    const paymentHash = sha256Hex(randomBytes32());
    const invoice = createInvoice({ nodeKey: node, amountMsat: 100_000n, paymentHash });
    const request = {
      amount: '100',
      currency: 'sat',
      methodDetails: { invoice: invoice.bolt11, paymentHash, network: 'regtest' },
    };
    const terms = readTerms('lightning', 'charge', request, ctx());
    expect(terms.amount).toEqual({ value: 100_000n, unit: { kind: 'msat' } });
    expect(terms.invoice).toBe(invoice.bolt11);
    // No `n` tag: the payee is left for the wallet to verify, never the realm or a claim.
    expect(terms.payee).toBe(UNVERIFIED_PAYEE);
    expect(terms.expiresAt).toBe(invoice.expiresAt * 1000);

    const lie = (overrides: Record<string, unknown>) => () =>
      readTerms('lightning', 'charge', { ...request, ...overrides }, ctx());
    expect(lie({ amount: '99' })).toThrow(
      /invoice is for 100000 msat, but the request says 99 sat/,
    );
    expect(
      lie({ methodDetails: { ...request.methodDetails, paymentHash: '00'.repeat(32) } }),
    ).toThrow(/paymentHash/);
    expect(lie({ methodDetails: { ...request.methodDetails, network: 'mainnet' } })).toThrow(
      /network/,
    );
    expect(lie({ methodDetails: { invoice: 'lnbc1garbage' } })).toThrow(/BOLT11/);
    expect(lie({ currency: 'msat' })).toThrow(/currency/);
  });

  it('takes the lightning payee from the invoice when it names one, and its expiry', () => {
    const node = createNodeKey();
    const invoice = createInvoice({
      nodeKey: node,
      amountMsat: 5000n,
      paymentHash: sha256Hex(randomBytes32()),
      includePayeeNodeKey: true,
      timestamp: 1_800_000_000,
      expirySeconds: 120,
    });
    const terms = readTerms(
      'lightning',
      'charge',
      { amount: '5', currency: 'sat', methodDetails: { invoice: invoice.bolt11 } },
      ctx(),
    );
    expect(terms.payee).toBe(node.publicKeyHex);
    expect(terms.expiresAt).toBe(1_800_000_120_000);
  });

  it("lightning.charge payee is the invoice's n tag, never the server's recipient", () => {
    const node = createNodeKey();
    const other = createNodeKey();
    const request = (includePayeeNodeKey: boolean, recipient?: string) => ({
      amount: '5',
      currency: 'sat',
      ...(recipient !== undefined ? { recipient } : {}),
      methodDetails: {
        invoice: createInvoice({
          nodeKey: node,
          amountMsat: 5000n,
          paymentHash: sha256Hex(randomBytes32()),
          includePayeeNodeKey,
        }).bolt11,
      },
    });
    // A recipient that disagrees with the invoice's node: refused.
    expect(() =>
      readTerms('lightning', 'charge', request(true, other.publicKeyHex), ctx()),
    ).toThrow(/recipient is not the node the invoice names/);
    // The same node (any case): fine.
    expect(
      readTerms('lightning', 'charge', request(true, node.publicKeyHex.toUpperCase()), ctx()).payee,
    ).toBe(node.publicKeyHex);
    // No n tag: the recipient is not believed; the wallet verifies.
    expect(readTerms('lightning', 'charge', request(false, other.publicKeyHex), ctx()).payee).toBe(
      UNVERIFIED_PAYEE,
    );
  });

  it('lightning.charge offers reserve a routing-fee cap (maxFee, default 1% + 10 sat)', () => {
    const invoice = createInvoice({
      nodeKey: createNodeKey(),
      amountMsat: 1_000_000n,
      paymentHash: sha256Hex(randomBytes32()),
    });
    const request = { amount: '1000', currency: 'sat', methodDetails: { invoice: invoice.bolt11 } };
    expect(readTerms('lightning', 'charge', request, ctx()).maxFee).toEqual({
      value: 20_000n,
      unit: { kind: 'msat' },
    });
    expect(
      readTerms('lightning', 'charge', request, { ...ctx(), lightningFeeCap: 3_000n }).maxFee
        ?.value,
    ).toBe(3_000n);
  });

  it('reads unknown methods loosely into units no wallet pays', () => {
    const card = readTerms(
      'card',
      'charge',
      { amount: '120', currency: 'eur', recipient: 'm_1' },
      ctx(),
    );
    expect(card).toEqual({
      amount: { value: 120n, unit: { kind: 'fiat', currency: 'EUR', exponent: 2 } },
      payee: 'm_1',
    });
    const solana = readTerms(
      'solana',
      'charge',
      { amount: '1000', currency: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v', recipient: 'x' },
      ctx(),
    );
    expect(solana.amount.unit).toEqual({
      kind: 'token',
      network: 'mpp:unknown',
      asset: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
      decimals: 0,
    });
    const evmLike = readTerms(
      'usdc',
      'charge',
      { amount: '5', currency: USDC_BASE, methodDetails: { chainId: 8453, decimals: 6 } },
      ctx(),
    );
    expect(evmLike).toMatchObject({ network: 'eip155:8453', payee: 'api.example.com' });
    expect(() => readTerms('future', 'charge', { amount: 'x', currency: 'usd' }, ctx())).toThrow(
      /amount/,
    );
  });
});
