/**
 * Shared fixtures of the x402 adapter tests: the spec's own vectors (x402 v2 transport spec,
 * `specs/transports-v2/http.md`) and a builder of `ChallengeInput`s.
 */
import type { ChallengeInput } from '../adapter.js';
import { parseWwwAuthenticateLenient } from '../www-authenticate.js';

/** Base Sepolia USDC, the asset of the spec examples. */
export const BASE_SEPOLIA_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
/** Base mainnet USDC. */
export const BASE_USDC = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913';
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/** The spec's v2 `PAYMENT-REQUIRED` header, verbatim. */
export const SPEC_PAYMENT_REQUIRED =
  'eyJ4NDAyVmVyc2lvbiI6MiwiZXJyb3IiOiJQQVlNRU5ULVNJR05BVFVSRSBoZWFkZXIgaXMgcmVxdWlyZWQiLCJyZXNvdXJjZSI6eyJ1cmwiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbS9wcmVtaXVtLWRhdGEiLCJkZXNjcmlwdGlvbiI6IkFjY2VzcyB0byBwcmVtaXVtIG1hcmtldCBkYXRhIiwibWltZVR5cGUiOiJhcHBsaWNhdGlvbi9qc29uIn0sImFjY2VwdHMiOlt7InNjaGVtZSI6ImV4YWN0IiwibmV0d29yayI6ImVpcDE1NTo4NDUzMiIsImFtb3VudCI6IjEwMDAwIiwiYXNzZXQiOiIweDAzNkNiRDUzODQyYzU0MjY2MzRlNzkyOTU0MWVDMjMxOGYzZENGN2UiLCJwYXlUbyI6IjB4MjA5NjkzQmM2YWZjMEM1MzI4YkEzNkZhRjAzQzUxNEVGMzEyMjg3QyIsIm1heFRpbWVvdXRTZWNvbmRzIjo2MCwiZXh0cmEiOnsibmFtZSI6IlVTREMiLCJ2ZXJzaW9uIjoiMiJ9fV19';

/** What {@link SPEC_PAYMENT_REQUIRED} decodes to. */
export const SPEC_REQUIRED_DECODED = {
  x402Version: 2,
  error: 'PAYMENT-SIGNATURE header is required',
  resource: {
    url: 'https://api.example.com/premium-data',
    description: 'Access to premium market data',
    mimeType: 'application/json',
  },
  accepts: [
    {
      scheme: 'exact',
      network: 'eip155:84532',
      amount: '10000',
      asset: BASE_SEPOLIA_USDC,
      payTo: PAY_TO,
      maxTimeoutSeconds: 60,
      extra: { name: 'USDC', version: '2' },
    },
  ],
};

/** The spec's settlement-failure `PAYMENT-RESPONSE`, verbatim. */
export const SPEC_SETTLE_FAILURE =
  'eyJzdWNjZXNzIjpmYWxzZSwiZXJyb3JSZWFzb24iOiJpbnN1ZmZpY2llbnRfZnVuZHMiLCJ0cmFuc2FjdGlvbiI6IiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9';

/** The spec's settlement-success `PAYMENT-RESPONSE`, verbatim. */
export const SPEC_SETTLE_SUCCESS =
  'eyJzdWNjZXNzIjp0cnVlLCJ0cmFuc2FjdGlvbiI6IjB4MTIzNDU2Nzg5MGFiY2RlZjEyMzQ1Njc4OTBhYmNkZWYxMjM0NTY3ODkwYWJjZGVmMTIzNDU2Nzg5MGFiY2RlZiIsIm5ldHdvcmsiOiJlaXAxNTU6ODQ1MzIiLCJwYXllciI6IjB4ODU3YjA2NTE5RTkxZTNBNTQ1Mzg3OTFiRGJiMEUyMjM3M2UzNmI2NiJ9';

/** The spec's v1 402 body. */
export const SPEC_V1_BODY = {
  x402Version: 1,
  error: 'Payment required to access this resource',
  accepts: [
    {
      scheme: 'exact',
      network: 'base-sepolia',
      maxAmountRequired: '10000',
      asset: BASE_SEPOLIA_USDC,
      payTo: PAY_TO,
      resource: 'https://api.example.com/premium-data',
      description: 'Access to premium market data',
      mimeType: 'application/json',
      outputSchema: null,
      maxTimeoutSeconds: 60,
      extra: { name: 'USDC', version: '2' },
    },
  ],
};

/** Standard base64 of compact UTF-8 JSON (as servers encode headers). */
export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** A `ChallengeInput` as the core would build it. */
export function challenge(
  parts: {
    status?: number;
    headers?: Record<string, string>;
    body?: string;
    url?: string;
    method?: string;
  } = {},
): ChallengeInput {
  const headers = new Headers(parts.headers);
  const www = headers.get('www-authenticate');
  return {
    status: parts.status ?? 402,
    headers,
    url: new URL(parts.url ?? 'https://api.example.com/premium-data'),
    method: parts.method ?? 'GET',
    challenges: www ? parseWwwAuthenticateLenient(www).challenges : [],
    bodyText: async () => parts.body,
    now: 1_740_672_089_000,
  };
}
