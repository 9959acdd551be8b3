import type { Address, Chain, TestClient, Transport } from 'viem';
import { deployedBytecode as multicall3RuntimeCode } from './multicall3-artifact.js';

/** The canonical Multicall3 address on public EVM chains. */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

/**
 * Places Multicall3-compatible runtime code at {@link MULTICALL3_ADDRESS} with
 * `anvil_setCode`. The code is our own contract (`contracts/Multicall3.sol`: `aggregate`,
 * `tryAggregate`, `aggregate3` and a few getters, same selectors as the canonical one).
 * Without it the reference x402 facilitator cannot diagnose failed EIP-3009 simulations and
 * reports `invalid_exact_evm_transaction_simulation_failed` instead of precise reasons such
 * as `invalid_exact_evm_nonce_already_used` (protocols/x402.md §3.6).
 *
 * @example
 * ```ts
 * import { installMulticall3, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain(); // already installs it; call again after anvil_reset
 * await installMulticall3(chain.testClient);
 * ```
 */
export async function installMulticall3(
  testClient: TestClient<'anvil', Transport, Chain | undefined>,
): Promise<void> {
  await testClient.setCode({ address: MULTICALL3_ADDRESS, bytecode: multicall3RuntimeCode });
}
