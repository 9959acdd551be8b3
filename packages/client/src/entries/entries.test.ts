import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { SPEC_PAYMENT_REQUIRED } from '../protocols/x402/fixtures.test-helpers.js';
import { createPayingFetch as createCore } from './core.js';
import { createPayingFetch as createDropIn } from './drop-in.js';
import { l402Adapter } from './l402.js';
import { x402Adapter } from './x402.js';

/** A seller that answers every request with an x402 v2 challenge. */
const x402Seller = async () =>
  new Response('{}', { status: 402, headers: { 'payment-required': SPEC_PAYMENT_REQUIRED } });

/** The protocols of the offers a paying fetch read from the seller's 402. */
async function protocolsRead(
  payingFetch: ReturnType<typeof createCore>,
): Promise<{ protocols: string[]; status?: number }> {
  const protocols: string[] = [];
  payingFetch.on('challenge', (event) => {
    protocols.push(...event.offers.map((offer) => offer.protocol));
  });
  try {
    const response = await payingFetch('https://api.example.com/premium-data');
    return { protocols, status: response.status };
  } catch (error) {
    // No wallet can pay what was read: a typed refusal, after the offers were read.
    expect(isStipendError(error)).toBe(true);
    return { protocols };
  }
}

describe('entries: which protocols a paying fetch speaks', () => {
  it('the drop-in createPayingFetch speaks x402, L402 and MPP without being told', async () => {
    const read = await protocolsRead(createDropIn({ wallets: [], fetch: x402Seller }));
    expect(read.protocols).toContain('x402');
  });

  it('the drop-in keeps only the adapters given with defaultAdapters: false', async () => {
    const read = await protocolsRead(
      createDropIn({
        wallets: [],
        fetch: x402Seller,
        adapters: [l402Adapter()],
        defaultAdapters: false,
      }),
    );
    expect(read).toEqual({ protocols: [], status: 402 });
  });

  it('the core createPayingFetch speaks only the protocols it is given', async () => {
    const l402Only = await protocolsRead(
      createCore({ wallets: [], fetch: x402Seller, adapters: [l402Adapter()] }),
    );
    // Not its protocol: the 402 comes back untouched, nothing read.
    expect(l402Only).toEqual({ protocols: [], status: 402 });
    const x402 = await protocolsRead(
      createCore({ wallets: [], fetch: x402Seller, adapters: [x402Adapter()] }),
    );
    expect(x402.protocols).toContain('x402');
  });

  it('the core createPayingFetch refuses a config without adapters, saying what to pass', () => {
    for (const config of [{ wallets: [] }, { wallets: [], adapters: [] }]) {
      expect(() => createCore(config as never)).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringContaining("import { x402Adapter } from '@stipend/client/x402'"),
        }),
      );
    }
  });

  it('a child of a core paying fetch keeps its parent’s adapters only', async () => {
    const parent = createCore({ wallets: [], fetch: x402Seller, adapters: [l402Adapter()] });
    expect(await protocolsRead(parent.child({ name: 'sub' }))).toEqual({
      protocols: [],
      status: 402,
    });
  });
});
