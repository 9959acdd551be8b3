import { describe, expect, it } from 'vitest';
import { ChallengeParseError } from '../../errors/challenge.js';
import { PolicyDeniedError } from '../../errors/policy.js';
import type { PaymentOffer } from '../../offer.js';
import { x402Adapter } from './adapter.js';
import {
  BASE_SEPOLIA_USDC,
  BASE_USDC,
  b64,
  challenge,
  PAY_TO,
  SPEC_PAYMENT_REQUIRED,
  SPEC_REQUIRED_DECODED,
  SPEC_V1_BODY,
} from './fixtures.test-helpers.js';
import type { X402OfferRaw } from './terms.js';

const adapter = x402Adapter();
const parse = async (input: Parameters<typeof adapter.parse>[0]) => adapter.parse(input);

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const requirement = SPEC_REQUIRED_DECODED.accepts[0]!;
const v2 = (accepts: unknown[], extra: Record<string, unknown> = {}) =>
  challenge({
    headers: { 'PAYMENT-REQUIRED': b64({ ...SPEC_REQUIRED_DECODED, accepts, ...extra }) },
  });

describe('x402 v2 terms', () => {
  it('reads the spec vector into one frozen offer priced in known USDC', async () => {
    const [offer, ...rest] = await parse(
      challenge({ headers: { 'PAYMENT-REQUIRED': SPEC_PAYMENT_REQUIRED } }),
    );
    expect(rest).toEqual([]);
    expect(offer).toMatchObject({
      protocol: 'x402',
      scheme: 'exact',
      amount: {
        value: 10000n,
        unit: {
          kind: 'token',
          network: 'eip155:84532',
          asset: BASE_SEPOLIA_USDC,
          decimals: 6,
          symbol: 'USDC',
          peg: 'USD',
        },
      },
      payee: PAY_TO,
      network: 'eip155:84532',
      asset: BASE_SEPOLIA_USDC,
      origin: 'https://api.example.com',
      resource: 'https://api.example.com/premium-data',
      authorizationTtlSec: 60,
      reusable: false,
    });
    expect(offer!.id).toMatch(/^x402_[0-9a-f]{16}$/);
    expect(Object.isFrozen(offer)).toBe(true);
    expect(Object.isFrozen((offer!.raw as X402OfferRaw).requirement)).toBe(true);
    const raw = offer!.raw as X402OfferRaw;
    expect(raw).toMatchObject({ form: 'v2', x402Version: 2, transfer: 'eip3009' });
    expect(raw.domain).toEqual({ name: 'USDC', version: '2' });
    expect(JSON.stringify(raw.requirement)).toBe(JSON.stringify(requirement));
    expect(raw.resource).toEqual(SPEC_REQUIRED_DECODED.resource);
  });

  it('gives the same terms the same id, and different terms different ids', async () => {
    const [a] = await parse(v2([requirement]));
    const [b] = await parse(v2([requirement]));
    const [c] = await parse(v2([{ ...requirement, amount: '10001' }]));
    expect(a!.id).toBe(b!.id);
    expect(c!.id).not.toBe(a!.id);
  });

  it('keeps unknown fields of a requirement (they are echoed)', async () => {
    const withMore = {
      ...requirement,
      extra: { ...requirement.extra, paymentFlow: 'upfront' },
      future: [1],
    };
    const [offer] = await parse(v2([withMore]));
    expect(JSON.stringify((offer!.raw as X402OfferRaw).requirement)).toBe(JSON.stringify(withMore));
  });

  it('offers every payable requirement and drops the others', async () => {
    const offers = await parse(
      v2([
        requirement,
        { ...requirement, asset: '0x0000000000000000000000000000000000000bad' },
        { ...requirement, scheme: 'batch-settlement' },
        { ...requirement, network: 'eip155:8453', asset: BASE_USDC, amount: '7' },
      ]),
    );
    expect(offers.map((offer) => [offer.network, offer.amount.value])).toEqual([
      ['eip155:84532', 10000n],
      ['eip155:8453', 7n],
    ]);
  });

  it('takes the EIP-712 domain from extra, else from the registry', async () => {
    const { extra: _extra, ...bare } = { ...requirement, network: 'eip155:8453', asset: BASE_USDC };
    const [fromRegistry] = await parse(v2([bare]));
    expect((fromRegistry!.raw as X402OfferRaw).domain).toEqual({ name: 'USD Coin', version: '2' });
    const [fromExtra] = await parse(v2([{ ...bare, extra: { name: 'Custom', version: '7' } }]));
    expect((fromExtra!.raw as X402OfferRaw).domain).toEqual({ name: 'Custom', version: '7' });
  });

  it('reads Permit2 and upto requirements as Permit2 transfers', async () => {
    const [permit2, upto] = await parse(
      v2([
        { ...requirement, extra: { ...requirement.extra, assetTransferMethod: 'permit2' } },
        { ...requirement, scheme: 'upto', extra: { facilitatorAddress: PAY_TO } },
      ]),
    );
    expect((permit2!.raw as X402OfferRaw).transfer).toBe('permit2');
    expect(upto!.scheme).toBe('upto');
    expect((upto!.raw as X402OfferRaw).transfer).toBe('permit2');
  });

  it('marks offers of a 412 answer as needing a Permit2 approval', async () => {
    const [offer] = await parse(
      challenge({
        status: 412,
        headers: {
          'PAYMENT-REQUIRED': b64({
            ...SPEC_REQUIRED_DECODED,
            error: 'permit2_allowance_required',
          }),
        },
      }),
    );
    expect((offer!.raw as X402OfferRaw).approvalRequired).toBe(true);
  });

  it('refuses an unknown asset with the policy error, saying how to add it', async () => {
    const error = await rejection(
      parse(v2([{ ...requirement, asset: '0x0000000000000000000000000000000000000bad' }])),
    );
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('asset_not_allowed');
    expect((error as PolicyDeniedError).offers[0]?.reason).toMatch(/x402Adapter\(\{ assets/);
  });

  it('the unknown-asset hint names peg, the field without which the token cannot be priced', async () => {
    for (const input of [
      v2([{ ...requirement, asset: '0x0000000000000000000000000000000000000bad' }]),
      challenge({
        headers: {
          'X-Payment-Required': JSON.stringify({
            price: '0.001',
            currency: 'DAI',
            network: 'eip155:8453',
            address: PAY_TO,
          }),
        },
      }),
    ]) {
      const error = (await rejection(parse(input))) as PolicyDeniedError;
      expect(error.offers[0]?.reason).toMatch(/decimals, name, version, peg: 'USD' \}\] \}\)/);
    }
  });

  it('prices a user-added asset with its decimals, without a peg unless given', async () => {
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const custom = x402Adapter({
      assets: [
        {
          network: 'eip155:31337',
          address: token,
          symbol: 'TST',
          decimals: 18,
          name: 'T',
          version: '1',
        },
      ],
    });
    const [offer] = await custom.parse(
      v2([{ ...requirement, network: 'eip155:31337', asset: token.toLowerCase() }]),
    );
    expect(offer!.amount.unit).toEqual({
      kind: 'token',
      network: 'eip155:31337',
      asset: token.toLowerCase(),
      decimals: 18,
      symbol: 'TST',
    });
  });

  it('refuses a v1 network name in a v2 message (wrong network)', async () => {
    const error = await rejection(parse(v2([{ ...requirement, network: 'base-sepolia' }])));
    expect((error as PolicyDeniedError).reason).toBe('network_not_allowed');
  });

  it('refuses a requirement stating two different amounts', async () => {
    const error = await rejection(parse(v2([{ ...requirement, maxAmountRequired: '1' }])));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).offers[0]?.reason).toMatch(/two different amounts/);
  });

  it.each([
    ['a bad base64 header', 'not base64!', /PAYMENT-REQUIRED header is malformed/],
    ['base64 of non-JSON', Buffer.from('<html>').toString('base64'), /does not decode to JSON/],
    ['the wrong version', b64({ ...SPEC_REQUIRED_DECODED, x402Version: 3 }), /x402Version/],
    ['no accepts', b64({ ...SPEC_REQUIRED_DECODED, accepts: [] }), /accepts/],
    ['no resource', b64({ ...SPEC_REQUIRED_DECODED, resource: undefined }), /resource/],
    [
      'an amount with a sign',
      b64({ ...SPEC_REQUIRED_DECODED, accepts: [{ ...requirement, amount: '-1' }] }),
      /amount/,
    ],
    [
      'a number amount',
      b64({ ...SPEC_REQUIRED_DECODED, accepts: [{ ...requirement, amount: 10000 }] }),
      /amount/,
    ],
    [
      'a zero timeout',
      b64({ ...SPEC_REQUIRED_DECODED, accepts: [{ ...requirement, maxTimeoutSeconds: 0 }] }),
      /maxTimeoutSeconds/,
    ],
  ])('throws a ChallengeParseError for %s', async (_name, header, message) => {
    const error = await rejection(parse(challenge({ headers: { 'PAYMENT-REQUIRED': header } })));
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('x402 v1 terms', () => {
  const v1 = (body: unknown) =>
    challenge({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('reads the spec v1 body, mapping base-sepolia to eip155:84532', async () => {
    const [offer] = await parse(v1(SPEC_V1_BODY));
    expect(offer).toMatchObject({
      network: 'eip155:84532',
      amount: { value: 10000n },
      payee: PAY_TO,
    });
    const raw = offer!.raw as X402OfferRaw;
    expect(raw).toMatchObject({ form: 'v1', x402Version: 1 });
    expect(raw.requirement).toEqual(SPEC_V1_BODY.accepts[0]);
  });

  it('ignores JSON bodies of other 402s and non-JSON bodies', async () => {
    expect(await parse(v1({ type: 'https://paymentauth.org/problems/payment-required' }))).toEqual(
      [],
    );
    expect(await parse(challenge({ body: '<html>pay</html>' }))).toEqual([]);
    expect(await parse(challenge({}))).toEqual([]);
  });

  it('refuses an unknown v1 network', async () => {
    const body = {
      ...SPEC_V1_BODY,
      accepts: [{ ...SPEC_V1_BODY.accepts[0], network: 'optimism-sepolia' }],
    };
    const error = await rejection(parse(v1(body)));
    expect((error as PolicyDeniedError).reason).toBe('network_not_allowed');
  });

  it('throws a ChallengeParseError for a v1 body without accepts', async () => {
    const error = await rejection(parse(v1({ x402Version: 1, error: 'x' })));
    expect(error).toBeInstanceOf(ChallengeParseError);
  });
});

describe('plain X-Payment-Required terms', () => {
  const plain = (terms: unknown) =>
    challenge({ headers: { 'X-Payment-Required': JSON.stringify(terms) } });
  const terms = {
    price: '0.001',
    currency: 'USDC',
    network: 'eip155:8453',
    address: PAY_TO,
    facilitator: 'https://facilitator.example.com',
  };

  it('turns a decimal price and a symbol into atomic units of the known asset', async () => {
    const [offer] = await parse(plain(terms));
    expect(offer).toMatchObject({
      scheme: 'exact',
      amount: { value: 1000n, unit: { asset: BASE_USDC, decimals: 6, peg: 'USD' } },
      payee: PAY_TO,
      network: 'eip155:8453',
    });
    const raw = offer!.raw as X402OfferRaw;
    expect(raw.form).toBe('plain');
    expect(raw.requirement).toEqual({
      scheme: 'exact',
      network: 'eip155:8453',
      amount: '1000',
      asset: BASE_USDC,
      payTo: PAY_TO,
      maxTimeoutSeconds: 300,
      extra: { name: 'USD Coin', version: '2' },
    });
    expect(raw.plain).toEqual(terms);
  });

  it('refuses an unknown symbol on the network instead of guessing', async () => {
    const error = await rejection(parse(plain({ ...terms, currency: 'DAI' })));
    expect(error).toBeInstanceOf(PolicyDeniedError);
    expect((error as PolicyDeniedError).reason).toBe('asset_not_allowed');
    expect((error as PolicyDeniedError).offers[0]?.reason).toMatch(
      /"DAI" is not a known asset on eip155:8453/,
    );
  });

  it('refuses a price finer than the asset can count, never rounding it', async () => {
    const error = await rejection(parse(plain({ ...terms, price: '0.0000001' })));
    expect((error as PolicyDeniedError).offers[0]?.reason).toMatch(/fractional digits/);
  });

  it('throws a ChallengeParseError for terms that are not JSON or lack a field', async () => {
    expect(
      await rejection(parse(challenge({ headers: { 'X-Payment-Required': 'price=1' } }))),
    ).toBeInstanceOf(ChallengeParseError);
    const { price: _price, ...noPrice } = terms;
    expect(await rejection(parse(plain(noPrice)))).toBeInstanceOf(ChallengeParseError);
  });
});

it('binds offers to the origin that answered', async () => {
  const offers: readonly PaymentOffer[] = await parse(
    challenge({
      url: 'https://other.example.org/x',
      headers: { 'PAYMENT-REQUIRED': SPEC_PAYMENT_REQUIRED },
    }),
  );
  expect(offers[0]?.origin).toBe('https://other.example.org');
  expect(offers[0]?.resource).toBe('https://other.example.org/x');
});
