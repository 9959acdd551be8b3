import { describe, expect, it } from 'vitest';
import { amount } from '../../money/unit.js';
import { freezeOffer, type PaymentOffer } from '../../offer.js';
import {
  BASE_USDC,
  b64,
  PAY_TO,
  SPEC_REQUIRED_DECODED,
  SPEC_SETTLE_FAILURE,
  SPEC_SETTLE_SUCCESS,
} from './fixtures.test-helpers.js';
import { classifyReason, decodeReceipt, outcomeOf } from './settle.js';

const unit = {
  kind: 'token',
  network: 'eip155:8453',
  asset: BASE_USDC,
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
} as const;
const offerOf = (scheme: string, max = 5000n): PaymentOffer =>
  freezeOffer({
    id: 'x402_test',
    protocol: 'x402',
    scheme,
    amount: amount(max, unit),
    payee: PAY_TO,
    network: 'eip155:8453',
    asset: BASE_USDC,
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    reusable: false,
    raw: {},
  });
const exact = offerOf('exact');

describe('reason classification (by pattern, not by list)', () => {
  it.each([
    ['settlement_pending', 'settlement', 'settlement_pending', 'unknown'],
    ['receipt_timeout', 'settlement', 'settlement_pending', 'unknown'],
    ['invalid_exact_evm_nonce_already_used', 'verification', 'already_used', 'unknown'],
    ['authorization is used or canceled', 'settlement', 'already_used', 'unknown'],
    ['permit2_allowance_required', 'verification', 'permit2_allowance_required', 'no'],
    ['invalid_exact_evm_payload_authorization_valid_before', 'verification', 'expired', 'no'],
    ['permit2_deadline_expired', 'verification', 'expired', 'no'],
    ['insufficient_funds', 'settlement', 'insufficient_funds', 'no'],
    ['invalid_exact_evm_insufficient_balance', 'verification', 'insufficient_funds', 'no'],
    ['No matching payment requirements', 'verification', 'terms_changed', 'no'],
    ['invalid_exact_evm_signature', 'verification', 'verification_failed', 'no'],
    ['invalid_exact_evm_token_name_mismatch', 'verification', 'verification_failed', 'no'],
    ['a_reason_nobody_has_seen_yet', 'verification', 'verification_failed', 'no'],
    ['a_reason_nobody_has_seen_yet', 'settlement', 'settlement_failed', 'no'],
    ['unexpected_settle_error', 'settlement', 'settlement_failed', 'unknown'],
  ] as const)('%s at %s → %s, money moved: %s', (text, stage, reason, moneyMoved) => {
    expect(classifyReason(text, stage)).toMatchObject({ reason, moneyMoved });
  });

  it('puts the server text and a hint in the message', () => {
    expect(classifyReason('invalid_exact_evm_insufficient_balance', 'verification').message).toBe(
      'refused at verification: invalid_exact_evm_insufficient_balance (top up the paying address)',
    );
  });
});

describe('paid responses', () => {
  it('200 with the spec success receipt → accepted, with the transaction as reference', async () => {
    const outcome = await outcomeOf(
      exact,
      new Response('{}', { headers: { 'PAYMENT-RESPONSE': SPEC_SETTLE_SUCCESS } }),
    );
    expect(outcome).toEqual({
      kind: 'accepted',
      receipt: {
        protocol: 'x402',
        reference: '0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef',
        raw: decodeReceipt(SPEC_SETTLE_SUCCESS),
      },
    });
  });

  it('402 with the spec failure receipt → settlement failed, nothing moved', async () => {
    const outcome = await outcomeOf(
      exact,
      new Response('{}', { status: 402, headers: { 'PAYMENT-RESPONSE': SPEC_SETTLE_FAILURE } }),
    );
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: 'insufficient_funds',
      moneyMoved: 'no',
    });
  });

  it('settlement_pending in the receipt → unknown (never pay again)', async () => {
    const receipt = b64({
      success: false,
      errorReason: 'settlement_pending',
      transaction: '0xab',
      network: 'eip155:8453',
    });
    const outcome = await outcomeOf(
      exact,
      new Response('{}', { status: 402, headers: { 'PAYMENT-RESPONSE': receipt } }),
    );
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: 'settlement_pending',
      moneyMoved: 'unknown',
    });
  });

  it('402 with fresh terms and an error → verification failed, nothing moved', async () => {
    const terms = b64({ ...SPEC_REQUIRED_DECODED, error: 'invalid_exact_evm_signature' });
    const outcome = await outcomeOf(
      exact,
      new Response('{}', { status: 402, headers: { 'PAYMENT-REQUIRED': terms } }),
    );
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: 'verification_failed',
      moneyMoved: 'no',
    });
    expect((outcome as { message: string }).message).toMatch(/invalid_exact_evm_signature/);
  });

  it('v1: a 402 JSON body with an error → verification failed, and the body stays readable', async () => {
    const response = new Response(
      JSON.stringify({ x402Version: 1, error: 'invalid_payload', accepts: [] }),
      {
        status: 402,
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(await outcomeOf(exact, response)).toMatchObject({
      reason: 'verification_failed',
      moneyMoved: 'no',
    });
    expect(((await response.json()) as { error: string }).error).toBe('invalid_payload');
  });

  it('412 with terms → a Permit2 approval is missing, nothing moved', async () => {
    const terms = b64({ ...SPEC_REQUIRED_DECODED, error: 'permit2_allowance_required' });
    const outcome = await outcomeOf(
      exact,
      new Response('{}', { status: 412, headers: { 'PAYMENT-REQUIRED': terms } }),
    );
    expect(outcome).toMatchObject({ reason: 'permit2_allowance_required', moneyMoved: 'no' });
  });

  it('v1 receipt header X-PAYMENT-RESPONSE is read too', async () => {
    const receipt = b64({ success: true, transaction: '0xfeed', network: 'base', payer: '0x1' });
    const outcome = await outcomeOf(
      exact,
      new Response('ok', { headers: { 'X-PAYMENT-RESPONSE': receipt } }),
    );
    expect(outcome).toMatchObject({ kind: 'accepted', receipt: { reference: '0xfeed' } });
  });

  it('200 without a receipt → accepted (the resource was served)', async () => {
    expect(await outcomeOf(exact, new Response('ok'))).toEqual({ kind: 'accepted' });
  });

  it.each([
    [402, {}],
    [500, {}],
    [409, {}],
    [402, { 'PAYMENT-RESPONSE': 'garbage!' }],
  ])('%i without terms or a readable receipt → unknown', async (status, headers) => {
    expect(await outcomeOf(exact, new Response('x', { status, headers }))).toMatchObject({
      kind: 'rejected',
      moneyMoved: 'unknown',
    });
  });

  it('success with an error status → money moved, resource refused', async () => {
    const outcome = await outcomeOf(
      exact,
      new Response('boom', { status: 500, headers: { 'PAYMENT-RESPONSE': SPEC_SETTLE_SUCCESS } }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', moneyMoved: 'yes' });
  });

  it('upto: the settled amount from the receipt is what is committed', async () => {
    const upto = offerOf('upto', 5000n);
    const receipt = b64({
      success: true,
      transaction: '0x1',
      network: 'eip155:8453',
      amount: '1234',
    });
    const outcome = await outcomeOf(
      upto,
      new Response('ok', { headers: { 'PAYMENT-RESPONSE': receipt } }),
    );
    expect(outcome).toMatchObject({ kind: 'accepted', settled: { value: 1234n, unit } });
  });

  it('upto: a claim above the authorized maximum counts as the maximum', async () => {
    const upto = offerOf('upto', 5000n);
    const receipt = b64({ success: true, transaction: '0x1', amount: '999999' });
    const outcome = await outcomeOf(
      upto,
      new Response('ok', { headers: { 'PAYMENT-RESPONSE': receipt } }),
    );
    expect(outcome).toMatchObject({ settled: { value: 5000n } });
  });

  it('exact: an amount in the receipt does not change what is committed', async () => {
    const receipt = b64({ success: true, transaction: '0x1', amount: '1' });
    const outcome = await outcomeOf(
      exact,
      new Response('ok', { headers: { 'PAYMENT-RESPONSE': receipt } }),
    );
    expect(outcome).not.toHaveProperty('settled');
  });

  it('reads plain-JSON receipts of the plain form', () => {
    expect(decodeReceipt('{"success":true,"transaction":"0x2"}')).toEqual({
      success: true,
      transaction: '0x2',
    });
    expect(decodeReceipt('{"success":"yes"}')).toBeUndefined();
  });
});
