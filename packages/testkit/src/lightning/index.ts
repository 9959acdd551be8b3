/**
 * Lightning pieces of `@stipend/testkit` (Node-only).
 *
 * What is real: secp256k1 node keys; BOLT 11 invoices signed with them (`lnbcrt…` by
 * default), which any decoder verifies and recovers the node key from; 32-byte preimages
 * whose SHA-256 is the payment hash; libmacaroons v2 binary serialisation, byte-identical to
 * the reference libraries.
 *
 * What is a stand-in: the Lightning network itself. No lnd, bitcoind or Core Lightning runs
 * here, so {@link createLightningNetwork} simulates one — a registry of invoices issued by
 * simulated nodes that "pays" by handing back the preimage, with LND-like refusals and
 * injectable faults. Nothing it does proves that a real node or route would behave the same.
 *
 * @packageDocumentation
 */

export {
  bytesEqual,
  bytesToHex,
  fromStdBase64,
  hexToBytes,
  isHex32,
  randomBytes32,
  sha256Hex,
  toStdBase64,
} from './bytes.js';
export { type LightningFault, lightningFaults } from './faults.js';
export {
  BOLT11_NETWORKS,
  type CreateInvoiceOptions,
  createInvoice,
  createNodeKey,
  DEFAULT_BOLT11_EXPIRY_SECONDS,
  decodeInvoice,
  INVOICE_PREFIXES,
  type Invoice,
  InvoiceDecodeError,
  type LightningNetworkName,
  LND_DEFAULT_EXPIRY_SECONDS,
  type NodeKey,
} from './invoice.js';
export {
  type LndRestRequestRecord,
  type LndRestStandIn,
  type LndRestStandInOptions,
  startLndRestStandIn,
} from './lnd-rest-stand-in.js';
export {
  decodeMacaroonV2,
  encodeMacaroonV2,
  MacaroonDecodeError,
  type MacaroonV2,
  type MacaroonV2Caveat,
  macaroonFromBase64,
  macaroonToBase64,
  macaroonV2FromLib,
} from './macaroon-binary.js';
export {
  type MacaroonLib,
  type MacaroonLibCaveat,
  type MacaroonLibMacaroon,
  macaroonLib,
} from './macaroon-lib.js';
export { LightningPaymentError, type LightningPaymentErrorCode } from './payment-error.js';
export {
  createLightningNetwork,
  type FaultScope,
  type InvoiceStatus,
  type IssuedInvoice,
  type LightningNetwork,
  type LightningNetworkOptions,
  type LightningNode,
  type NodeInvoiceOptions,
  type PaymentLookup,
  type PaymentRecord,
  type PaymentResult,
  type PaymentStats,
  type PayOptions,
} from './simulator.js';
export {
  type SimulatorBackend,
  SimulatorBackendError,
  type SimulatorBackendOptions,
  type SimulatorErrorFactory,
  type SimulatorLookup,
  type SimulatorPayment,
  type SimulatorPayRequest,
  simulatorBackend,
} from './simulator-backend.js';
