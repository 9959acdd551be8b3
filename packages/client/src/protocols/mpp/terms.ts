/**
 * What an MPP challenge's `request` asks for, per payment method and intent, read into the
 * terms of an offer: amount (base units in the right unit), payee, network and asset. Each
 * known method has a schema; an unknown one is read loosely into an offer no wallet pays.
 *
 * @module
 */
import {
  array,
  int,
  object,
  oneOf,
  optional,
  record,
  type Shape,
  string,
} from '../../internal/shape.js';
import type { Amount, TokenUnit } from '../../money/unit.js';
import { amount, fiatUnit, msatUnit, tokenKey } from '../../money/unit.js';
// The L402 adapter's BOLT11 reader (checksum, prefix, amount, tagged fields; no signature).
import { readBolt11 } from '../l402/bolt11.js';

/** Decimals, symbol and USD peg of a token the caller knows, keyed by `eip155:<id>/<address>`. */
export interface KnownToken {
  readonly decimals?: number;
  readonly symbol?: string;
  /** ISO 4217 code the token is pegged to (`'USD'`), only when known. */
  readonly peg?: string;
}

/** The offer terms read from one challenge's `request`. */
export interface MppTerms {
  readonly amount: Amount;
  readonly payee: string;
  readonly network?: string;
  readonly asset?: string;
  /** An expiry the request itself carries (a Lightning invoice's), ms since epoch. */
  readonly expiresAt?: number;
  /** The BOLT11 invoice of a `lightning` charge. */
  readonly invoice?: string;
}

/** What reading terms may consult besides the request. */
export interface TermsContext {
  readonly realm: string;
  readonly tokens: ReadonlyMap<string, KnownToken>;
}

// A positive integer of base units, as a decimal string without leading zeros (≤ 78 digits).
const baseUnits = string({
  pattern: /^[1-9][0-9]{0,77}$/,
  what: 'a positive whole number of base units as a decimal string, without sign, point or leading zero',
});
const evmAddress = string({
  pattern: /^0x[0-9a-fA-F]{40}$/,
  what: 'a 0x-prefixed 20-byte hex address',
});
const chainId = int({ min: 1 });
const decimals = int({ min: 0, max: 77 });
const hex32 = string({ pattern: /^[0-9a-f]{64}$/, what: '64 lower-case hex digits' });
const strings = array(string());

const stripeCharge = object({
  amount: baseUnits,
  currency: string({ pattern: /^[A-Za-z]{3}$/, what: 'a three-letter ISO 4217 code' }),
  externalId: optional(string()),
  recipient: optional(string()),
  methodDetails: object({
    networkId: string({ min: 1 }),
    paymentMethodTypes: optional(strings),
    metadata: optional(record(string())),
  }),
});

const evmCharge = object({
  amount: baseUnits,
  currency: evmAddress,
  recipient: evmAddress,
  externalId: optional(string()),
  methodDetails: object({
    chainId,
    decimals: optional(decimals),
    credentialTypes: optional(strings),
  }),
});

const tempoCharge = object({
  amount: baseUnits,
  currency: evmAddress,
  recipient: evmAddress,
  externalId: optional(string()),
  methodDetails: object({ chainId }),
});

const tempoSession = object({
  amount: baseUnits,
  currency: evmAddress,
  recipient: evmAddress,
  unitType: optional(string()),
  suggestedDeposit: optional(baseUnits),
  methodDetails: object({ chainId, escrowContract: evmAddress }),
});

const lightningCharge = object({
  amount: baseUnits,
  currency: oneOf(['sat']),
  recipient: optional(string()),
  methodDetails: object({
    invoice: string({ min: 1 }),
    paymentHash: optional(hex32),
    network: optional(oneOf(['mainnet', 'regtest', 'signet'])),
  }),
});

const unknownMethod = object({
  amount: baseUnits,
  currency: string({ pattern: /^[!-~]{1,256}$/, what: '1 to 256 printable ASCII characters' }),
  recipient: optional(string()),
  methodDetails: optional(
    object({
      chainId: optional(chainId),
      decimals: optional(decimals),
      networkId: optional(string()),
    }),
  ),
});

/** TIP-20 stablecoins (6 decimals) whose USD peg is known. */
const TEMPO_USD = new Set([
  '0x20c0000000000000000000000000000000000000', // pathUSD (testnets)
  '0x20c000000000000000000000b9537d11c60e8b50', // USDC.e (mainnet)
]);

function check<T>(schema: Shape<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // `path: code, what was expected`, up to three of them.
  const issues = result.error.issues.slice(0, 3).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.code}, ${issue.message}`;
  });
  throw new TypeError(`its ${what} request is not valid: ${issues.join('; ')}`);
}

function tokenUnit(
  ctx: TermsContext,
  chain: number,
  address: string,
  decimals: number | undefined,
  peg?: string,
): TokenUnit {
  const network = `eip155:${chain}`;
  const known = ctx.tokens.get(tokenKey(network, address));
  const places = known?.decimals ?? decimals;
  if (places === undefined) {
    throw new TypeError(
      `its token ${address} on ${network} states no decimals; pass them in mppAdapter({ tokens })`,
    );
  }
  if (known?.decimals !== undefined && decimals !== undefined && known.decimals !== decimals) {
    throw new TypeError(
      `its token ${address} claims ${decimals} decimals, but ${known.decimals} are configured`,
    );
  }
  const pegged = known?.peg ?? peg;
  return {
    kind: 'token',
    network,
    asset: address,
    decimals: places,
    ...(known?.symbol ? { symbol: known.symbol } : {}),
    ...(pegged ? { peg: pegged } : {}),
  };
}

/**
 * Reads the terms of one challenge from its decoded `request`, validating it with the schema
 * of its method and intent.
 *
 * @throws {TypeError} with a reason when the request does not fit its schema or is unsafe.
 * @example
 * ```ts
 * import { readTerms } from './terms.js';
 * const terms = readTerms('stripe', 'charge', { amount: '50', currency: 'usd', methodDetails: { networkId: 'profile_1' } }, ctx);
 * terms.amount; // { value: 50n, unit: { kind: 'fiat', currency: 'USD', exponent: 2 } }
 * ```
 */
export function readTerms(
  method: string,
  intent: string,
  request: unknown,
  ctx: TermsContext,
): MppTerms {
  switch (`${method}.${intent}`) {
    case 'stripe.charge': {
      const r = check(stripeCharge, request, 'stripe charge');
      let unit: ReturnType<typeof fiatUnit>;
      try {
        unit = fiatUnit(r.currency);
      } catch {
        throw new TypeError(`its currency "${r.currency}" is not an ISO 4217 code`);
      }
      return { amount: amount(BigInt(r.amount), unit), payee: r.methodDetails.networkId };
    }
    case 'evm.charge': {
      const r = check(evmCharge, request, 'evm charge');
      const unit = tokenUnit(ctx, r.methodDetails.chainId, r.currency, r.methodDetails.decimals);
      return {
        amount: amount(BigInt(r.amount), unit),
        payee: r.recipient,
        network: unit.network,
        asset: r.currency,
      };
    }
    case 'tempo.charge':
    case 'tempo.session': {
      const r =
        intent === 'charge'
          ? check(tempoCharge, request, 'tempo charge')
          : check(tempoSession, request, 'tempo session');
      const peg = TEMPO_USD.has(r.currency.toLowerCase()) ? 'USD' : undefined;
      const unit = tokenUnit(ctx, r.methodDetails.chainId, r.currency, 6, peg);
      return {
        amount: amount(BigInt(r.amount), unit),
        payee: r.recipient,
        network: unit.network,
        asset: r.currency,
      };
    }
    case 'lightning.charge': {
      const r = check(lightningCharge, request, 'lightning charge');
      const details = r.methodDetails;
      let invoice: ReturnType<typeof readBolt11>;
      try {
        invoice = readBolt11(details.invoice);
      } catch (error) {
        throw new TypeError(`its invoice is not valid BOLT11: ${(error as Error).message}`);
      }
      const msat = BigInt(r.amount) * 1000n;
      if (invoice.amountMsat !== msat) {
        throw new TypeError(
          `its invoice is for ${invoice.amountMsat ?? 'no'} msat, but the request says ${r.amount} sat`,
        );
      }
      if (details.paymentHash !== undefined && details.paymentHash !== invoice.paymentHash) {
        throw new TypeError('its paymentHash does not match the invoice');
      }
      if (details.network !== undefined && details.network !== invoice.network) {
        throw new TypeError(`it says network ${details.network}, the invoice ${invoice.network}`);
      }
      return {
        amount: amount(msat, msatUnit),
        payee: invoice.payeeNodeKey ?? r.recipient ?? ctx.realm,
        expiresAt: (invoice.timestamp + invoice.expirySeconds) * 1000,
        invoice: details.invoice,
      };
    }
    default:
      return unknownTerms(request, ctx);
  }
}

/**
 * An unknown method: its amount is kept in base units. An ISO 4217 currency gives a fiat unit
 * (so the offer can be priced, and is then refused for want of a wallet); an EVM-looking one a
 * token on `eip155:<chainId>` when its decimals are known; anything else an opaque unit
 * (`mpp:unknown/<currency>`, shown in base units; it cannot be priced, so it is never paid).
 */
function unknownTerms(request: unknown, ctx: TermsContext): MppTerms {
  const r = check(unknownMethod, request, 'payment');
  const details = r.methodDetails;
  const value = BigInt(r.amount);
  const payee = r.recipient ?? details?.networkId ?? ctx.realm;
  if (/^[A-Za-z]{3}$/.test(r.currency)) {
    try {
      return { amount: amount(value, fiatUnit(r.currency)), payee };
    } catch {
      // Not an ISO code after all: fall through to an opaque unit.
    }
  }
  if (details?.chainId !== undefined && /^0x[0-9a-fA-F]{40}$/.test(r.currency)) {
    try {
      const unit = tokenUnit(ctx, details.chainId, r.currency, details.decimals);
      return { amount: amount(value, unit), payee, network: unit.network, asset: r.currency };
    } catch {
      // Decimals unknown: never guessed, so the amount stays in an opaque unit below.
    }
  }
  const unit: TokenUnit = {
    kind: 'token',
    network: 'mpp:unknown',
    asset: r.currency,
    decimals: 0,
  };
  return { amount: amount(value, unit), payee, asset: r.currency };
}
