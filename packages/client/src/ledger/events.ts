/**
 * Typed events of a paying fetch. Listeners get secret-free snapshots; a listener that
 * throws never breaks a payment.
 *
 * @module
 */
import type { StipendError } from '../errors/base.js';
import type { PaymentOffer } from '../offer.js';
import type { SpendRecord } from './record.js';

/** What an event says about an offer (no raw challenge, which may carry tokens). */
export interface OfferSummary {
  readonly id: string;
  readonly protocol: PaymentOffer['protocol'];
  readonly scheme: string;
  readonly amount: PaymentOffer['amount'];
  readonly maxFee?: PaymentOffer['amount'];
  readonly payee: string;
  readonly network?: string;
  readonly origin: string;
  readonly expiresAt?: number;
}

/** Every event and its payload. */
export interface PaymentEvents {
  /** A 402 was read. `errors` lists challenges that could not be parsed. */
  challenge: {
    readonly url: string;
    readonly offers: readonly OfferSummary[];
    readonly errors: readonly string[];
  };
  /** The policy chose an offer and reserved its cost. */
  decision: {
    readonly url: string;
    readonly offer: OfferSummary;
    readonly usdMicros: bigint;
    readonly approved: boolean;
    readonly walletId: string;
  };
  /** A wallet paid or signed; the record is the ledger entry. */
  payment: { readonly url: string; readonly record: SpendRecord };
  /** The paid request ended; the record has its final status. */
  receipt: { readonly url: string; readonly record: SpendRecord; readonly status: number };
  /** Something failed; the error is secret-free. */
  error: { readonly url: string; readonly error: StipendError };
}

export type PaymentEventName = keyof PaymentEvents;
export type PaymentEventHandler<N extends PaymentEventName> = (event: PaymentEvents[N]) => void;

/** A tiny typed event emitter. */
export interface Emitter {
  on<N extends PaymentEventName>(name: N, handler: PaymentEventHandler<N>): () => void;
  emit<N extends PaymentEventName>(name: N, event: PaymentEvents[N]): void;
  has(name: PaymentEventName): boolean;
}

/** Makes an emitter whose `on` returns an unsubscribe function. */
export function createEmitter(onListenerError?: (error: unknown) => void): Emitter {
  const handlers = new Map<PaymentEventName, Set<(event: never) => void>>();
  return {
    on(name, handler) {
      let set = handlers.get(name);
      if (!set) {
        set = new Set();
        handlers.set(name, set);
      }
      const entry = handler as (event: never) => void;
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit(name, event) {
      const set = handlers.get(name);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          (handler as (event: unknown) => void)(event);
        } catch (error) {
          onListenerError?.(error);
        }
      }
    },
    has(name) {
      return (handlers.get(name)?.size ?? 0) > 0;
    },
  };
}

/** The secret-free view of an offer used in events and errors. */
export function summarizeOffer(offer: PaymentOffer): OfferSummary {
  const summary: {
    -readonly [K in keyof OfferSummary]: OfferSummary[K];
  } = {
    id: offer.id,
    protocol: offer.protocol,
    scheme: offer.scheme,
    amount: offer.amount,
    payee: offer.payee,
    origin: offer.origin,
  };
  if (offer.maxFee) summary.maxFee = offer.maxFee;
  if (offer.network) summary.network = offer.network;
  if (offer.expiresAt !== undefined) summary.expiresAt = offer.expiresAt;
  return Object.freeze(summary);
}
