/**
 * Shared set-up of the MCP suites: the local test token as a known x402 asset, and a signer
 * that counts what it signs (so a test can assert that nothing was signed).
 */
import type { KnownAsset } from '@stipend/client';
import type { TokenInfo } from '@stipend/testkit/chain';
import type { EvmSigner } from '@stipend/wallet-evm';
import type { PrivateKeyAccount } from 'viem';

/** The local test token as a known asset (6 decimals, pegged to USD like USDC). */
export function localAsset(token: TokenInfo): KnownAsset {
  return {
    network: token.network,
    address: token.address,
    symbol: 'USDC',
    decimals: token.decimals,
    name: token.name,
    version: token.version,
    peg: 'USD',
  };
}

/** A signer that records every typed-data signature it makes. */
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
