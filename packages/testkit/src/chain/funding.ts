import type { Address, Chain, TestClient, Transport } from 'viem';

/**
 * Sets the native (ETH) balance of `address` to exactly `wei` with `anvil_setBalance`.
 *
 * @example
 * ```ts
 * import { setEthBalance, startChain } from '@stipend/testkit/chain';
 * import { parseEther } from 'viem';
 * const chain = await startChain();
 * await setEthBalance(chain.testClient, '0x000000000000000000000000000000000000dEaD', parseEther('1'));
 * ```
 */
export async function setEthBalance(
  testClient: TestClient<'anvil', Transport, Chain | undefined>,
  address: Address,
  wei: bigint,
): Promise<void> {
  if (wei < 0n) throw new Error(`an ETH balance cannot be negative (${wei})`);
  await testClient.setBalance({ address, value: wei });
}
