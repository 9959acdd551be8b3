import { bytesToHex, hexToBytes, isHex32, randomBytes32, sha256Hex } from './bytes.js';
import type { LightningFault } from './faults.js';
import {
  createInvoice,
  createNodeKey,
  decodeInvoice,
  type Invoice,
  InvoiceDecodeError,
  type LightningNetworkName,
  type NodeKey,
} from './invoice.js';
import { LightningPaymentError } from './payment-error.js';

/**
 * A simulated Lightning network for offline tests.
 *
 * **This is a stand-in, not Lightning.** No lnd, bitcoind or Core Lightning can run on the
 * machines this project is built and tested on, so there are no channels, HTLCs, onion
 * routing or on-chain funds here. What *is* real: node keys are secp256k1 keys, invoices are
 * genuine signed BOLT 11 strings, preimages are random 32-byte values whose SHA-256 is the
 * payment hash. "Paying" looks the invoice up in a registry shared by the payee nodes and
 * the payers and hands back its preimage, with LND-like refusals (already paid, in
 * transition, expired) and injectable faults (timeout-then-settle, failure, wrong preimage,
 * slowness, fee above cap). Every call to `pay` is recorded so tests can count payments.
 */

/** Options of {@link createLightningNetwork}. */
export interface LightningNetworkOptions {
  /** Bitcoin network of every invoice; default `regtest` (`lnbcrt…`). */
  network?: LightningNetworkName;
  /**
   * Fee of the (single, simulated) route for an amount, in msat. Default: 1 sat base fee plus
   * 1000 ppm (`1000n + amountMsat / 1000n`).
   */
  routeFeeMsat?: (amountMsat: bigint) => bigint;
  /** Clock in unix milliseconds, for invoice timestamps and expiry. Default `Date.now`. */
  now?: () => number;
}

/** Options of {@link LightningNetwork.pay}. */
export interface PayOptions {
  /** Maximum routing fee in msat (LND `fee_limit_msat`); 0 allows only free routes. */
  maxFeeMsat: bigint;
  /** How long the call waits for the outcome, default 60 000 ms (LND's default). */
  timeoutMs?: number;
  /** Amount to send for an amountless invoice; must be omitted otherwise. */
  amountMsat?: bigint;
  /** Free-form label of the payer, kept in the payment record. */
  payer?: string;
}

/** Outcome of a successful {@link LightningNetwork.pay}. */
export interface PaymentResult {
  /** 64 lowercase hex characters, as the wallet reports it. */
  preimage: string;
  feeMsat: bigint;
  paymentHash: string;
  amountMsat: bigint;
}

/** Payer-side state of a payment hash (like LND `TrackPaymentV2` / `getPayment`). */
export type PaymentLookup =
  | {
      status: 'succeeded';
      paymentHash: string;
      preimage: string;
      feeMsat: bigint;
      amountMsat: bigint;
    }
  | { status: 'in_flight'; paymentHash: string }
  | { status: 'failed'; paymentHash: string; reason: string }
  | { status: 'unknown'; paymentHash: string };

/** One call of {@link LightningNetwork.pay}, whatever its outcome. */
export interface PaymentRecord {
  /** 1-based sequence number. */
  id: number;
  bolt11: string;
  /** Null when the invoice could not be decoded. */
  paymentHash: string | null;
  payer: string | null;
  /** Amount sent (or that would have been sent), msat. */
  amountMsat: bigint | null;
  maxFeeMsat: bigint;
  /** Fee paid, msat; set once the payment succeeded. */
  feeMsat: bigint | null;
  /**
   * `refused`: stopped before anything was sent (already paid, expired, …); `failed`: tried
   * and failed, nothing paid; `in_flight`; `succeeded`: money moved.
   */
  status: 'refused' | 'failed' | 'in_flight' | 'succeeded';
  /** Error code of a refused, failed or timed-out call. */
  errorCode: string | null;
  /** The injected fault that applied, if any. */
  fault: LightningFault['kind'] | null;
  /** Whether the `pay` call itself rejected with a timeout. */
  callTimedOut: boolean;
  /** Preimage the wallet reported, when succeeded. */
  preimage: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** Counters over {@link LightningNetwork.payments}. */
export interface PaymentStats {
  /** Every `pay` call. */
  attempts: number;
  /** Payments that moved money. */
  succeeded: number;
  failed: number;
  inFlight: number;
  refused: number;
  /** Sum of amounts of succeeded payments, msat. */
  sentMsat: bigint;
  /** Sum of fees of succeeded payments, msat. */
  feesMsat: bigint;
}

/** Payee-side state of an invoice (LND invoice states). */
export interface InvoiceStatus {
  invoice: Invoice;
  /** `accepted`: HTLC held, not settled yet. */
  state: 'open' | 'accepted' | 'settled';
  /** Unix ms of settlement. */
  settledAt: number | null;
  amountPaidMsat: bigint | null;
  /** True once the invoice expiry has passed (an open invoice can then no longer be paid). */
  expired: boolean;
}

/** An invoice issued by a simulated node, with its preimage (which the payee knows). */
export interface IssuedInvoice extends Invoice {
  preimage: string;
}

/** Options of {@link LightningNode.createInvoice}. */
export interface NodeInvoiceOptions {
  /** Omit for an amountless invoice. */
  amountMsat?: bigint;
  description?: string;
  /**
   * The `h` tag instead of `d`: SHA-256 of a long description (x402 `lnbtc`: the request
   * hash), 64 lowercase hex characters. Signed with the node key like every other field.
   */
  descriptionHash?: string;
  /** Default 86 400 (LND); `null` for no `x` tag (BOLT 11 default 3600 s). */
  expirySeconds?: number | null;
  /** Creation time, unix seconds; default the network clock. */
  timestamp?: number;
  /** 32-byte preimage, lowercase hex; random by default. */
  preimage?: string;
}

/** A payee node of the simulated network. */
export interface LightningNode {
  /** 33-byte compressed public key, hex: the node id. */
  readonly pubkey: string;
  readonly alias: string;
  readonly nodeKey: NodeKey;
  /** Issues a signed invoice and registers it with the network so it can be paid. */
  createInvoice(options?: NodeInvoiceOptions): IssuedInvoice;
  /** The state of an invoice this node issued, or undefined. */
  lookupInvoice(paymentHash: string): InvoiceStatus | undefined;
  /** Number of invoices this node issued. */
  readonly invoiceCount: number;
}

/** Scope of an injected fault. */
export interface FaultScope {
  /** Apply only to payments of this hash; otherwise to the next payments of any hash. */
  paymentHash?: string;
  /** How many payments it applies to; default 1 (`Infinity` for all). */
  times?: number;
}

/** The simulated network. See the module TSDoc: a stand-in for Lightning, not Lightning. */
export interface LightningNetwork {
  readonly network: LightningNetworkName;
  /** Adds a node (random key unless given). */
  createNode(options?: { privateKeyHex?: string; alias?: string }): LightningNode;
  /** A node by pubkey. */
  node(pubkey: string): LightningNode | undefined;
  /**
   * Pays an invoice issued by one of this network's nodes. Resolves with the preimage
   * (lowercase hex), fee and payment hash, or rejects with a {@link LightningPaymentError}.
   */
  pay(bolt11: string, options: PayOptions): Promise<PaymentResult>;
  /** Payer-side state of a payment hash. */
  lookup(paymentHash: string): PaymentLookup;
  /** Payee-side state of an invoice, whichever node issued it. */
  invoiceStatus(paymentHash: string): InvoiceStatus | undefined;
  /** Injects a fault into the next payment(s), or into payments of one hash. */
  injectFault(fault: LightningFault, scope?: FaultScope): void;
  /** Removes every pending fault. */
  clearFaults(): void;
  /** Snapshot of every `pay` call so far, oldest first. */
  readonly payments: readonly PaymentRecord[];
  stats(): PaymentStats;
  /** Resolves once no payment is in flight. */
  idle(): Promise<void>;
  /** Settles every in-flight payment now and cancels the timers. */
  close(): void;
}

interface InvoiceEntry {
  invoice: Invoice;
  preimage: string;
  node: string;
  state: 'open' | 'accepted' | 'settled';
  settledAt: number | null;
  amountPaidMsat: bigint | null;
}

interface FaultEntry {
  fault: LightningFault;
  remaining: number;
}

interface InFlight {
  timer: ReturnType<typeof setTimeout> | null;
  settle: () => void;
  done: Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * Creates a simulated Lightning network shared by an L402 server (payee node) and the
 * wallets under test (payers). A stand-in for a real network: see the module TSDoc.
 *
 * @example
 * ```ts
 * import { createLightningNetwork, lightningFaults } from '@stipend/testkit/l402';
 * const network = createLightningNetwork();
 * const shop = network.createNode({ alias: 'shop' });
 * const invoice = shop.createInvoice({ amountMsat: 100_000n, description: 'L402' });
 * const { preimage, feeMsat } = await network.pay(invoice.bolt11, { maxFeeMsat: 10_000n });
 * network.lookup(invoice.paymentHash).status; // 'succeeded'
 * network.injectFault(lightningFaults.timeoutThenSettle());
 * ```
 */
export function createLightningNetwork(options: LightningNetworkOptions = {}): LightningNetwork {
  const networkName = options.network ?? 'regtest';
  const routeFee = options.routeFeeMsat ?? ((amount: bigint) => 1000n + amount / 1000n);
  const now = options.now ?? Date.now;
  const nodes = new Map<string, LightningNode>();
  const invoices = new Map<string, InvoiceEntry>();
  const records: PaymentRecord[] = [];
  const nextFaults: FaultEntry[] = [];
  const hashFaults = new Map<string, FaultEntry[]>();
  const inFlight = new Map<number, InFlight>();

  function createNode(nodeOptions: { privateKeyHex?: string; alias?: string } = {}): LightningNode {
    const nodeKey = createNodeKey(nodeOptions.privateKeyHex);
    if (nodes.has(nodeKey.publicKeyHex)) {
      throw new Error(`a node with pubkey ${nodeKey.publicKeyHex} already exists in this network`);
    }
    let count = 0;
    const node: LightningNode = {
      pubkey: nodeKey.publicKeyHex,
      alias: nodeOptions.alias ?? `node-${nodes.size + 1}`,
      nodeKey,
      get invoiceCount() {
        return count;
      },
      createInvoice(invoiceOptions: NodeInvoiceOptions = {}): IssuedInvoice {
        const preimage = invoiceOptions.preimage ?? bytesToHex(randomBytes32());
        if (!isHex32(preimage)) {
          throw new TypeError('preimage must be 64 lowercase hex characters (32 bytes)');
        }
        const paymentHash = sha256Hex(hexToBytes(preimage));
        if (invoices.has(paymentHash)) {
          throw new Error(`an invoice with payment hash ${paymentHash} already exists`);
        }
        const invoice = createInvoice({
          nodeKey,
          network: networkName,
          paymentHash,
          timestamp: invoiceOptions.timestamp ?? Math.floor(now() / 1000),
          ...(invoiceOptions.amountMsat === undefined
            ? {}
            : { amountMsat: invoiceOptions.amountMsat }),
          ...(invoiceOptions.description === undefined
            ? {}
            : { description: invoiceOptions.description }),
          ...(invoiceOptions.descriptionHash === undefined
            ? {}
            : { descriptionHash: invoiceOptions.descriptionHash }),
          ...(invoiceOptions.expirySeconds === undefined
            ? {}
            : { expirySeconds: invoiceOptions.expirySeconds }),
        });
        invoices.set(paymentHash, {
          invoice,
          preimage,
          node: nodeKey.publicKeyHex,
          state: 'open',
          settledAt: null,
          amountPaidMsat: null,
        });
        count++;
        return { ...invoice, preimage };
      },
      lookupInvoice(paymentHash: string): InvoiceStatus | undefined {
        const entry = invoices.get(paymentHash);
        return entry && entry.node === nodeKey.publicKeyHex ? statusOf(entry) : undefined;
      },
    };
    nodes.set(node.pubkey, node);
    return node;
  }

  function statusOf(entry: InvoiceEntry): InvoiceStatus {
    return {
      invoice: entry.invoice,
      state: entry.state,
      settledAt: entry.settledAt,
      amountPaidMsat: entry.amountPaidMsat,
      expired: now() >= entry.invoice.expiresAt * 1000,
    };
  }

  function takeFault(paymentHash: string): LightningFault | null {
    const scoped = hashFaults.get(paymentHash);
    const queue = scoped && scoped.length > 0 ? scoped : nextFaults;
    const head = queue[0];
    if (!head) return null;
    head.remaining--;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  function lookup(paymentHash: string): PaymentLookup {
    const mine = records.filter((r) => r.paymentHash === paymentHash);
    const won = mine.find((r) => r.status === 'succeeded');
    if (won) {
      return {
        status: 'succeeded',
        paymentHash,
        preimage: won.preimage ?? '',
        feeMsat: won.feeMsat ?? 0n,
        amountMsat: won.amountMsat ?? 0n,
      };
    }
    if (mine.some((r) => r.status === 'in_flight')) return { status: 'in_flight', paymentHash };
    const lost = [...mine].reverse().find((r) => r.status === 'failed');
    if (lost) return { status: 'failed', paymentHash, reason: lost.errorCode ?? 'failed' };
    return { status: 'unknown', paymentHash };
  }

  async function pay(bolt11: string, payOptions: PayOptions): Promise<PaymentResult> {
    const timeoutMs = payOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof payOptions.maxFeeMsat !== 'bigint' || payOptions.maxFeeMsat < 0n) {
      throw new TypeError('maxFeeMsat must be a bigint >= 0 (msat)');
    }
    const record: PaymentRecord = {
      id: records.length + 1,
      bolt11,
      paymentHash: null,
      payer: payOptions.payer ?? null,
      amountMsat: null,
      maxFeeMsat: payOptions.maxFeeMsat,
      feeMsat: null,
      status: 'refused',
      errorCode: null,
      fault: null,
      callTimedOut: false,
      preimage: null,
      startedAt: now(),
      finishedAt: null,
    };
    records.push(record);
    const stop = (
      status: 'refused' | 'failed',
      code: LightningPaymentError['code'],
      message: string,
    ): never => {
      record.status = status;
      record.errorCode = code;
      record.finishedAt = now();
      throw new LightningPaymentError(code, message, record.paymentHash);
    };

    let invoice: Invoice;
    try {
      invoice = decodeInvoice(bolt11);
    } catch (error) {
      const detail = error instanceof InvoiceDecodeError ? error.message : String(error);
      return stop('refused', 'invalid_invoice', `invalid payment request: ${detail}`);
    }
    const paymentHash = invoice.paymentHash;
    record.paymentHash = paymentHash;
    if (invoice.network !== networkName) {
      return stop(
        'refused',
        'wrong_network',
        `invoice is for ${invoice.network} but this simulated network is ${networkName}`,
      );
    }
    if (invoice.amountMsat === null && payOptions.amountMsat === undefined) {
      return stop(
        'refused',
        'amount_required',
        'amount must be specified when paying a zero amount invoice (pass amountMsat)',
      );
    }
    if (invoice.amountMsat !== null && payOptions.amountMsat !== undefined) {
      return stop(
        'refused',
        'amount_mismatch',
        'amount must not be specified when paying a non-zero amount invoice',
      );
    }
    const amountMsat = invoice.amountMsat ?? payOptions.amountMsat ?? 0n;
    if (amountMsat <= 0n) {
      return stop('refused', 'amount_required', 'amountMsat must be positive');
    }
    record.amountMsat = amountMsat;
    const previous = lookup(paymentHash).status;
    if (previous === 'succeeded') {
      return stop('refused', 'invoice_already_paid', 'invoice is already paid');
    }
    if (previous === 'in_flight') {
      return stop('refused', 'payment_in_flight', 'payment is in transition');
    }
    if (now() >= invoice.expiresAt * 1000) {
      return stop(
        'refused',
        'invoice_expired',
        `invoice expired. Valid until ${new Date(invoice.expiresAt * 1000).toISOString()}`,
      );
    }
    const entry = invoices.get(paymentHash);
    if (!entry || entry.invoice.bolt11 !== invoice.bolt11) {
      return stop(
        'failed',
        'unknown_invoice',
        'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS: no node of this simulated network issued this invoice',
      );
    }

    const fault = takeFault(paymentHash);
    record.fault = fault?.kind ?? null;
    const fee = fault?.kind === 'feeAboveCap' ? payOptions.maxFeeMsat + 1n : routeFee(amountMsat);
    if (fee > payOptions.maxFeeMsat) {
      return stop(
        'failed',
        'fee_limit_exceeded',
        `FAILURE_REASON_NO_ROUTE: the route fee of ${fee} msat exceeds maxFeeMsat ${payOptions.maxFeeMsat} msat; raise the fee limit`,
      );
    }
    if (fault?.kind === 'fail') {
      return stop('failed', 'payment_failed', `payment failed: ${fault.reason}`);
    }

    // The HTLC is now in flight: the payee holds it until settlement.
    record.status = 'in_flight';
    entry.state = 'accepted';
    const reportedPreimage =
      fault?.kind === 'wrongPreimage' ? bytesToHex(randomBytes32()) : entry.preimage;
    const settleDelay =
      fault?.kind === 'slow'
        ? fault.ms
        : fault?.kind === 'timeoutThenSettle'
          ? fault.settleAfterMs
          : 0;

    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const flight: InFlight = {
      timer: null,
      done,
      settle: () => {
        if (record.status !== 'in_flight') return;
        if (flight.timer) clearTimeout(flight.timer);
        inFlight.delete(record.id);
        const at = now();
        entry.state = 'settled';
        entry.settledAt = at;
        entry.amountPaidMsat = amountMsat;
        record.status = 'succeeded';
        record.feeMsat = fee;
        record.preimage = reportedPreimage;
        record.finishedAt = at;
        resolveDone();
      },
    };
    inFlight.set(record.id, flight);
    if (settleDelay === 0) flight.settle();
    else {
      flight.timer = setTimeout(flight.settle, settleDelay);
      flight.timer.unref?.();
    }

    const timeoutError = () => {
      record.callTimedOut = true;
      record.errorCode = 'timeout';
      return new LightningPaymentError(
        'timeout',
        `payment timed out after ${timeoutMs} ms; it may still settle: look it up by payment hash (${paymentHash}) before paying again`,
        paymentHash,
      );
    };
    if (fault?.kind === 'timeoutThenSettle') throw timeoutError();

    if (settleDelay > timeoutMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        t.unref?.();
        void done.then(() => {
          clearTimeout(t);
          resolve();
        });
      });
      if (record.status === 'in_flight') throw timeoutError();
    } else {
      await done;
    }
    return { preimage: reportedPreimage, feeMsat: fee, paymentHash, amountMsat };
  }

  return {
    network: networkName,
    createNode,
    node: (pubkey) => nodes.get(pubkey),
    pay,
    lookup,
    invoiceStatus(paymentHash) {
      const entry = invoices.get(paymentHash);
      return entry ? statusOf(entry) : undefined;
    },
    injectFault(fault, scope = {}) {
      const times = scope.times ?? 1;
      if (!(times >= 1)) throw new RangeError('times must be >= 1 (or Infinity)');
      const item = { fault, remaining: times };
      if (scope.paymentHash === undefined) {
        nextFaults.push(item);
        return;
      }
      const list = hashFaults.get(scope.paymentHash) ?? [];
      list.push(item);
      hashFaults.set(scope.paymentHash, list);
    },
    clearFaults() {
      nextFaults.length = 0;
      hashFaults.clear();
    },
    get payments() {
      return records.map((r) => ({ ...r }));
    },
    stats() {
      const stats: PaymentStats = {
        attempts: records.length,
        succeeded: 0,
        failed: 0,
        inFlight: 0,
        refused: 0,
        sentMsat: 0n,
        feesMsat: 0n,
      };
      for (const r of records) {
        if (r.status === 'succeeded') {
          stats.succeeded++;
          stats.sentMsat += r.amountMsat ?? 0n;
          stats.feesMsat += r.feeMsat ?? 0n;
        } else if (r.status === 'failed') stats.failed++;
        else if (r.status === 'in_flight') stats.inFlight++;
        else stats.refused++;
      }
      return stats;
    },
    async idle() {
      while (inFlight.size > 0) {
        await Promise.all([...inFlight.values()].map((f) => f.done));
      }
    },
    close() {
      for (const flight of [...inFlight.values()]) flight.settle();
    },
  };
}
