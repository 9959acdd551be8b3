import { encodeMacaroonV2, type L402ChallengeStyle } from '@stipend/testkit/l402';
import { describe, expect, it } from 'vitest';
import { ChallengeParseError } from '../../errors/challenge.js';
import { msat } from '../../money/index.js';
import { l402Adapter } from './adapter.js';
import { BITCOIN_CAIP2, type L402OfferRaw } from './challenge.js';
import { L402TokenError } from './errors.js';
import { challengeInput, mint, NODE, styled } from './l402.test-helpers.js';

const adapter = l402Adapter();

describe('L402 challenges → offers', () => {
  const styles: L402ChallengeStyle[] = [
    'aperture',
    'l402',
    'lsat',
    'token',
    'missing-comma',
    'unquoted',
    'space-separated',
    'folded',
    'lowercase',
    'with-payment',
    'with-bearer',
  ];
  it.each(styles)('reads the %s style into exactly one offer', async (style) => {
    const minted = mint({ amountMsat: 150_000n, timestamp: 1_800_000_000, expirySeconds: 600 });
    const input = styled(style, minted);
    expect(adapter.detect(input)).toBe(true);
    const offers = await adapter.parse(input);
    expect(offers).toHaveLength(1);
    const offer = offers[0]!;
    expect(offer).toMatchObject({
      id: `l402:${minted.paymentHash}`,
      protocol: 'l402',
      scheme: 'bolt11',
      amount: msat(150_000n),
      maxFee: msat(1_500n + 10_000n),
      payee: 'unverified',
      network: BITCOIN_CAIP2.regtest,
      origin: 'https://api.example.com',
      resource: 'https://api.example.com/quote',
      expiresAt: 1_800_000_600_000,
      reusable: true,
    });
    const raw = offer.raw as L402OfferRaw;
    expect(raw.token).toBe(minted.macaroon);
    expect(raw.invoice).toBe(minted.invoice);
    expect(raw.paymentHash).toBe(minted.paymentHash);
    expect(raw.services).toEqual(['quotes']);
    expect(raw.macaroon).toBe(true);
    expect(Object.isFrozen(offer) && Object.isFrozen(raw)).toBe(true);
  });

  it('uses the invoice n tag as payee, a 3600 s default expiry and the fee cap option', async () => {
    const minted = mint({
      includePayeeNodeKey: true,
      expirySeconds: null,
      timestamp: 1_700_000_000,
    });
    const custom = l402Adapter({ maxFeeMsat: 7n });
    const [offer] = await custom.parse(styled('l402', minted));
    expect(offer!.payee).toBe(NODE.publicKeyHex);
    expect(offer!.expiresAt).toBe((1_700_000_000 + 3600) * 1000);
    expect(offer!.maxFee).toEqual(msat(7n));
  });

  it('prefers token= over macaroon= and keeps distinct pairs as distinct offers', async () => {
    const a = mint();
    const b = mint();
    const input = challengeInput([
      `L402 version="0", token="${a.macaroon}", macaroon="${b.macaroon}", invoice="${a.invoice}"`,
      `L402 macaroon="${b.macaroon}", invoice="${b.invoice}"`,
    ]);
    const offers = await adapter.parse(input);
    expect(offers.map((o) => (o.raw as L402OfferRaw).token)).toEqual([a.macaroon, b.macaroon]);
    expect(offers.map((o) => o.id)).toEqual([`l402:${a.paymentHash}`, `l402:${b.paymentHash}`]);
  });

  it('pays an opaque (non-macaroon) token only with allowOpaqueTokens, echoing it verbatim', async () => {
    const minted = mint();
    const opaque = 'eyJwYXltZW50SGFzaCI6ImFiYyJ9.0123abcd';
    const lines = [`L402 token="${opaque}", invoice="${minted.invoice}"`];
    const refused = await Promise.resolve()
      .then(() => adapter.parse(challengeInput(lines)))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(L402TokenError);
    expect((refused as L402TokenError).refusal).toBe('opaque');
    expect((refused as L402TokenError).code).toBe('CHALLENGE_INVALID');
    expect((refused as Error).message).toMatch(/allowOpaqueTokens: true/);
    const lenient = l402Adapter({ allowOpaqueTokens: true });
    const [offer] = await lenient.parse(challengeInput(lines));
    const raw = offer!.raw as L402OfferRaw;
    expect(raw).toMatchObject({ token: opaque, services: [], macaroon: false });
    expect(lenient.reuseKey!(offer!)).toBe('l402 https://api.example.com ');
  });

  describe('a macaroon is bound to its invoice or refused, whatever its encoding', () => {
    const macaroonToken = (identifier: Uint8Array, location?: Uint8Array | string) => {
      let bytes = encodeMacaroonV2({
        location: 'LOC',
        identifier,
        caveats: [{ identifier: new TextEncoder().encode('services=quotes:0') }],
        signature: new Uint8Array(32).fill(9),
      });
      if (location instanceof Uint8Array) {
        // Swap the 3-byte location "LOC" for raw (non-UTF-8) bytes of the same length.
        bytes = Uint8Array.from(bytes);
        bytes.set(location, 3);
      } else if (location !== undefined) {
        throw new Error('only raw locations here');
      }
      return Buffer.from(bytes).toString('base64');
    };
    const hashBytes = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
    const refusedFor = async (token: string, invoice: string, options = {}) =>
      Promise.resolve()
        .then(() =>
          l402Adapter(options).parse(
            challengeInput([`L402 token="${token}", invoice="${invoice}"`]),
          ),
        )
        .catch((e: unknown) => e);

    it('refuses a macaroon with a 67-byte identifier, even with opaque tokens allowed', async () => {
      const minted = mint();
      // version 0 ‖ the invoice's hash ‖ 33 bytes: not the L402 layout.
      const identifier = Uint8Array.from([
        0,
        0,
        ...hashBytes(minted.paymentHash),
        ...new Array(33).fill(1),
      ]);
      for (const options of [{}, { allowOpaqueTokens: true }]) {
        const error = await refusedFor(macaroonToken(identifier), minted.invoice, options);
        expect(error).toBeInstanceOf(L402TokenError);
        expect((error as L402TokenError).refusal).toBe('unbound');
        expect((error as Error).message).toMatch(
          /67-byte identifier is not the 66-byte L402 layout/,
        );
      }
    });

    it('refuses a macaroon with a non-UTF-8 location bound to another payment hash', async () => {
      const minted = mint();
      const identifier = Uint8Array.from([
        0,
        0,
        ...new Array(32).fill(0xee),
        ...new Array(32).fill(1),
      ]);
      const token = macaroonToken(identifier, Uint8Array.from([0xff, 0xfe, 0xc0]));
      for (const options of [{}, { allowOpaqueTokens: true }]) {
        const error = await refusedFor(token, minted.invoice, options);
        expect(error).toBeInstanceOf(L402TokenError);
        expect((error as L402TokenError).refusal).toBe('unbound');
        expect((error as Error).message).toMatch(/payment hash differs/);
      }
    });

    it('pays a macaroon with a non-UTF-8 location when it carries the invoice hash', async () => {
      const minted = mint();
      const identifier = Uint8Array.from([
        0,
        0,
        ...hashBytes(minted.paymentHash),
        ...new Array(32).fill(1),
      ]);
      const token = macaroonToken(identifier, Uint8Array.from([0xff, 0xfe, 0xc0]));
      const [offer] = await l402Adapter().parse(
        challengeInput([`L402 token="${token}", invoice="${minted.invoice}"`]),
      );
      expect(offer!.raw).toMatchObject({ macaroon: true, services: ['quotes'] });
    });
  });

  const refusals: Array<[string, () => string[], RegExp]> = [
    [
      'an unknown version',
      () => {
        const m = mint();
        return [`L402 version="1", token="${m.macaroon}", invoice="${m.invoice}"`];
      },
      /unsupported L402 version "1"/,
    ],
    [
      'an amountless invoice',
      () => {
        const m = mint({ amountMsat: null });
        return [`L402 macaroon="${m.macaroon}", invoice="${m.invoice}"`];
      },
      /amountless/,
    ],
    [
      'a broken invoice',
      () => {
        const m = mint();
        return [`L402 macaroon="${m.macaroon}", invoice="${m.invoice.slice(0, -2)}xx"`];
      },
      /invalid invoice/,
    ],
    ['no invoice', () => [`LSAT macaroon="AgE="`], /without token\/macaroon and invoice/],
    [
      'a token that would break the header',
      () => {
        const m = mint();
        return [`L402 token="a:b", invoice="${m.invoice}"`];
      },
      /cannot go in an Authorization header/,
    ],
  ];
  it.each(refusals)('throws ChallengeParseError (nothing paid) for %s', async (_, lines, why) => {
    const error = await Promise.resolve()
      .then(() => adapter.parse(challengeInput(lines())))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChallengeParseError);
    expect((error as ChallengeParseError).code).toBe('CHALLENGE_INVALID');
    expect((error as Error).message).toMatch(why);
  });

  it('throws L402TokenError (nothing paid) for a payment hash that differs from the macaroon identifier', async () => {
    const m = mint({ macaroonHash: 'cd'.repeat(32) });
    const error = await Promise.resolve()
      .then(() =>
        adapter.parse(challengeInput([`L402 macaroon="${m.macaroon}", invoice="${m.invoice}"`])),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(L402TokenError);
    expect((error as L402TokenError).refusal).toBe('unbound');
    expect((error as Error).message).toMatch(/payment hash differs/);
  });

  it('pays the version-0 line when another line has an unknown version', async () => {
    const m = mint();
    const offers = await adapter.parse(
      challengeInput([
        `L402 version="2", token="${m.macaroon}", invoice="${m.invoice}"`,
        `L402 version="0", token="${m.macaroon}", invoice="${m.invoice}"`,
      ]),
    );
    expect(offers).toHaveLength(1);
    expect((offers[0]!.raw as L402OfferRaw).version).toBe('0');
  });

  it('does not detect 402s without an L402/LSAT challenge, nor non-402 statuses', () => {
    const m = mint();
    expect(adapter.detect(challengeInput(['Bearer realm="x"', 'Payment id="1"']))).toBe(false);
    const input = styled('aperture', m);
    expect(adapter.detect({ ...input, status: 401 })).toBe(false);
  });
});
