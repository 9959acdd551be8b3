/**
 * Delegation end to end with REAL x402: the reference `@x402/hono` server and facilitator on
 * anvil (testkit), the EVM wallet held by the spend authority, and sub-agents that pay through
 * remote wallets inside their own `createPayingFetch` with the x402 adapter. Money is read
 * on-chain. The sub-agents never hold the payer's private key: what crosses to them is the
 * token and the signed EIP-3009 authorizations (which can only pay that payee that amount).
 */

import {
  type AuthorityServer,
  appendCaveats,
  attenuate,
  createSpendAuthority,
  READ_ONLY_METHODS,
  remoteWallet,
  type SpendAuthority,
  startAuthorityServer,
} from '@stipend/authority';
import {
  createPayingFetch,
  getPayment,
  isStipendError,
  type PayingFetch,
  type SpendPolicy,
} from '@stipend/client';
import { DEV_ACCOUNTS, devAccount } from '@stipend/testkit/chain';
import { startX402Server, type X402ServerHandle } from '@stipend/testkit/x402';
import { evmWallet } from '@stipend/wallet-evm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x402Adapter } from '../../packages/client/src/protocols/x402/index.js';
import { countingSigner, testAsset } from '../x402/setup.test-helpers.js';

const HOUR = 3_600_000;
const PAYER_INDEX = 6;
const payer = devAccount(PAYER_INDEX);
const PRIVATE_KEY = DEV_ACCOUNTS[PAYER_INDEX]!.privateKey;
const ROOT_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) % 256);
const PRICES = { report: 30_000n, summary: 10_000n, notes: 10_000n } as const; // 6 decimals

let offset = 0;
const clock = () => Date.now() + offset;
let server: X402ServerHandle;
let authority: SpendAuthority;
let authorityServer: AuthorityServer;
let signed: unknown[];
let researchToken: string;
let subToken: string;
let research: PayingFetch;
let subAgent: PayingFetch;
const traffic: string[] = [];
const apiTraffic: string[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  traffic.push(String(init?.body ?? ''));
  const response = await fetch(input, init);
  traffic.push(await response.clone().text());
  return response;
};

function agentFetch(token: string): PayingFetch {
  const policy: SpendPolicy = {
    global: { maxPerRequest: { usd: '1' }, limits: [{ usd: '10', window: { calendar: 'day' } }] },
  };
  return createPayingFetch({
    adapters: [x402Adapter({ assets: [testAsset(server.token)] })],
    wallets: [remoteWallet({ url: authorityServer.url, token, fetch: recordingFetch, now: clock })],
    policy,
    now: clock,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      apiTraffic.push(`${request.method} ${request.url} ${JSON.stringify([...request.headers])}`);
      return fetch(request);
    },
  });
}

async function failure(call: Promise<Response>): Promise<string> {
  try {
    return `status ${(await call).status}`;
  } catch (error) {
    if (!isStipendError(error)) throw error;
    const delegation = error.walk((e) => isStipendError(e) && e.code.startsWith('DELEGATION_'));
    if (delegation) return (delegation as { code: string }).code;
    const text = JSON.stringify(error.details, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
    return /DELEGATION_[A-Z_]+/.exec(text)?.[0].concat(' (local)') ?? error.code;
  }
}

const balance = () => server.chain.balanceOf(payer.address);

beforeAll(async () => {
  server = await startX402Server({
    extraRoutes: [
      {
        method: 'GET',
        path: '/report',
        accepts: [{ amount: PRICES.report }],
        handler: (c) => c.json({ report: 'long' }),
      },
      {
        method: 'GET',
        path: '/summary',
        accepts: [{ amount: PRICES.summary }],
        handler: (c) => c.json({ summary: 'short' }),
      },
      {
        method: 'POST',
        path: '/notes',
        accepts: [{ amount: PRICES.notes }],
        handler: (c) => c.json({ saved: true }),
      },
    ],
  });
  await server.chain.mint(payer.address, 1_000_000n);
  const counting = countingSigner(payer);
  signed = counting.signed;
  authority = createSpendAuthority({
    wallets: [evmWallet({ account: counting.signer, publicClient: server.chain.publicClient })],
    assets: [testAsset(server.token)],
    policy: {
      global: {
        maxPerRequest: { usd: '0.50' },
        limits: [{ usd: '5', window: { calendar: 'day' } }],
      },
    },
    rootKey: ROOT_KEY,
    now: clock,
  });
  authorityServer = await startAuthorityServer(authority);
  researchToken = authority.mint({
    totalUsd: '0.10',
    perRequestUsd: '0.05',
    methods: READ_ONLY_METHODS,
    hosts: ['127.0.0.1'],
    protocols: ['x402'],
    expiresAt: clock() + 24 * HOUR,
  });
  subToken = attenuate(researchToken, { totalUsd: '0.05', expiresAt: clock() + HOUR });
  research = agentFetch(researchToken);
  subAgent = agentFetch(subToken);
});

afterAll(async () => {
  await authorityServer?.close();
  await server?.close();
});

describe('delegation over HTTP with real x402 (EVM wallet held by the authority)', () => {
  it('the research agent and its sub-agent pay; money moves on-chain from the authority wallet', async () => {
    const before = await balance();
    const a = await research(`${server.url}/report`);
    expect(a.status).toBe(200);
    expect(getPayment(a)?.status).toBe('paid');
    const b = await subAgent(`${server.url}/report`);
    expect(b.status).toBe(200);
    expect(await b.json()).toEqual({ report: 'long' });
    expect(await balance()).toBe(before - 2n * PRICES.report);
    expect(signed).toHaveLength(2);
  });

  it("caps: the sub-agent's $0.05, then the research agent's $0.10 over both", async () => {
    expect((await subAgent(`${server.url}/summary`)).status).toBe(200); // sub $0.04
    expect((await subAgent(`${server.url}/summary`)).status).toBe(200); // sub $0.05
    expect(await failure(subAgent(`${server.url}/summary`))).toBe('DELEGATION_EXCEEDED');
    expect(await failure(research(`${server.url}/report`))).toBe('DELEGATION_EXCEEDED'); // 0.08+0.03
    expect((await research(`${server.url}/summary`)).status).toBe(200); // $0.09
    expect((await research(`${server.url}/summary`)).status).toBe(200); // $0.10
    expect(await failure(research(`${server.url}/summary`))).toBe('DELEGATION_EXCEEDED');
    expect(signed).toHaveLength(6);
    expect(server.settlements.reduce((t, s) => t + s.amount, 0n)).toBe(100_000n);
    // The authority asks the chain about its held authorizations: all six were used.
    expect(await authority.reconcile({ all: true })).toEqual({
      committed: 6,
      released: 0,
      pending: 0,
    });
    expect((await authority.status(researchToken)).scopes[0]?.spentUsdMicros).toBe(100_000n);
  });

  it('per-request, method, host and protocol caps: nothing is signed', async () => {
    const token = authority.mint({
      totalUsd: '1',
      perRequestUsd: '0.02',
      methods: READ_ONLY_METHODS,
      hosts: ['127.0.0.1'],
      expiresAt: clock() + HOUR,
    });
    const agent = agentFetch(token);
    const count = signed.length;
    expect(await failure(agent(`${server.url}/report`))).toBe('DELEGATION_EXCEEDED (local)');
    expect(await failure(agent(`${server.url}/notes`, { method: 'POST', body: '{}' }))).toBe(
      'DELEGATION_OUT_OF_SCOPE',
    );
    const localhost = server.url.replace('127.0.0.1', 'localhost');
    expect(await failure(agent(`${localhost}/summary`))).toBe('DELEGATION_OUT_OF_SCOPE (local)');
    const mppOnly = agentFetch(authority.mint({ totalUsd: '1', protocols: ['mpp'] }));
    expect(await failure(mppOnly(`${server.url}/summary`))).toBe('POLICY_DENIED');
    expect(signed).toHaveLength(count);
  });

  it('widened, tampered and expired tokens are refused; nothing is signed', async () => {
    const count = signed.length;
    const widened = appendCaveats(subToken, ['stipend_total_usd=1']);
    expect(() => agentFetch(widened)).toThrow(/widen/);
    const bytes = Buffer.from(authority.mint({ totalUsd: '1' }), 'base64');
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1;
    expect(await failure(agentFetch(bytes.toString('base64'))(`${server.url}/summary`))).toBe(
      'DELEGATION_INVALID',
    );
    const fresh = authority.mint({ totalUsd: '1', expiresAt: clock() + HOUR });
    const child = attenuate(fresh, { totalUsd: '0.05', expiresAt: clock() + HOUR / 2 });
    offset += HOUR / 2;
    expect(await failure(agentFetch(child)(`${server.url}/summary`))).toBe(
      'DELEGATION_EXPIRED (local)',
    );
    offset = 0;
    expect(signed).toHaveLength(count);
  });

  it('the sub-agents never see the private key or the root key', () => {
    const forbidden = [
      PRIVATE_KEY.slice(2).toLowerCase(),
      Buffer.from(ROOT_KEY).toString('hex'),
      Buffer.from(ROOT_KEY).toString('base64').replace(/=+$/, ''),
    ];
    const corpus = [
      ...traffic,
      ...apiTraffic,
      researchToken,
      subToken,
      Buffer.from(subToken, 'base64').toString('hex'),
    ];
    const leaks = (texts: readonly string[]) =>
      texts.some((t) => forbidden.some((secret) => t.toLowerCase().includes(secret)));
    expect(traffic.length).toBeGreaterThan(10);
    // The proofs that did cross are signed authorizations (signature + authorization).
    expect(traffic.some((t) => t.includes('"signature"') && t.includes('"authorization"'))).toBe(
      true,
    );
    expect(leaks(corpus)).toBe(false);
    expect(leaks([`key=${PRIVATE_KEY}`])).toBe(true);
  });
});
