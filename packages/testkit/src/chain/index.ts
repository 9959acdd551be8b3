/**
 * `@stipend/testkit/chain` — a REAL local EVM chain for payment tests, no mocks:
 *
 * - **anvil** (Foundry's dev node, from the `@foundry-rs/anvil` npm package) runs as a child
 *   process on 127.0.0.1 with a free port; it is killed on `stop()`, on process exit and
 *   signals, and (through a tiny `/bin/sh` watchdog) even if the test process is SIGKILLed.
 * - **EIP3009Token** (`contracts/EIP3009Token.sol`, our own code): an ERC-20 with EIP-712
 *   domain name "USDC", version "2", 6 decimals, EIP-3009 `transferWithAuthorization` (both
 *   the `v,r,s` and the `bytes signature` overloads), `receiveWithAuthorization`,
 *   `cancelAuthorization`, `authorizationState`, `DOMAIN_SEPARATOR` — and an OPEN `mint`.
 *   Compiled ahead of time by `scripts/compile-token.mjs` into `token-artifact.ts`.
 * - **Multicall3**: our own compatible contract placed at the canonical address
 *   0xcA11bde05977b3631167028862bE2a173976CA11 with `anvil_setCode`, so the reference x402
 *   facilitator returns precise failure reasons.
 * - **Dev accounts**: anvil's ten well-known accounts. Their private keys are PUBLIC test keys
 *   (Foundry/Hardhat docs); never use them on a real network.
 *
 * Time caveat: the x402 facilitator checks `validAfter`/`validBefore` against the wall clock,
 * the token against `block.timestamp`. anvil stamps blocks with the wall clock, so do not
 * time-travel (`evm_increaseTime`, `evm_setNextBlockTimestamp`) in x402 tests.
 *
 * @example
 * ```ts
 * import { devAccount, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * await chain.mint(devAccount(4).address, 1_000_000n);
 * await chain.stop();
 * ```
 *
 * @packageDocumentation
 */

export { type AnvilInstance, type AnvilOptions, resolveAnvilBinary, startAnvil } from './anvil.js';
export { type LocalChain, type StartChainOptions, startChain } from './chain.js';
export { DEV_ACCOUNTS, DEV_MNEMONIC, type DevAccount, devAccount } from './dev-accounts.js';
export {
  type Eip3009Domain,
  randomAuthorizationNonce,
  type SignedTransferAuthorization,
  signTransferAuthorization,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  type TransferAuthorization,
} from './eip3009.js';
export { setEthBalance } from './funding.js';
export { installMulticall3, MULTICALL3_ADDRESS } from './multicall.js';
export { abi as multicall3Abi } from './multicall3-artifact.js';
export {
  authorizationState,
  balanceOf,
  deployToken,
  mint,
  TOKEN_DECIMALS,
  TOKEN_NAME,
  TOKEN_VERSION,
  type TokenClients,
  type TokenInfo,
  tokenInfo,
} from './token.js';
export { abi as eip3009TokenAbi } from './token-artifact.js';
