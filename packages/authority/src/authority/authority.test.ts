import {
  type ApprovalRequest,
  isStipendError,
  type Proof,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { describe, expect, it, vi } from 'vitest';
import { appendCaveats, attenuate } from '../remote/token.js';
import { createSpendAuthority } from './authority.js';
import {
  GENEROUS_POLICY,
  manualClock,
  payRequest,
  START,
  TEST_ASSET,
  testAuthority,
  testOffer,
} from './fixtures.test-helpers.js';

const HOUR = 3_600_000;

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'paid';
  } catch (error) {
    if (!isStipendError(error)) throw error;
    const reason = (error.details as { reason?: string }).reason;
    return reason ? `${error.code}/${reason}` : error.code;
  }
}

describe('mint', () => {
  it('mints a token whose caveats are the caps, total first', () => {
    const { authority } = testAuthority();
    const token = authority.mint({
      totalUsd: '0.10',
      perRequestUsd: '0.02',
      methods: ['GET', 'HEAD'],
      hosts: ['api.example.com'],
      protocols: ['stipend-test'],
      expiresAt: START + HOUR,
      approveAbove: '0.015',
    });
    expect(authority.verify(token).conditions).toEqual([
      'stipend_total_usd=0.10',
      'stipend_request_usd=0.02',
      'stipend_hosts=api.example.com',
      'stipend_methods=GET,HEAD',
      'stipend_protocols=stipend-test',
      `stipend_expires=${(START + HOUR) / 1000}`,
      'stipend_approve_above=0.015',
    ]);
  });

  it('defaults the expiry to one hour and requires a total', () => {
    const { authority } = testAuthority();
    expect(authority.verify(authority.mint({ totalUsd: '1' })).limits.expiresAt).toBe(START + HOUR);
    expect(() => authority.mint({} as never)).toThrow(/totalUsd/);
    expect(() => authority.mint({ totalUsd: '1', expiresAt: START - 1 })).toThrow(/past/);
  });

  it('refuses a short root key', () => {
    expect(() => createSpendAuthority({ wallets: [], rootKey: new Uint8Array(16) })).toThrow(/32/);
  });

  it('tokens of another authority do not verify', async () => {
    const a = testAuthority();
    const b = testAuthority();
    const token = a.authority.mint({ totalUsd: '1' });
    expect(await refusal(b.authority.pay(token, payRequest(testOffer(1000n))))).toBe(
      'DELEGATION_INVALID/signature',
    );
    expect(b.rail.payments()).toHaveLength(0);
  });
});

describe('pay: caps', () => {
  it('pays within the caps and returns the wallet proof', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10' });
    const offer = testOffer(30_000n);
    const proof = await authority.pay(token, payRequest(offer));
    expect(proof.offerId).toBe(offer.id);
    expect(proof.settlement).toBe('authorization');
    expect(rail.payments()).toHaveLength(1);
    const status = await authority.status(token);
    expect(status.scopes[0]).toMatchObject({
      capUsdMicros: 100_000n,
      heldUsdMicros: 30_000n,
      remainingUsdMicros: 70_000n,
    });
  });

  it('enforces the total: no payment beyond it', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10' });
    for (let i = 0; i < 3; i++) await authority.pay(token, payRequest(testOffer(30_000n)));
    expect(await refusal(authority.pay(token, payRequest(testOffer(30_000n))))).toBe(
      'DELEGATION_EXCEEDED/total',
    );
    expect(rail.payments()).toHaveLength(3);
    // A cheaper one still fits.
    await authority.pay(token, payRequest(testOffer(10_000n)));
    expect(await refusal(authority.pay(token, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_EXCEEDED/total',
    );
  });

  it('bounds every descendant by every ancestor total', async () => {
    const { authority, rail } = testAuthority();
    const root = authority.mint({ totalUsd: '0.10' });
    const a = attenuate(root, { totalUsd: '0.06' });
    const b = attenuate(root, { totalUsd: '0.06' });
    const a1 = attenuate(a, { totalUsd: '0.05' });
    await authority.pay(a1, payRequest(testOffer(30_000n)));
    await authority.pay(a, payRequest(testOffer(30_000n)));
    // a is full ($0.06): a1 is refused by its parent's cap, though its own has $0.02 left.
    const aFull = authority.pay(a1, payRequest(testOffer(10_000n)));
    await expect(aFull).rejects.toThrow(/a token this one was delegated from/);
    await authority.pay(b, payRequest(testOffer(30_000n)));
    // The root has $0.01 left: b (own cap $0.03 left) is refused by the root.
    expect(await refusal(authority.pay(b, payRequest(testOffer(20_000n))))).toBe(
      'DELEGATION_EXCEEDED/total',
    );
    await authority.pay(b, payRequest(testOffer(10_000n)));
    expect(rail.settledTotal() + rail.payments().reduce((t, p) => t + p.amount, 0n)).toBe(100_000n);
    const status = await authority.status(b);
    expect(status.scopes.map((s) => s.remainingUsdMicros)).toEqual([0n, 20_000n]);
  });

  it('enforces the per-request cap before reserving anything', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10', perRequestUsd: '0.02' });
    expect(await refusal(authority.pay(token, payRequest(testOffer(20_001n))))).toBe(
      'DELEGATION_EXCEEDED/per_request',
    );
    expect(rail.payments()).toHaveLength(0);
    expect((await authority.status(token)).scopes[0]?.heldUsdMicros).toBe(0n);
    await authority.pay(token, payRequest(testOffer(20_000n)));
  });

  it('enforces methods, hosts and protocols', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({
      totalUsd: '1',
      methods: ['GET', 'HEAD'],
      hosts: ['*.example.com'],
      protocols: ['stipend-test:charge'],
    });
    expect(await refusal(authority.pay(token, payRequest(testOffer(1n), { method: 'POST' })))).toBe(
      'DELEGATION_OUT_OF_SCOPE/method',
    );
    expect(
      await refusal(
        authority.pay(token, payRequest(testOffer(1n, { origin: 'https://evil.org' }))),
      ),
    ).toBe('DELEGATION_OUT_OF_SCOPE/host');
    expect(
      await refusal(authority.pay(token, payRequest(testOffer(1n, { scheme: 'other' })))),
    ).toBe('DELEGATION_OUT_OF_SCOPE/protocol');
    expect(rail.payments()).toHaveLength(0);
    await authority.pay(token, payRequest(testOffer(1n), { method: 'head' }));
    expect(rail.payments()).toHaveLength(1);
  });

  it('refuses an expired token (injectable clock) and caps authorizations at its expiry', async () => {
    const { authority, clock, wallet } = testAuthority();
    const pay = vi.spyOn(wallet, 'pay');
    const token = authority.mint({ totalUsd: '1', expiresAt: START + HOUR });
    clock.advance(HOUR - 120_000);
    await authority.pay(token, payRequest(testOffer(1n), { ttl: 3600 }));
    expect(pay.mock.calls[0]?.[1].maxAuthorizationTtlSec).toBe(120);
    clock.advance(120_000);
    expect(await refusal(authority.pay(token, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_EXPIRED/expired',
    );
    expect(pay).toHaveBeenCalledTimes(1);
  });

  it('refuses tampered, widened and unknown-caveat tokens without paying', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10' });
    const tampered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
    expect(await refusal(authority.pay(tampered, payRequest(testOffer(1n))))).toMatch(
      /^DELEGATION_INVALID\//,
    );
    const widened = appendCaveats(token, ['stipend_total_usd=5']);
    expect(await refusal(authority.pay(widened, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_INVALID/widened',
    );
    const unknown = appendCaveats(token, ['rate_limit=5']);
    expect(await refusal(authority.pay(unknown, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_INVALID/unknown_caveat',
    );
    expect(rail.payments()).toHaveLength(0);
  });

  it('refuses L402 (the proof is the preimage) even with a wallet that could pay it', async () => {
    const lightning: Wallet = {
      id: 'ln',
      rails: ['l402:bolt11'],
      canPay: () => true,
      pay: vi.fn(),
    };
    const authority = createSpendAuthority({
      wallets: [lightning],
      policy: GENEROUS_POLICY,
      assets: [TEST_ASSET],
    });
    const token = authority.mint({ totalUsd: '1' });
    const offer = testOffer(1n, { protocol: 'l402', scheme: 'bolt11' });
    expect(await refusal(authority.pay(token, payRequest(offer)))).toBe(
      'DELEGATION_RAIL_REFUSED/secret_proof',
    );
    expect(lightning.pay).not.toHaveBeenCalled();
  });
});

describe('pay: the authority policy, approvals, idempotency, outcomes', () => {
  it("applies the authority's own policy on top of the token", async () => {
    const { authority, rail } = testAuthority({
      policy: {
        global: { maxPerRequest: { usd: '0.01' }, limits: [{ usd: '1', window: { total: true } }] },
      },
    });
    const token = authority.mint({ totalUsd: '1' });
    expect(await refusal(authority.pay(token, payRequest(testOffer(20_000n))))).toBe(
      'POLICY_DENIED/per_request_cap',
    );
    expect(rail.payments()).toHaveLength(0);
  });

  it("asks the authority's approver above the token's threshold", async () => {
    const approver = vi.fn(async (_request: ApprovalRequest) => false);
    const { authority, rail } = testAuthority({ approver });
    const token = authority.mint({ totalUsd: '1', approveAbove: '0.01' });
    await authority.pay(token, payRequest(testOffer(10_000n)));
    expect(approver).not.toHaveBeenCalled();
    expect(await refusal(authority.pay(token, payRequest(testOffer(10_001n))))).toBe(
      'APPROVAL_DENIED/approval_denied',
    );
    expect(approver).toHaveBeenCalledTimes(1);
    expect(approver.mock.calls[0]?.[0]).toMatchObject({
      usdMicros: 10_001n,
      why: 'above_threshold',
      origin: 'https://api.example.com',
      method: 'GET',
    });
    expect(rail.payments()).toHaveLength(1);
    // The refused payment's reservation was released.
    expect((await authority.status(token)).scopes[0]?.heldUsdMicros).toBe(10_000n);
  });

  it('pays once per idempotency key and offer, even when asked concurrently', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '1' });
    const request = payRequest(testOffer(10_000n), { key: 'same' });
    const [a, b] = await Promise.all([
      authority.pay(token, request),
      authority.pay(token, request),
    ]);
    const c = await authority.pay(token, request);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(rail.payments()).toHaveLength(1);
    // Another token with the same key is another purchase.
    await authority.pay(attenuate(token, {}), request);
    expect(rail.payments()).toHaveLength(2);
  });

  it('commits final payments at once; holds authorizations until the rail says', async () => {
    const final = testAuthority({ settlement: 'final' });
    const t1 = final.authority.mint({ totalUsd: '1' });
    await final.authority.pay(t1, payRequest(testOffer(10_000n)));
    expect((await final.authority.status(t1)).scopes[0]).toMatchObject({
      spentUsdMicros: 10_000n,
      heldUsdMicros: 0n,
    });

    const { authority, rail, clock } = testAuthority();
    const token = authority.mint({ totalUsd: '0.02' });
    const used = await authority.pay(token, payRequest(testOffer(10_000n)));
    const unused = await authority.pay(token, payRequest(testOffer(10_000n)));
    expect(await refusal(authority.pay(token, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_EXCEEDED/total',
    );
    // The server redeems one; the other authorization expires unused.
    const usedPayment = rail.payments().find((p) => p.reference === used.reference)!;
    expect(
      rail.redeem(String(used.secret), {
        offerId: usedPayment.offerId,
        amount: 10_000n,
        payee: 'test-merchant',
      }),
    ).toBe('ok');
    rail.void(unused.reference);
    expect(await authority.reconcile()).toEqual({ committed: 0, released: 0, pending: 2 });
    clock.advance(601_000);
    expect(await authority.reconcile()).toEqual({ committed: 1, released: 1, pending: 0 });
    expect((await authority.status(token)).scopes[0]).toMatchObject({
      spentUsdMicros: 10_000n,
      heldUsdMicros: 0n,
      remainingUsdMicros: 10_000n,
    });
    await authority.pay(token, payRequest(testOffer(10_000n)));
  });

  it('answers lookups only for its own payments, by reference or idempotency key', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '1' });
    const proof = await authority.pay(token, payRequest(testOffer(10_000n), { key: 'k1' }));
    expect(await authority.lookup(token, proof.reference)).toBe('pending');
    expect(await authority.lookup(token, 'idem:k1')).toBe('pending');
    expect(await authority.lookup(token, 'idem:never')).toBe('failed');
    // Another token (even a sibling) cannot probe this token's payments.
    expect(await authority.lookup(attenuate(token, {}), proof.reference)).toBe('failed');
    const payment = rail.payments()[0]!;
    rail.redeem(String(proof.secret), {
      offerId: payment.offerId,
      amount: 10_000n,
      payee: 'test-merchant',
    });
    expect(await authority.lookup(token, proof.reference)).toBe('paid');
    expect((await authority.status(token)).scopes[0]?.spentUsdMicros).toBe(10_000n);
  });

  it('releases on a wallet refusal, holds on an unknown outcome', async () => {
    const { authority, wallet } = testAuthority();
    const token = authority.mint({ totalUsd: '1' });
    wallet.injectFault('fail');
    const failed = await authority.pay(token, payRequest(testOffer(10_000n))).catch((e) => e);
    expect(failed).toBeInstanceOf(WalletError);
    expect((failed as WalletError).paid).toBe(false);
    expect((await authority.status(token)).scopes[0]?.heldUsdMicros).toBe(0n);

    wallet.injectFault('unknown-after-paying');
    const unknown = await authority
      .pay(token, payRequest(testOffer(10_000n), { key: 'u' }))
      .catch((e) => e);
    expect((unknown as WalletError).paid).toBe('unknown');
    expect((unknown as WalletError).reference).toMatch(/^ref_/);
    expect((await authority.status(token)).scopes[0]?.heldUsdMicros).toBe(10_000n);
    expect(await authority.lookup(token, 'idem:u')).toBe('pending');
  });

  it('treats a wallet that never answers as an unknown outcome', async () => {
    const { authority, wallet } = testAuthority({ payTimeoutMs: 20 });
    const token = authority.mint({ totalUsd: '1' });
    wallet.injectFault('hang-after-paying');
    const error = await authority.pay(token, payRequest(testOffer(10_000n))).catch((e) => e);
    expect((error as WalletError).paid).toBe('unknown');
    expect((await authority.status(token)).scopes[0]?.heldUsdMicros).toBe(10_000n);
  });

  it('keeps answering lookups after old records shrink to a paid/failed note', async () => {
    const { authority, rail } = testAuthority({ settlement: 'final', maxRecords: 2 });
    const token = authority.mint({ totalUsd: '1' });
    const firstOffer = testOffer(1000n);
    const first = await authority.pay(token, payRequest(firstOffer, { key: 'first' }));
    for (let i = 0; i < 4; i++) await authority.pay(token, payRequest(testOffer(1000n)));
    expect(await authority.lookup(token, first.reference)).toBe('paid');
    expect(await authority.lookup(token, 'idem:first')).toBe('paid');
    expect(await authority.lookup(token, 'idem:never')).toBe('failed');
    // Replaying the first attempt does not pay again, though its proof is gone.
    expect(await refusal(authority.pay(token, payRequest(firstOffer, { key: 'first' })))).toBe(
      'ALREADY_PAID',
    );
    expect(rail.payments()).toHaveLength(5);
  });

  it('revokes a token and everything attenuated from it', async () => {
    const { authority } = testAuthority();
    const root = authority.mint({ totalUsd: '1' });
    const child = attenuate(root, { totalUsd: '0.5' });
    const grandchild = attenuate(child, {});
    authority.revoke(child);
    expect(await refusal(authority.pay(child, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_INVALID/revoked',
    );
    expect(await refusal(authority.pay(grandchild, payRequest(testOffer(1n))))).toBe(
      'DELEGATION_INVALID/revoked',
    );
    await authority.pay(root, payRequest(testOffer(1n)));
    await authority.pay(attenuate(root, {}), payRequest(testOffer(1n)));
  });

  it('refuses malformed requests and plain HTTP to non-loopback hosts', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '1' });
    const offer = testOffer(1n);
    expect(
      await refusal(
        authority.pay(token, payRequest(offer, { url: 'https://other.example.com/data' })),
      ),
    ).toBe('AUTHORITY_BAD_REQUEST');
    expect(
      await refusal(authority.pay(token, { ...payRequest(offer), maxAuthorizationTtlSec: 0 })),
    ).toBe('AUTHORITY_BAD_REQUEST');
    expect(
      await refusal(
        authority.pay(token, {
          ...payRequest(offer),
          offer: { ...offer, amount: { value: 1 } } as never,
        }),
      ),
    ).toBe('AUTHORITY_BAD_REQUEST');
    const plain = testOffer(1n, { origin: 'http://api.example.com' });
    expect(await refusal(authority.pay(token, payRequest(plain)))).toBe('INSECURE_TRANSPORT');
    const loopback = testOffer(1n, { origin: 'http://127.0.0.1:9' });
    await authority.pay(token, payRequest(loopback));
    expect(rail.payments()).toHaveLength(1);
  });

  it("prices with its own asset table, never the sub-agent's claims about a unit", async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10', perRequestUsd: '0.05' });
    const real = testOffer(30_000_000n); // $30 in 6-decimal USDC
    // The sub-agent claims 12 decimals, so that $30 would look like $0.00003.
    const lying = {
      ...real,
      amount: { value: real.amount.value, unit: { ...real.amount.unit, decimals: 12 } },
    } as typeof real;
    expect(await refusal(authority.pay(token, payRequest(lying)))).toBe(
      'DELEGATION_EXCEEDED/per_request',
    );
    const unknown = {
      ...real,
      amount: {
        value: 1n,
        unit: { ...real.amount.unit, asset: '0x0000000000000000000000000000000000000001' },
      },
    } as typeof real;
    expect(await refusal(authority.pay(token, payRequest(unknown)))).toBe(
      'AUTHORITY_UNKNOWN_ASSET',
    );
    const euro = {
      ...real,
      amount: { value: 1n, unit: { kind: 'fiat', currency: 'USD', exponent: 6 } },
    } as typeof real;
    expect(await refusal(authority.pay(token, payRequest(euro)))).toBe('AUTHORITY_BAD_REQUEST');
    expect(rail.payments()).toHaveLength(0);
  });

  it('keeps the offer the wallet pays frozen and equal to what was asked', async () => {
    const seen: unknown[] = [];
    const wallet: Wallet = {
      id: 'spy',
      rails: ['stipend-test:charge'],
      canPay: () => true,
      async pay(offer, ctx): Promise<Proof> {
        seen.push(offer, ctx.idempotencyKey);
        return { offerId: offer.id, reference: 'r', settlement: 'final', secret: 's' };
      },
    };
    const clock = manualClock();
    const authority = createSpendAuthority({
      wallets: [wallet],
      policy: GENEROUS_POLICY,
      now: clock.now,
      protocols: ['stipend-test'],
      assets: [TEST_ASSET],
    });
    const token = authority.mint({ totalUsd: '1' });
    const offer = testOffer(5n);
    await authority.pay(token, payRequest(offer, { key: 'abc' }));
    expect(Object.isFrozen(seen[0])).toBe(true);
    expect(seen[0]).toEqual(offer);
    expect(seen[1]).toMatch(/^delegation:[0-9a-f]{32}:abc$/);
  });
});
