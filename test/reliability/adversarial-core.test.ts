/**
 * Adversarial cases that cross protocols (catalogue ids C1–C2 in README.md): a redirect that
 * lands the payment request on an origin the policy refuses, and one 402 whose challenges in
 * every dialect are malformed. Each ends with nothing paid (counted at each rail) and a typed
 * StipendError.
 */
import {
  createPayingFetch,
  isStipendError,
  l402Adapter,
  mppAdapter,
  x402Adapter,
} from '@stipend/client';
import { devAccount } from '@stipend/testkit/chain';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { createLightningNetwork } from '@stipend/testkit/l402';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { evmWallet } from '@stipend/wallet-evm';
import { lightningWallet } from '@stipend/wallet-lightning';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { simulatorBackend } from '../../packages/wallet-lightning/src/simulator.test-helpers.js';
import { prices } from '../l402/helpers.js';
import { countingSigner } from '../x402/setup.test-helpers.js';
import { type HostileServer, startHostileServer } from './hostile.test-helpers.js';

let hostile: HostileServer;
let paywallServer: TestServer;
const rail = createTestRail();
const proofs: (string | null)[] = [];

beforeAll(async () => {
  hostile = await startHostileServer();
  const paywall = createTestPaywall({
    rail,
    routes: { '/paid': { offers: [{ amount: 1000n, unit: TEST_USDC }] } },
  });
  paywallServer = await startTestServer(async (request) => {
    proofs.push(request.headers.get('stipend-test-proof'));
    return paywall(request);
  });
});
afterAll(async () => {
  await hostile?.close();
  await paywallServer?.close();
});
beforeEach(() => {
  hostile.hits.length = 0;
  proofs.length = 0;
});

describe('adversarial, across protocols', () => {
  it('C1 a redirect to an origin the policy refuses, whose 402 asks for payment: nothing paid, no proof anywhere', async () => {
    // 127.0.0.1 is allowed; the paywall is reached as `localhost` (same machine), which is denied.
    const target = paywallServer.url.replace('127.0.0.1', 'localhost');
    hostile.handler = (_req, res) => {
      res.writeHead(302, { location: `${target}paid` });
      res.end();
    };
    const wallet = testWallet({ rail });
    const payingFetch = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [wallet],
      policy: {
        global: { maxPerRequest: { usd: '0.01' } },
        hosts: { localhost: { action: 'deny' } },
      },
    });
    const error = await payingFetch(`${hostile.origin}/start`).catch((e: unknown) => e);
    expect(isStipendError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('POLICY_DENIED');
    expect((error as { reason?: string }).reason).toBe('host_denied');
    expect(wallet.calls).toHaveLength(0);
    expect(rail.payments()).toHaveLength(0);
    expect(hostile.hits.map((h) => h.headers['stipend-test-proof'])).toEqual([undefined]);
    expect(proofs).toEqual([null]);
  });

  it('C2 one 402 whose x402, L402 and MPP challenges are all malformed: CHALLENGE_INVALID, nothing paid', async () => {
    const { signer, signed } = countingSigner(devAccount(8));
    const network = createLightningNetwork();
    const payingFetch = createPayingFetch({
      adapters: [x402Adapter(), l402Adapter(), mppAdapter()],
      wallets: [
        evmWallet({ account: signer }),
        lightningWallet({ backend: simulatorBackend(network), network: 'regtest' }),
      ],
      prices,
    });
    hostile.handler = (_req, res) => {
      res.writeHead(402, {
        'payment-required': 'eyJ4NDAyVmVyc2lvbiI6Mn0', // unpadded, and no accepts
        'www-authenticate': [
          'L402 macaroon="AgEEbHNhdA==", invoice="lnbcrt10u1notaninvoice"',
          'Payment id="x", realm="r", method="stripe", intent="charge", request="!!", expires="soon"',
        ],
        'content-type': 'application/json',
      });
      res.end('{}');
    };
    const error = await payingFetch(`${hostile.origin}/paid`).catch((e: unknown) => e);
    expect(isStipendError(error)).toBe(true);
    expect((error as { code?: string }).code).toBe('CHALLENGE_INVALID');
    expect(signed).toHaveLength(0);
    expect(network.stats().attempts).toBe(0);
    expect(hostile.hits).toHaveLength(1);
    network.close();
  });
});
