/**
 * `@stipend/testkit/tempo` — MPP `tempo/session` on this machine, with the REAL mppx 0.11
 * server and a REAL local chain:
 *
 * - `anvil --network tempo` (1.7.1) serves TIP-20 pathUSD and takes Tempo (0x76) transactions;
 *   it has no TIP-1034 escrow precompile, so {@link startTempoNode} places the testkit's own
 *   escrow (`contracts/ChannelEscrow.sol`, written from the TIP-1034 interface, compiled in
 *   process with solc-js) at `0x4d50500000000000000000000000000000000000`.
 * - {@link tempoDevTransport} adapts three measured anvil 1.7.1 gaps (Tempo `calls` ignored by
 *   `eth_fillTransaction`, expiring nonces kept as an ordinary lane, no transaction context for
 *   EVM code). Deposits, settlements and refunds are real token moves on that chain.
 * - {@link startMppxSessionServer}: mppx's own `tempo.session` server on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { startMppxSessionServer, startTempoNode } from '@stipend/testkit/tempo';
 * const node = await startTempoNode();
 * const server = await startMppxSessionServer({ node, account });
 * ```
 *
 * @packageDocumentation
 */
export { compileChannelEscrow, type EscrowArtifact, TIP1034_ESCROW } from './escrow.js';
export {
  type MppxSessionServer,
  type SessionReceiptSeen,
  type StartMppxSessionServerOptions,
  startMppxSessionServer,
} from './mppx-session-server.js';
export { PATH_USD, type StartTempoNodeOptions, startTempoNode, type TempoNode } from './node.js';
export {
  TEMPO_NONCE_PRECOMPILE,
  type TempoDevTransportOptions,
  tempoDevTransport,
} from './transport.js';
