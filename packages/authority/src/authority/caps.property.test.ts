import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attenuate } from '../remote/token.js';
import { payRequest, testAuthority, testOffer } from './fixtures.test-helpers.js';

/**
 * Money safety of delegation: whatever tree of tokens holders attenuate, and whatever they try
 * to pay, concurrently, no token's subtree ever spends more than that token's total cap.
 */
describe('delegation caps (property)', () => {
  it('no subtree ever spends more than its token allows, in any interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(
        // A tree: node i > 0 hangs under a parent < i, with its own total (cents).
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 12 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 15 }),
        // Payments: which node pays how much (cents), all sent at once.
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 6 })), {
          minLength: 1,
          maxLength: 25,
        }),
        async (shape, rootCents, attempts) => {
          const { authority } = testAuthority();
          const cents = (n: number) => `0.${String(n).padStart(2, '0')}`;
          const tokens = [authority.mint({ totalUsd: cents(rootCents) })];
          const parent = [-1];
          const cap = [rootCents];
          for (const [p, own] of shape) {
            const at = p % tokens.length;
            tokens.push(attenuate(tokens[at]!, { totalUsd: cents(Math.min(own, cap[at]!)) }));
            parent.push(at);
            cap.push(Math.min(own, cap[at]!));
          }
          const spent = tokens.map(() => 0);
          await Promise.all(
            attempts.map(async ([who, amount]) => {
              const node = who % tokens.length;
              try {
                await authority.pay(tokens[node]!, payRequest(testOffer(BigInt(amount) * 10_000n)));
                spent[node]! += amount;
              } catch (error) {
                expect((error as { code?: string }).code).toBe('DELEGATION_EXCEEDED');
              }
            }),
          );
          const subtree = (i: number): number =>
            spent[i]! + parent.reduce((t, p, j) => (p === i ? t + subtree(j) : t), 0);
          for (let i = 0; i < tokens.length; i++) expect(subtree(i)).toBeLessThanOrEqual(cap[i]!);
          // And the authority's own accounting agrees with what was paid.
          const status = await authority.status(tokens[0]!);
          expect(status.scopes[0]!.heldUsdMicros).toBe(BigInt(subtree(0)) * 10_000n);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a refused payment leaves nothing reserved, so the rest of the cap stays usable', async () => {
    const { authority, rail } = testAuthority();
    const token = authority.mint({ totalUsd: '0.10' });
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => authority.pay(token, payRequest(testOffer(10_000n)))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(rail.payments()).toHaveLength(10);
    expect((await authority.status(token)).scopes[0]?.remainingUsdMicros).toBe(0n);
  });
});
