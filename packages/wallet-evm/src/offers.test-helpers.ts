/**
 * Offers as the x402 and MPP adapters build them, for the wallet's tests (the wallet reads
 * only `PaymentOffer` and its `raw`, so the tests build them directly).
 */
import { amount, freezeOffer, type PaymentOffer } from '@stipend/client';

export const TOKEN = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
export const FACILITATOR = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

const unit = (network: string, asset: string) => ({
  kind: 'token' as const,
  network,
  asset,
  decimals: 6,
  symbol: 'USDC',
  peg: 'USD',
});

/** An x402 offer with its requirement; `overrides` change the requirement only. */
export function x402Offer(
  options: {
    scheme?: 'exact' | 'upto';
    value?: bigint;
    network?: string;
    asset?: string;
    payTo?: string;
    maxTimeoutSeconds?: number;
    version?: 1 | 2;
    transfer?: 'eip3009' | 'permit2';
    extra?: Record<string, unknown>;
    overrides?: Record<string, unknown>;
    approvalRequired?: boolean;
    /** The offer's id (the adapter's differs per challenge form, e.g. `pre-v2` vs `v2`). */
    id?: string;
  } = {},
): PaymentOffer {
  const scheme = options.scheme ?? 'exact';
  const value = options.value ?? 10_000n;
  const network = options.network ?? 'eip155:84532';
  const asset = options.asset ?? TOKEN;
  const payTo = options.payTo ?? PAY_TO;
  const version = options.version ?? 2;
  const extra = options.extra ?? { name: 'USDC', version: '2' };
  const requirement = {
    scheme,
    network: version === 1 ? 'base-sepolia' : network,
    ...(version === 1 ? { maxAmountRequired: value.toString() } : { amount: value.toString() }),
    asset,
    payTo,
    maxTimeoutSeconds: options.maxTimeoutSeconds ?? 60,
    extra,
    ...options.overrides,
  };
  return freezeOffer({
    id: options.id ?? `x402_${scheme}_${value}`,
    protocol: 'x402',
    scheme,
    amount: amount(value, unit(network, asset)),
    payee: payTo,
    network,
    asset,
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/r',
    authorizationTtlSec: options.maxTimeoutSeconds ?? 60,
    reusable: false,
    raw: {
      form: version === 1 ? 'v1' : 'v2',
      x402Version: version,
      requirement,
      transfer: options.transfer ?? (scheme === 'upto' ? 'permit2' : 'eip3009'),
      ...(typeof extra.name === 'string'
        ? { domain: { name: extra.name, version: extra.version } }
        : {}),
      ...(options.approvalRequired ? { approvalRequired: true } : {}),
    },
  });
}

/** An MPP `evm.charge` offer: raw = { challenge (params as received), request (decoded) }. */
export function mppChargeOffer(
  options: {
    chainId?: number;
    value?: bigint;
    asset?: string;
    expires?: string;
    request?: Record<string, unknown>;
  } = {},
): PaymentOffer {
  const chainId = options.chainId ?? 84532;
  const value = options.value ?? 250_000n;
  const asset = options.asset ?? TOKEN;
  const request = {
    amount: value.toString(),
    currency: asset,
    recipient: PAY_TO,
    methodDetails: { chainId, credentialTypes: ['authorization'], decimals: 6 },
    ...options.request,
  };
  return freezeOffer({
    id: 'mpp_evm_charge',
    protocol: 'mpp',
    scheme: 'evm.charge',
    amount: amount(value, unit(`eip155:${chainId}`, asset)),
    payee: PAY_TO,
    network: `eip155:${chainId}`,
    asset,
    origin: 'https://api.example.com',
    resource: 'https://api.example.com/article',
    reusable: false,
    raw: {
      challenge: {
        id: 'challenge-id-123',
        realm: 'api.example.com',
        method: 'evm',
        intent: 'charge',
        request: 'eyJ…',
        ...(options.expires ? { expires: options.expires } : {}),
      },
      request,
    },
  });
}

let purchases = 0;

/** A `PayContext` for tests: a new purchase (idempotency key) unless one is given. */
export function payContext(
  overrides: {
    now?: number;
    maxAuthorizationTtlSec?: number;
    signal?: AbortSignal;
    idempotencyKey?: string;
  } = {},
) {
  return {
    request: { method: 'GET', url: 'https://api.example.com/r' },
    idempotencyKey: overrides.idempotencyKey ?? `purchase-${++purchases}`,
    maxAuthorizationTtlSec: overrides.maxAuthorizationTtlSec ?? 3600,
    reservationId: 'r_1',
    now: overrides.now ?? 1_740_672_089_000,
    ...(overrides.signal ? { signal: overrides.signal } : {}),
  };
}
