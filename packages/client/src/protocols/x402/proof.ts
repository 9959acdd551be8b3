/**
 * The proof headers x402 servers read: `PAYMENT-SIGNATURE` (v2: the chosen requirement echoed
 * exactly in `accepted`, `resource` copied, every server extension echoed), `X-PAYMENT` (v1)
 * and `X-Payment-Signature` (the plain form).
 *
 * @module
 */
import { encodeBase64Json } from './base64.js';
import type { X402OfferRaw } from './terms.js';

/** The name of the `payment-identifier` extension (x402 idempotency ids). */
export const PAYMENT_IDENTIFIER = 'payment-identifier';

/**
 * Builds the proof header for an offer and the wallet's scheme payload. `paymentId` is added
 * as `extensions["payment-identifier"].info.id` when given (the server advertised it).
 *
 * @example
 * ```ts
 * import { proofHeader } from './proof.js';
 * const { name, value } = proofHeader(offer.raw, { signature, authorization }, offer.resource);
 * // name: 'PAYMENT-SIGNATURE', value: base64 of {"x402Version":2,"resource":…,"accepted":…,"payload":…}
 * ```
 */
export function proofHeader(
  raw: X402OfferRaw,
  payload: unknown,
  resourceUrl: string,
  paymentId?: string,
): { name: string; value: string } {
  if (raw.form === 'v1') {
    const requirement = raw.requirement;
    return {
      name: 'X-PAYMENT',
      value: encodeBase64Json({
        x402Version: 1,
        scheme: requirement.scheme,
        network: requirement.network,
        payload,
      }),
    };
  }
  const extensions = echoExtensions(raw.extensions, paymentId);
  const message = {
    x402Version: 2,
    resource: raw.resource ?? { url: resourceUrl },
    accepted: raw.requirement,
    payload,
    ...(extensions ? { extensions } : {}),
  };
  return {
    name: raw.form === 'plain' ? 'X-Payment-Signature' : 'PAYMENT-SIGNATURE',
    value: encodeBase64Json(message),
  };
}

/** Every server extension, unchanged, plus the payment id when one is sent. */
function echoExtensions(
  extensions: Readonly<Record<string, unknown>> | undefined,
  paymentId: string | undefined,
): Record<string, unknown> | undefined {
  if (!extensions) return undefined;
  const echoed: Record<string, unknown> = { ...extensions };
  const identifier = extensions[PAYMENT_IDENTIFIER] as { info?: unknown } | undefined;
  if (paymentId && isObject(identifier) && isObject(identifier.info)) {
    echoed[PAYMENT_IDENTIFIER] = { ...identifier, info: { ...identifier.info, id: paymentId } };
  }
  return echoed;
}

/**
 * True when the server advertised the `payment-identifier` extension (`{ info: { … } }`).
 *
 * @example
 * ```ts
 * import { advertisesPaymentId } from './proof.js';
 * advertisesPaymentId({ 'payment-identifier': { info: { required: false } } }); // true
 * ```
 */
export function advertisesPaymentId(extensions: Readonly<Record<string, unknown>> | undefined) {
  const identifier = extensions?.[PAYMENT_IDENTIFIER] as { info?: unknown } | undefined;
  return isObject(identifier) && isObject(identifier.info);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
