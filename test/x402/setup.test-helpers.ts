/**
 * Shared set-up of the x402 suites: a paying fetch with the x402 adapter (the local test
 * token added to the known assets, since no registry lists it) and an EVM wallet whose
 * signatures are counted.
 */
import {
  createPayingFetch,
  type KnownAsset,
  type PayingFetchConfig,
  type SpendPolicy,
  type Wallet,
  x402Adapter,
} from '@stipend/client';
import type { TokenInfo } from '@stipend/testkit/chain';
import type { EvmSigner } from '@stipend/wallet-evm';
import type { PrivateKeyAccount } from 'viem';

/** The local test token as a known asset (6 decimals, pegged to USD like USDC). */
export function testAsset(token: TokenInfo, network: string = token.network): KnownAsset {
  return {
    network,
    address: token.address,
    symbol: 'USDC',
    decimals: token.decimals,
    name: token.name,
    version: token.version,
    peg: 'USD',
  };
}

/** A signer that counts what it signs. */
export function countingSigner(account: PrivateKeyAccount): {
  signer: EvmSigner;
  signed: unknown[];
} {
  const signed: unknown[] = [];
  const signer: EvmSigner = {
    address: account.address,
    signTypedData: (async (parameters: unknown) => {
      signed.push(parameters);
      return account.signTypedData(parameters as never);
    }) as EvmSigner['signTypedData'],
  };
  return { signer, signed };
}

/** Generous enough for every test route, unless a test tightens it. */
export const POLICY: SpendPolicy = {
  global: {
    maxPerRequest: { usd: '0.01' },
    limits: [{ usd: '1', window: { calendar: 'day' } }],
  },
};

/** A paying fetch for x402 on the local chain, recording every request it sends. */
export function x402Fetch(options: {
  token: TokenInfo;
  network?: string;
  wallet: Wallet;
  config?: Partial<PayingFetchConfig>;
}) {
  const sent: { url: string; method: string; headers: Headers }[] = [];
  const payingFetch = createPayingFetch({
    adapters: [x402Adapter({ assets: [testAsset(options.token, options.network)] })],
    wallets: [options.wallet],
    policy: POLICY,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      sent.push({
        url: request.url,
        method: request.method,
        headers: new Headers(request.headers),
      });
      return fetch(input, init);
    },
    ...options.config,
  });
  return { payingFetch, sent };
}
