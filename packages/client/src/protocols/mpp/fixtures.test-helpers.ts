/**
 * Test helpers for the MPP adapter: `Payment` challenge headers and the `ChallengeInput` the
 * core would build for them.
 */
import type { ChallengeInput } from '../adapter.js';
import { parseWwwAuthenticateLenient, quoteString } from '../www-authenticate.js';
import { encodeBase64UrlJson } from './base64url.js';

export const NOW = Date.parse('2026-11-24T12:00:00Z');
export const IN_5_MIN = '2026-11-24T12:05:00.000Z';
export const ORIGIN = 'https://api.example.com';

export const stripeRequest = (overrides: Record<string, unknown> = {}) => ({
  amount: '75',
  currency: 'usd',
  methodDetails: { networkId: 'profile_test_123', paymentMethodTypes: ['card', 'link'] },
  ...overrides,
});

export const USDC_BASE = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
export const PAYEE = '0x742d35Cc6634c0532925a3b844bC9e7595F8fE00';

export const evmRequest = (overrides: Record<string, unknown> = {}) => ({
  amount: '10000',
  currency: USDC_BASE,
  recipient: PAYEE,
  methodDetails: { chainId: 8453, credentialTypes: ['authorization'], decimals: 6 },
  ...overrides,
});

/** One `Payment` challenge; `request` objects are base64url-encoded, `undefined` params left out. */
export function payment(params: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries({
    id: 'ch_1',
    realm: 'api.example.com',
    method: 'stripe',
    intent: 'charge',
    expires: IN_5_MIN,
    ...params,
    request:
      typeof params.request === 'string'
        ? params.request
        : encodeBase64UrlJson(params.request ?? stripeRequest()),
  })) {
    if (value !== undefined) parts.push(`${name}=${quoteString(String(value))}`);
  }
  return `Payment ${parts.join(', ')}`;
}

/** The input the core gives adapters for a 402 with these headers. */
export function inputOf(
  headers: Record<string, string>,
  options: { now?: number; url?: string; status?: number } = {},
): ChallengeInput {
  const h = new Headers(headers);
  const www = h.get('www-authenticate');
  return {
    status: options.status ?? 402,
    headers: h,
    url: new URL(options.url ?? `${ORIGIN}/paid`),
    method: 'GET',
    challenges: www ? parseWwwAuthenticateLenient(www).challenges : [],
    bodyText: async () => undefined,
    now: options.now ?? NOW,
  };
}
