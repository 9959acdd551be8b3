/**
 * Delegation end to end over HTTP, on the testkit's stand-in rail (`stipend-test`, a real
 * HTTP 402 flow; see x402.test.ts for the same story with real x402 and an EVM key):
 *
 * - the orchestrator runs a spend authority that holds the only wallet (and its key);
 * - a research agent gets a token capped at $0.10, read-only, and pays through a remote wallet
 *   inside its own `createPayingFetch`;
 * - its sub-agent gets a token attenuated offline from the research agent's: $0.05 for one hour.
 *
 * Every cap is enforced (total, per-request, methods, hosts, expiry via an injectable clock), a
 * widened, expired or tampered token is refused, and nothing the sub-agents hold, send or
 * receive contains key material.
 */

// test/package.json does not list @stipend/authority yet: import its sources directly.
import {
  type AuthorityServer,
  appendCaveats,
  attenuate,
  createSpendAuthority,
  READ_ONLY_METHODS,
  readToken,
  remoteWallet,
  type SpendAuthority,
  startAuthorityServer,
} from '@stipend/authority';
import {
  createPayingFetch,
  getPayment,
  isStipendError,
  type PayingFetch,
  type Proof,
  parseDecimal,
  type SpendPolicy,
  type Wallet,
} from '@stipend/client';
import {
  createTestPaywall,
  createTestRail,
  TEST_USDC,
  type TestPaywall,
  testAdapter,
  testWallet,
} from '@stipend/testkit/core';
import { startTestServer, type TestServer } from '@stipend/testkit/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const HOUR = 3_600_000;
const TEST_USDC_ADDRESS = (TEST_USDC as { asset: string }).asset;
const USDC = (dollars: string) => parseDecimal(dollars, 6);
// The orchestrator's secrets. Nothing on the sub-agents' side may ever contain them.
const PRIVATE_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const ROOT_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256);

let now = Date.UTC(2026, 0, 1, 9);
const clock = () => now;
const rail = createTestRail();
let paywall: TestPaywall;
let api: TestServer;
let authority: SpendAuthority;
let authorityServer: AuthorityServer;
let researchToken: string;
let subToken: string;
let research: PayingFetch;
let subAgent: PayingFetch;
/** Every byte that crossed between a sub-agent and the authority, both ways. */
const traffic: string[] = [];
/** Every request a sub-agent sent to the API (with its proof headers). */
const apiTraffic: string[] = [];
let authorityCalls = 0;

/** The orchestrator's wallet: the stand-in rail, "signing" with a key only it holds. */
function orchestratorWallet(): Wallet {
  const inner = testWallet({ rail, id: 'orchestrator-wallet' });
  const key = PRIVATE_KEY;
  return {
    ...inner,
    async pay(offer, context): Promise<Proof> {
      if (key.length !== 66) throw new Error('no key');
      return inner.pay(offer, context);
    },
  };
}

const recordingFetch: typeof fetch = async (input, init) => {
  authorityCalls++;
  traffic.push(String(init?.body ?? ''));
  const response = await fetch(input, init);
  traffic.push(await response.clone().text());
  return response;
};

const apiFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  apiTraffic.push(`${request.method} ${request.url} ${JSON.stringify([...request.headers])}`);
  return fetch(request);
};

function agentFetch(token: string): PayingFetch {
  const policy: SpendPolicy = {
    global: { maxPerRequest: { usd: '1' }, limits: [{ usd: '10', window: { calendar: 'day' } }] },
  };
  return createPayingFetch({
    adapters: [testAdapter()],
    wallets: [
      remoteWallet({
        url: authorityServer.url,
        token,
        rails: ['stipend-test:charge'],
        fetch: recordingFetch,
        now: clock,
      }),
    ],
    policy,
    fetch: apiFetch,
    now: clock,
  });
}

/** The stable code a failed paying fetch carries somewhere in its cause chain. */
async function failure(call: Promise<Response>): Promise<string> {
  try {
    const response = await call;
    return `status ${response.status}`;
  } catch (error) {
    if (!isStipendError(error)) throw error;
    const delegation = error.walk((e) => isStipendError(e) && e.code.startsWith('DELEGATION_'));
    if (delegation) return (delegation as { code: string }).code;
    // A local refusal by the remote wallet's canPay: the core denies with its reason.
    const reason = JSON.stringify(error.details, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
    const local = /DELEGATION_[A-Z_]+/.exec(reason);
    return local ? `${local[0]} (local)` : error.code;
  }
}

const url = (path: string, host = '127.0.0.1') =>
  `http://${host}:${new URL(api.origin).port}${path}`;

beforeAll(async () => {
  paywall = createTestPaywall({
    rail,
    routes: {
      '/report': { offers: [{ amount: USDC('0.03'), unit: TEST_USDC }] },
      '/summary': { offers: [{ amount: USDC('0.01'), unit: TEST_USDC }] },
      '/dataset': { offers: [{ amount: USDC('0.06'), unit: TEST_USDC }] },
      '/notes': { offers: [{ amount: USDC('0.01'), unit: TEST_USDC }] },
    },
  });
  api = await startTestServer(paywall);

  // The orchestrator: the authority holds the wallet, the policy and the root key.
  authority = createSpendAuthority({
    wallets: [orchestratorWallet()],
    policy: {
      global: {
        maxPerRequest: { usd: '0.50' },
        limits: [{ usd: '5', window: { calendar: 'day' } }],
      },
    },
    rootKey: ROOT_KEY,
    location: 'orchestrator',
    protocols: ['stipend-test'],
    assets: [{ network: 'eip155:8453', address: TEST_USDC_ADDRESS, decimals: 6, peg: 'USD' }],
    now: clock,
  });
  authorityServer = await startAuthorityServer(authority);

  researchToken = authority.mint({
    totalUsd: '0.10',
    perRequestUsd: '0.05',
    methods: READ_ONLY_METHODS,
    hosts: ['127.0.0.1'],
    protocols: ['stipend-test'],
    expiresAt: now + 24 * HOUR,
  });
  research = agentFetch(researchToken);

  // The research agent delegates offline: no call to the authority, no key.
  const before = authorityCalls;
  subToken = attenuate(researchToken, { totalUsd: '0.05', expiresAt: now + HOUR });
  expect(authorityCalls).toBe(before);
  subAgent = agentFetch(subToken);
});

afterAll(async () => {
  await authorityServer?.close();
  await api?.close();
});

describe('delegation over HTTP (stand-in rail)', () => {
  it('the tokens say what they allow, readable offline', () => {
    expect(readToken(researchToken).limits).toMatchObject({
      totalUsdMicros: 100_000n,
      perRequestUsdMicros: 50_000n,
      methods: ['GET', 'HEAD'],
      hosts: ['127.0.0.1'],
      protocols: ['stipend-test'],
    });
    const sub = readToken(subToken);
    expect(sub.id).toBe(readToken(researchToken).id);
    expect(sub.depth).toBe(1);
    expect(sub.limits).toMatchObject({ totalUsdMicros: 50_000n, expiresAt: now + HOUR });
  });

  it('the research agent and its sub-agent pay through the authority', async () => {
    const a = await research(url('/report'));
    expect(a.status).toBe(200);
    expect(getPayment(a)?.status).toBe('paid');
    const b = await subAgent(url('/report'));
    expect(b.status).toBe(200);
    expect(await b.json()).toMatchObject({ paid: true, path: '/report' });
    expect(rail.payments().map((p) => p.amount)).toEqual([30_000n, 30_000n]);
    expect(rail.settledTotal()).toBe(60_000n);
  });

  it("the sub-agent's $0.05 total is enforced by the authority", async () => {
    expect((await subAgent(url('/summary'))).status).toBe(200); // $0.04
    expect((await subAgent(url('/summary'))).status).toBe(200); // $0.05
    expect(await failure(subAgent(url('/summary')))).toBe('DELEGATION_EXCEEDED');
    expect(rail.payments()).toHaveLength(4);
  });

  it("the research agent's $0.10 total bounds itself and its sub-agent together", async () => {
    // Spent under the research token: $0.03 (own) + $0.05 (sub-agent) = $0.08.
    expect(await failure(research(url('/report')))).toBe('DELEGATION_EXCEEDED');
    expect((await research(url('/summary'))).status).toBe(200); // $0.09
    expect((await research(url('/notes'))).status).toBe(200); // $0.10
    expect(await failure(research(url('/summary')))).toBe('DELEGATION_EXCEEDED');
    const status = await authority.status(researchToken);
    expect(status.scopes).toHaveLength(1);
    expect(status.scopes[0]!.remainingUsdMicros).toBe(0n);
    expect(status.scopes[0]!.spentUsdMicros + status.scopes[0]!.heldUsdMicros).toBe(100_000n);
    expect(rail.settledTotal()).toBe(100_000n);
    // The authority reconciles the authorizations the API redeemed: all of them were used.
    expect(await authority.reconcile({ all: true })).toEqual({
      committed: 6,
      released: 0,
      pending: 0,
    });
    expect((await authority.status(researchToken)).scopes[0]!.spentUsdMicros).toBe(100_000n);
  });

  it('per-request, method and host caps hold for a fresh token too', async () => {
    const token = authority.mint({
      totalUsd: '1',
      perRequestUsd: '0.05',
      methods: READ_ONLY_METHODS,
      hosts: ['127.0.0.1'],
      expiresAt: now + HOUR,
    });
    const agent = agentFetch(token);
    const paid = rail.payments().length;
    expect(await failure(agent(url('/dataset')))).toBe('DELEGATION_EXCEEDED (local)');
    expect(await failure(agent(url('/notes'), { method: 'POST', body: 'x' }))).toBe(
      'DELEGATION_OUT_OF_SCOPE',
    );
    expect(await failure(agent(url('/notes', 'localhost')))).toBe(
      'DELEGATION_OUT_OF_SCOPE (local)',
    );
    expect(rail.payments()).toHaveLength(paid);
    expect((await agent(url('/notes'), { method: 'HEAD' })).status).toBe(200);
    expect(rail.payments()).toHaveLength(paid + 1);
  });

  it('a sub-agent that skips the local checks is refused by the authority all the same', async () => {
    const token = authority.mint({ totalUsd: '1', perRequestUsd: '0.05', methods: ['GET'] });
    const offers = JSON.parse(
      (await fetch(url('/dataset'))).headers.get('stipend-test-challenge')!,
    ) as { id: string; amount: string; payee: string }[];
    const offer = {
      id: offers[0]!.id,
      protocol: 'stipend-test',
      scheme: 'charge',
      amount: { value: BigInt(offers[0]!.amount), unit: TEST_USDC },
      payee: offers[0]!.payee,
      origin: api.origin,
      resource: url('/dataset'),
      reusable: false,
      raw: offers[0],
    };
    const send = (body: Record<string, unknown>) =>
      recordingFetch(`${authorityServer.url}/v1/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? { $bigint: `${v}` } : v)),
      });
    const base = {
      token,
      request: { method: 'GET', url: url('/dataset') },
      offer,
      idempotencyKey: 'rogue-1',
      maxAuthorizationTtlSec: 300,
    };
    const perRequest = await send(base);
    expect(perRequest.status).toBe(403);
    expect((await perRequest.json()).error.details.reason).toBe('per_request');
    const method = await send({ ...base, request: { method: 'DELETE', url: url('/dataset') } });
    expect((await method.json()).error.details.reason).toBe('method');
    const widened = await send({ ...base, token: appendCaveats(token, ['stipend_request_usd=1']) });
    expect(widened.status).toBe(401);
    expect((await widened.json()).error.details.reason).toBe('widened');
  });

  it('a widened token is refused: offline by the remote wallet, and by the authority', async () => {
    const widened = appendCaveats(subToken, ['stipend_total_usd=1.00']);
    expect(() => agentFetch(widened)).toThrow(/widen/);
    expect(() => attenuate(subToken, { totalUsd: '1.00' })).toThrow(/widen/);
    const response = await fetch(`${authorityServer.url}/v1/token`, {
      method: 'POST',
      body: JSON.stringify({ token: widened }),
    });
    expect(response.status).toBe(401);
    expect((await response.json()).error).toMatchObject({
      code: 'DELEGATION_INVALID',
      details: { reason: 'widened' },
    });
  });

  it('a tampered token is refused by the authority; nothing is paid', async () => {
    const token = authority.mint({ totalUsd: '1', hosts: ['127.0.0.1'] });
    const bytes = Buffer.from(token, 'base64');
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff; // the signature's last byte
    const tampered = bytes.toString('base64');
    const paid = rail.payments().length;
    expect(await failure(agentFetch(tampered)(url('/notes')))).toBe('DELEGATION_INVALID');
    expect(rail.payments()).toHaveLength(paid);
  });

  it('the sub-agent token expires after one hour (injectable clock); its parent does not', async () => {
    const token = authority.mint({ totalUsd: '0.10', expiresAt: now + 24 * HOUR });
    const child = attenuate(token, { totalUsd: '0.05', expiresAt: now + HOUR });
    const childFetch = agentFetch(child);
    const parentFetch = agentFetch(token);
    expect((await childFetch(url('/notes'))).status).toBe(200);
    now += HOUR;
    expect(await failure(childFetch(url('/notes')))).toBe('DELEGATION_EXPIRED (local)');
    // Even if the holder's clock lies, the authority's does not.
    const lying = createPayingFetch({
      adapters: [testAdapter()],
      wallets: [
        remoteWallet({
          url: authorityServer.url,
          token: child,
          rails: ['stipend-test:charge'],
          now: () => now - HOUR,
        }),
      ],
      now: () => now - HOUR,
    });
    expect(await failure(lying(url('/notes')))).toBe('DELEGATION_EXPIRED');
    expect((await parentFetch(url('/notes'))).status).toBe(200);
  });

  it('no key material anywhere on the sub-agents’ side', async () => {
    const keyHex = PRIVATE_KEY.slice(2).toLowerCase();
    const rootHex = Buffer.from(ROOT_KEY).toString('hex');
    const rootB64 = Buffer.from(ROOT_KEY).toString('base64');
    const forbidden = [keyHex, rootHex, rootB64, rootB64.replace(/=+$/, '')];
    const corpus = [
      ...traffic,
      ...apiTraffic,
      researchToken,
      subToken,
      Buffer.from(researchToken, 'base64').toString('hex'),
      Buffer.from(subToken, 'base64').toString('hex'),
      JSON.stringify(paywall.hits),
      JSON.stringify([await research.ledger.list(), await subAgent.ledger.list()], (_k, v) =>
        typeof v === 'bigint' ? `${v}` : v,
      ),
    ];
    expect(traffic.length).toBeGreaterThan(20);
    expect((await research.ledger.list()).length).toBeGreaterThan(3);
    const leaks = (texts: readonly string[]) =>
      texts.some((text) =>
        forbidden.some((secret) => text.toLowerCase().includes(secret.toLowerCase())),
      );
    expect(leaks(corpus)).toBe(false);
    // The scan does find a key where there is one.
    expect(leaks([...corpus, `{"secret":"${PRIVATE_KEY}"}`])).toBe(true);
    expect(leaks([Buffer.from(ROOT_KEY).toString('base64')])).toBe(true);
    // The raw root key bytes are not inside any token either.
    for (const token of [researchToken, subToken]) {
      expect(Buffer.from(token, 'base64').includes(Buffer.from(ROOT_KEY))).toBe(false);
    }
  });
});
