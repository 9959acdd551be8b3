/**
 * A 402 that offers MPP (`WWW-Authenticate: Payment … method="evm"`) and x402
 * (`PAYMENT-REQUIRED`) for the same article, from the REAL mppx server on a real anvil chain:
 * with both adapters registered, Stipend pays exactly one of them, the one the policy ranks
 * first (equal prices, so `policy.prefer` decides).
 */
import { createPayingFetch, getPayment, mppAdapter, type SpendPolicy } from '@stipend/client';
import { devAccount, type LocalChain, startChain } from '@stipend/testkit/chain';
import { type MppServer, startMppServer } from '@stipend/testkit/mpp';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { x402Adapter } from '../../packages/client/src/protocols/x402/index.js';

let chain: LocalChain;
let server: MppServer;
let sent: Headers[];

beforeAll(async () => {
  chain = await startChain();
  server = await startMppServer({
    evm: { rpcUrl: chain.rpcUrl, tokenAddress: chain.token.address, chainId: chain.chainId },
  });
  await chain.mint(devAccount(6).address, 10_000_000n);
});
afterAll(async () => {
  await server?.close();
  await chain?.stop();
});
beforeEach(() => {
  sent = [];
});

function payingFetch(prefer: readonly string[]) {
  const token = chain.token;
  const policy: SpendPolicy = { global: { maxPerRequest: { usd: '0.10' } }, prefer };
  return createPayingFetch({
    adapters: [
      mppAdapter({
        tokens: {
          [`${chain.network}/${token.address}`]: { symbol: 'USDC', decimals: 6, peg: 'USD' },
        },
      }),
      x402Adapter({
        assets: [
          {
            network: chain.network,
            address: token.address,
            symbol: 'USDC',
            decimals: 6,
            name: token.name,
            version: token.version,
            peg: 'USD',
          },
        ],
      }),
    ],
    wallets: [evmWallet({ account: devAccount(6), publicClient: chain.publicClient })],
    policy,
    fetch: async (input, init) => {
      sent.push(new Headers(init?.headers));
      return fetch(input, init);
    },
  });
}

const mppCredentials = () =>
  sent.filter((h) => h.get('authorization')?.startsWith('Payment ')).length;
const x402Payloads = () =>
  sent.filter((h) => h.has('payment-signature') || h.has('x-payment')).length;

describe('a route offering both MPP and x402', () => {
  it('pays the MPP offer once when the policy prefers mpp', async () => {
    const payee = devAccount(1).address;
    const before = await chain.balanceOf(payee);
    const response = await payingFetch(['mpp', 'x402'])(server.urlOf('/evm/article'));
    expect(response.status).toBe(200);
    expect(getPayment(response)?.record).toMatchObject({ protocol: 'mpp', scheme: 'evm.charge' });
    expect(mppCredentials()).toBe(1);
    expect(x402Payloads()).toBe(0);
    expect(await chain.balanceOf(payee)).toBe(before + 10_000n);
  });

  it('pays the x402 offer once when the policy prefers x402', async () => {
    const payee = devAccount(1).address;
    const before = await chain.balanceOf(payee);
    const response = await payingFetch(['x402', 'mpp'])(server.urlOf('/evm/article'));
    expect(response.status).toBe(200);
    expect(getPayment(response)?.record).toMatchObject({ protocol: 'x402', scheme: 'exact' });
    expect(x402Payloads()).toBe(1);
    expect(mppCredentials()).toBe(0);
    expect(await chain.balanceOf(payee)).toBe(before + 10_000n);
  });
});
