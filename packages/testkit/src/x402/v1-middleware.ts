import { base64ToBytes, encodeBase64Json } from '@stipend/client/internal';
import type { FacilitatorClient } from '@x402/core/server';
import type {
  PaymentPayload,
  PaymentPayloadV1,
  PaymentRequirements,
  PaymentRequirementsV1,
} from '@x402/core/types';
import type { MiddlewareHandler } from 'hono';
import type { Address } from 'viem';
import type { TokenInfo } from '../chain/token.js';
import type { X402Route } from './routes.js';

/** Options for {@link x402V1Middleware}. */
export interface X402V1MiddlewareOptions {
  /** Routes; those with offers are protected. */
  readonly routes: readonly X402Route[];
  /** v1 network name, e.g. `base-sepolia` (the chain must have that network's chain id). */
  readonly network: string;
  /** The token offers default to. */
  readonly token: TokenInfo;
  /** Recipient for offers without `payTo`. */
  readonly payTo: Address;
  /** Facilitator to verify and settle with. */
  readonly facilitator: FacilitatorClient;
}

/** What a v1 402 body looks like: `{ x402Version: 1, error, accepts }`. */
export interface PaymentRequiredBodyV1 {
  readonly x402Version: 1;
  readonly error: string;
  readonly accepts: readonly PaymentRequirementsV1[];
  readonly payer?: string;
}

function encodeHeader(value: unknown): string {
  return encodeBase64Json(value);
}

function decodeHeader(value: string): unknown {
  let bytes: Uint8Array;
  try {
    bytes = base64ToBytes(value);
  } catch {
    throw new Error('not standard base64');
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

function isPayloadV1(value: unknown): value is PaymentPayloadV1 {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.scheme === 'string' &&
    typeof v.network === 'string' &&
    typeof v.payload === 'object' &&
    v.payload !== null
  );
}

/**
 * Serves x402 **v1** on Hono with the reference facilitator: a 402 with a JSON body
 * `{ x402Version: 1, error, accepts }` (`maxAmountRequired`, per-option `resource`,
 * `description`, `mimeType`), payment in the `X-PAYMENT` header, receipt in
 * `X-PAYMENT-RESPONSE`. The HTTP layer is the testkit's own (the installed `@x402/hono` and
 * `@x402/core` server speak only v2); verification and settlement are the official
 * `x402Facilitator` v1 path (`registerV1` + `@x402/evm` `ExactEvmSchemeV1`). A payment is
 * matched to the offer with the same scheme, network, recipient and amount (falling back to
 * scheme + network, as the legacy server did), settled only if the handler answers < 400.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { devAccount, startChain } from '@stipend/testkit/chain';
 * import { createLocalFacilitator, defaultX402Routes, x402V1Middleware } from '@stipend/testkit/x402';
 * const chain = await startChain({ chainId: 84532 }); // local, posing as base-sepolia
 * const payTo = devAccount(2).address;
 * const routes = defaultX402Routes({ payTo, secondPayTo: devAccount(3).address });
 * const facilitator = createLocalFacilitator({ chain }).client;
 * const app = new Hono();
 * app.use(x402V1Middleware({ routes, network: 'base-sepolia', token: chain.token, payTo, facilitator }));
 * for (const r of routes) app.on(r.method, r.path, r.handler);
 * ```
 */
export function x402V1Middleware(options: X402V1MiddlewareOptions): MiddlewareHandler {
  const protectedRoutes = options.routes.filter((r) => (r.accepts?.length ?? 0) > 0);

  const requirementsFor = (route: X402Route, url: string): PaymentRequirementsV1[] =>
    (route.accepts ?? []).map((offer) => ({
      scheme: 'exact',
      network: options.network as PaymentRequirementsV1['network'],
      maxAmountRequired: offer.amount.toString(),
      resource: url,
      description: route.description ?? '',
      mimeType: route.mimeType ?? '',
      // The v1 spec's own example sends `null`; the TS type says object.
      outputSchema: null as unknown as Record<string, unknown>,
      payTo: offer.payTo ?? options.payTo,
      maxTimeoutSeconds: offer.maxTimeoutSeconds ?? 300,
      asset: offer.asset ?? options.token.address,
      extra: { ...(offer.extra ?? { name: options.token.name, version: options.token.version }) },
    }));

  return async (c, next) => {
    const route = protectedRoutes.find((r) => r.method === c.req.method && r.path === c.req.path);
    if (!route) return next();
    const accepts = requirementsFor(route, c.req.url);
    const refuse = (error: string, payer?: string): Response => {
      const body: PaymentRequiredBodyV1 = {
        x402Version: 1,
        error,
        accepts,
        ...(payer && { payer }),
      };
      return new Response(JSON.stringify(body), {
        status: 402,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    };

    const header = c.req.header('x-payment');
    if (!header) return refuse('X-PAYMENT header is required');
    let decoded: unknown;
    try {
      decoded = decodeHeader(header);
    } catch (error) {
      return refuse(`Invalid X-PAYMENT header: ${(error as Error).message}`);
    }
    if (!isPayloadV1(decoded)) return refuse('invalid_payload');
    if (decoded.x402Version !== 1) return refuse('invalid_x402_version');
    const payload = decoded;

    const authorization = (payload.payload as { authorization?: Record<string, unknown> })
      .authorization;
    const sameKind = accepts.filter(
      (r) => r.scheme === payload.scheme && r.network === payload.network,
    );
    const requirement =
      sameKind.find(
        (r) =>
          String(authorization?.to ?? '').toLowerCase() === r.payTo.toLowerCase() &&
          String(authorization?.value ?? '') === r.maxAmountRequired,
      ) ?? sameKind[0];
    if (!requirement) return refuse('No matching payment requirements');

    // The facilitator's v1 path reads the v1 fields; the client types are v2-shaped.
    const asPayload = payload as unknown as PaymentPayload;
    const asRequirements = requirement as unknown as PaymentRequirements;
    const verified = await options.facilitator.verify(asPayload, asRequirements);
    if (!verified.isValid) {
      return refuse(verified.invalidReason ?? 'verification failed', verified.payer);
    }

    await next();
    if (c.res.status >= 400) return;

    const settled = await options.facilitator.settle(asPayload, asRequirements);
    if (!settled.success) {
      c.res = undefined;
      c.res = refuse(settled.errorReason ?? 'settlement failed', settled.payer);
      return;
    }
    const paid = new Response(c.res.body, c.res);
    paid.headers.set(
      'X-PAYMENT-RESPONSE',
      encodeHeader({
        success: true,
        transaction: settled.transaction,
        network: settled.network,
        payer: settled.payer,
      }),
    );
    paid.headers.set('Access-Control-Expose-Headers', 'X-PAYMENT-RESPONSE');
    c.res = undefined;
    c.res = paid;
  };
}
