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
import { builtInAsset } from '../../money/assets.js';
import { type FeeCap, feeCapMsat } from '../../money/fee-cap.js';
import type { Amount, TokenUnit } from '../../money/unit.js';
import { amount, fiatUnit, msat, msatUnit, tokenKey } from '../../money/unit.js';
// The one BOLT11 reader (checksum, prefix, amount, tagged fields; the wallet checks the signature).
import { readBolt11 } from '../bolt11.js';

/**
 * Decimals, symbol and USD peg of a token the caller knows, keyed by `eip155:<id>/<address>`.
 * `decimals` may be left out only for a token of the known-asset registry (USDC on Base…):
 * a challenge's own decimals are never used.
 */
export interface KnownToken {
  /** The token contract's `decimals()`. */
  readonly decimals?: number;
  readonly symbol?: string;
  /** ISO 4217 code the token is pegged to (`'USD'`), only when known. */
  readonly peg?: string;
}

/**
 * A challenge refused because of its asset: unknown decimals, or decimals that differ from
 * the known ones. Read by the adapter to refuse with `asset_not_allowed`, as x402 does.
 */
export class AssetRefusal extends TypeError {
  readonly assetRefused = true;
}

/** The offer terms read from one challenge's `request`. */
export interface MppTerms {
  readonly amount: Amount;
  /** The routing-fee cap of a Lightning charge (msat), reserved with the amount. */
  readonly maxFee?: Amount;
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
  /** The user's tokens, by `tokenKey`; checked by the adapter (decimals known for each). */
  readonly tokens: ReadonlyMap<string, KnownToken>;
  /** The routing-fee cap of Lightning charges, msat. Default: {@link feeCapMsat}'s default. */
  readonly lightningFeeCap?: FeeCap;
}

/**
 * The payee of a Lightning charge whose invoice names no node (`n` tag): it is left for the
 * wallet to verify (the key recovered from the invoice signature), never the server's claim.
 */
export const UNVERIFIED_PAYEE = 'unverified';

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

/**
 * The unit of a token, with decimals the client knows: the user's `tokens`, else the
 * known-asset registry, else what the protocol fixes (`protocolDecimals`: TIP-20 tokens have 6).
 * The decimals a challenge states are only compared, never used.
 */
function tokenUnit(
  ctx: TermsContext,
  chain: number,
  address: string,
  stated: number | undefined,
  protocol: { readonly decimals?: number; readonly peg?: string } = {},
): TokenUnit {
  const network = `eip155:${chain}`;
  const configured = ctx.tokens.get(tokenKey(network, address));
  const registered = builtInAsset(network, address);
  const places = configured?.decimals ?? registered?.decimals ?? protocol.decimals;
  if (places === undefined) {
    throw new AssetRefusal(
      `its token ${address} on ${network} is not a known asset, so its decimals and price are ` +
        'unknown (the decimals a challenge states are never used); add it with ' +
        `mppAdapter({ tokens: { '${network}/${address}': { decimals, symbol, peg: 'USD' } } })`,
    );
  }
  if (stated !== undefined && stated !== places) {
    throw new AssetRefusal(
      `its token ${address} on ${network} claims ${stated} decimals, but it has ${places}; ` +
        'it is not paid',
    );
  }
  const symbol = configured?.symbol ?? registered?.symbol;
  const pegged = configured?.peg ?? registered?.peg ?? protocol.peg;
  return {
    kind: 'token',
    network,
    asset: address,
    decimals: places,
    ...(symbol ? { symbol } : {}),
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
      // TIP-20 tokens have 6 decimals by the protocol; the request states none.
      const peg = TEMPO_USD.has(r.currency.toLowerCase()) ? 'USD' : undefined;
      const unit = tokenUnit(ctx, r.methodDetails.chainId, r.currency, undefined, {
        decimals: 6,
        ...(peg ? { peg } : {}),
      });
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
      const msatValue = BigInt(r.amount) * 1000n;
      if (invoice.amountMsat !== msatValue) {
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
      const node = invoice.payeeNodeKey?.toLowerCase();
      if (node !== undefined && r.recipient !== undefined && r.recipient.toLowerCase() !== node) {
        throw new TypeError(
          'its recipient is not the node the invoice names (n tag); the invoice would pay ' +
            'someone else, so it is not paid',
        );
      }
      return {
        amount: amount(msatValue, msatUnit),
        maxFee: msat(feeCapMsat(msatValue, ctx.lightningFeeCap)),
        // The invoice's node, which the wallet checks against the signature; without an `n`
        // tag, the wallet recovers it. The server's `recipient` is never the payee.
        payee: node ?? UNVERIFIED_PAYEE,
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
      // Decimals unknown or contradicted: never guessed, so the amount stays opaque below.
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
