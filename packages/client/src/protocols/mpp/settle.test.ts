import { describe, expect, it } from 'vitest';
import { encodeBase64UrlJson } from './base64url.js';
import type { MppProofSecret } from './credential.js';
import { parseReceipt, settlePaid } from './settle.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const secret: MppProofSecret = { payload: { spt: 'spt_1' } };

function problem(name: string, status = 402, headers: Record<string, string> = {}) {
  return new Response(
    JSON.stringify({
      type: `https://paymentauth.org/problems/${name}`,
      title: 'Title',
      status,
      detail: `Detail of ${name}.`,
      challengeId: 'c2',
    }),
    {
      status,
      headers: {
        'content-type': 'application/problem+json',
        'www-authenticate': 'Payment id="c2"',
        ...headers,
      },
    },
  );
}

describe('parseReceipt', () => {
  it('keeps every field of the receipt and reads its reference', () => {
    const header = encodeBase64UrlJson({
      method: 'stripe',
      status: 'success',
      timestamp: '2026-11-24T07:31:58.247Z',
      reference: 'pi_mock_1',
      externalId: 'order-9',
      extra: { nested: true },
    });
    expect(parseReceipt(header)).toEqual({
      protocol: 'mpp',
      reference: 'pi_mock_1',
      raw: {
        method: 'stripe',
        status: 'success',
        timestamp: '2026-11-24T07:31:58.247Z',
        reference: 'pi_mock_1',
        externalId: 'order-9',
        extra: { nested: true },
      },
    });
  });

  it('ignores unreadable receipts and an unsafe reference', () => {
    expect(parseReceipt(null)).toBeUndefined();
    expect(parseReceipt('%%%')).toBeUndefined();
    expect(parseReceipt(encodeBase64UrlJson('text'))).toBeUndefined();
    expect(parseReceipt(encodeBase64UrlJson({ reference: 'a b\n' }))).toEqual({
      protocol: 'mpp',
      raw: { reference: 'a b\n' },
    });
  });
});

describe('settlePaid', () => {
  it('accepts a 2xx with its receipt, and one without', async () => {
    const receipt = encodeBase64UrlJson({ method: 'stripe', status: 'success', reference: 'pi_1' });
    const ok = await settlePaid(
      new Response('{}', { status: 200, headers: { 'payment-receipt': receipt } }),
      secret,
      NOW,
    );
    expect(ok).toEqual({
      kind: 'accepted',
      receipt: {
        protocol: 'mpp',
        reference: 'pi_1',
        raw: { method: 'stripe', status: 'success', reference: 'pi_1' },
      },
    });
    expect(await settlePaid(new Response(null, { status: 204 }), secret, NOW)).toEqual({
      kind: 'accepted',
    });
  });

  it.each([
    [
      'payment-expired',
      'expired',
      'unknown',
      /says the challenge expired.*retry the request for a fresh/,
    ],
    ['invalid-challenge', 'invalid_challenge', 'unknown', /does not recognise the challenge/],
    ['malformed-credential', 'malformed_credential', 'unknown', /could not read/],
    ['verification-failed', 'verification_failed', 'unknown', /reconciled/],
    ['payment-insufficient', 'payment_insufficient', 'unknown', /insufficient/],
    ['payment-action-required', 'action_required', 'unknown', /a person must/],
    ['internal-payment-error', 'settlement_failed', 'unknown', /failed while taking/],
  ])('classifies %s', async (name, reason, moneyMoved, meaning) => {
    const outcome = await settlePaid(problem(name), secret, NOW);
    expect(outcome).toMatchObject({ kind: 'rejected', reason, moneyMoved });
    if (outcome.kind !== 'rejected') throw new Error('rejected expected');
    expect(outcome.message).toMatch(meaning);
    expect(outcome.message).toContain(`402 ${name}: `);
    expect(outcome.message).toContain(`server said: "Detail of ${name}."`);
  });

  it('leaves the body of the response for the caller', async () => {
    const response = problem('verification-failed');
    await settlePaid(response, secret, NOW);
    expect(response.bodyUsed).toBe(false);
    expect(((await response.json()) as { challengeId: string }).challengeId).toBe('c2');
  });

  it('holds a 403 after paying as unknown (paid but refused), and other answers too', async () => {
    const refused = await settlePaid(
      new Response('no', { status: 403, headers: { 'content-type': 'text/plain' } }),
      secret,
      NOW,
    );
    expect(refused).toMatchObject({ kind: 'rejected', reason: 'refused', moneyMoved: 'unknown' });
    expect(refused.kind === 'rejected' && refused.message).toMatch(/403.*may have been taken/);
    const loop = await settlePaid(problem('payment-required'), secret, NOW);
    expect(loop).toMatchObject({ reason: 'unknown', moneyMoved: 'unknown' });
    const crash = await settlePaid(new Response('x', { status: 500 }), secret, NOW);
    expect(crash).toMatchObject({ reason: 'unknown', moneyMoved: 'unknown' });
    expect(crash.kind === 'rejected' && crash.message).toBe(
      '500: the server answered 500 to the paid request',
    );
  });

  it('reports Retry-After in seconds or as a date', async () => {
    const seconds = await settlePaid(
      problem('payment-expired', 402, { 'retry-after': '7' }),
      secret,
      NOW,
    );
    expect(seconds.kind === 'rejected' && seconds.message).toMatch(/retry after 7 s$/);
    const date = await settlePaid(
      problem('verification-failed', 402, { 'retry-after': 'Tue, 24 Nov 2026 12:01:00 GMT' }),
      secret,
      NOW,
    );
    expect(date.kind === 'rejected' && date.message).toMatch(/retry after 60 s$/);
  });

  it("a refused authorization the server still holds is never 'moneyMoved: no' on the server's word", async () => {
    // EIP-3009 signature / Shared Payment Token: the server keeps it and can use it until it
    // expires, whatever its problem type says. Only the wallet's revocation releases it.
    for (const name of [
      'payment-expired',
      'invalid-challenge',
      'malformed-credential',
      'invalid-payload',
      'method-unsupported',
    ]) {
      const outcome = await settlePaid(problem(name), secret, NOW, 'authorization');
      expect(outcome).toMatchObject({ kind: 'rejected', moneyMoved: 'unknown' });
      expect(outcome.kind === 'rejected' && outcome.message).not.toMatch(/nothing was charged/);
    }
    // A final payment (a paid invoice) moved money, whatever the server says.
    const paid = await settlePaid(
      problem('payment-expired'),
      { payload: { preimage: 'ab'.repeat(32) } },
      NOW,
      'final',
    );
    expect(paid).toMatchObject({ kind: 'rejected', moneyMoved: 'yes' });
  });

  it('never echoes the secret of the proof a server puts in its problem or receipt', async () => {
    const spt = 'spt_1QabcDEF23456789';
    const echoed = new Response(
      JSON.stringify({
        type: 'https://paymentauth.org/problems/verification-failed',
        detail: `token ${spt} was declined; token ${spt.slice(0, 6)}\u0000${spt.slice(6)} too`,
      }),
      {
        status: 402,
        headers: {
          'content-type': 'application/problem+json',
          'payment-receipt': encodeBase64UrlJson({ status: 'failed', reference: spt }),
        },
      },
    );
    const outcome = await settlePaid(echoed, { payload: { spt } }, NOW);
    expect(JSON.stringify(outcome)).not.toContain(spt);
    expect(outcome.kind === 'rejected' && outcome.message).toContain(
      'token [redacted] was declined',
    );
    expect(outcome.kind === 'rejected' && outcome.receipt?.reference).toBeUndefined();
  });

  it('does not trust a problem type outside paymentauth.org, and strips control text', async () => {
    const response = new Response(
      JSON.stringify({ type: 'https://evil.example/payment-expired', detail: 'a\nb\u0000c' }),
      { status: 402, headers: { 'content-type': 'application/problem+json' } },
    );
    const outcome = await settlePaid(response, secret, NOW);
    expect(outcome).toMatchObject({ reason: 'unknown', moneyMoved: 'unknown' });
    expect(outcome.kind === 'rejected' && outcome.message).toContain('server said: "a b c"');
  });
});
