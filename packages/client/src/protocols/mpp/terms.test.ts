import { createInvoice, createNodeKey, randomBytes32, sha256Hex } from '@stipend/testkit/lightning';
import { describe, expect, it } from 'vitest';
import { evmRequest, PAYEE, stripeRequest, USDC_BASE } from './fixtures.test-helpers.js';
import { type KnownToken, readTerms } from './terms.js';

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

  it('reads an evm charge with the decimals the request states, and the peg only when known', () => {
    const terms = readTerms('evm', 'charge', evmRequest(), ctx());
    expect(terms).toEqual({
      amount: {
        value: 10000n,
        unit: { kind: 'token', network: 'eip155:8453', asset: USDC_BASE, decimals: 6 },
      },
      payee: PAYEE,
      network: 'eip155:8453',
      asset: USDC_BASE,
    });
    const known = readTerms(
      'evm',
      'charge',
      evmRequest(),
      ctx({ [`eip155:8453/${USDC_BASE.toLowerCase()}`]: { symbol: 'USDC', peg: 'USD' } }),
    );
    expect(known.amount.unit).toMatchObject({ symbol: 'USDC', peg: 'USD', decimals: 6 });
  });

  it('needs evm decimals from the request or the configuration, and refuses a contradiction', () => {
    const noDecimals = evmRequest({ methodDetails: { chainId: 8453 } });
    expect(() => readTerms('evm', 'charge', noDecimals, ctx())).toThrow(/decimals/);
    const key = `eip155:8453/${USDC_BASE.toLowerCase()}`;
    expect(
      readTerms('evm', 'charge', noDecimals, ctx({ [key]: { decimals: 6 } })).amount.unit,
    ).toMatchObject({ decimals: 6 });
    expect(() =>
      readTerms('evm', 'charge', evmRequest(), ctx({ [key]: { decimals: 18 } })),
    ).toThrow(/claims 6 decimals, but 18/);
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
    expect(terms.payee).toBe('api.example.com');
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
