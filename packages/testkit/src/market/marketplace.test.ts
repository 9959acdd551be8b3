import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ACCOUNTS } from '../chain/dev-accounts.js';
import { type Marketplace, startMarketplace } from './marketplace.js';

let market: Marketplace;
const progress: string[] = [];

beforeAll(async () => {
  market = await startMarketplace({ onProgress: (line) => progress.push(line) });
});
afterAll(async () => {
  await market?.close();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startMarketplace', () => {
  it('reports progress and funds the agent with test USDC, nothing paid yet', async () => {
    expect(progress[0]).toMatch(/anvil/);
    expect(progress).toHaveLength(4);
    expect(await market.counters()).toEqual({
      agentTokenBalance: 10_000_000n,
      x402Settlements: 0,
      mppPayments: 0,
      lightningPayments: 0,
      lightningAttempts: 0,
      sptIssued: 0,
      paymentIntents: 0,
    });
  });

  it('answers 402 on every paid route of its catalogue, with the right protocol', async () => {
    const headersOf = async (url: string, method: string) => {
      const response = await fetch(url, { method, ...(method === 'POST' ? { body: 'x' } : {}) });
      await response.body?.cancel();
      expect(response.status, url).toBe(402);
      return response.headers;
    };
    for (const item of market.items) {
      const headers = await headersOf(item.url, item.method);
      const www = headers.get('www-authenticate') ?? '';
      if (item.terms.startsWith('x402')) expect(headers.has('payment-required')).toBe(true);
      if (item.terms.includes('L402')) expect(www).toMatch(/L402 macaroon=/);
      if (item.terms.startsWith('MPP')) expect(www).toMatch(/^Payment /);
    }
    expect(market.items.map((i) => i.key)).toEqual([
      'weather',
      'echo-x402',
      'two-offers',
      'quote',
      'report',
      'dataset',
      'article',
      'evm-article',
      'forecast',
    ]);
  });

  it('the gateway route carries x402 and L402 terms at once, each from its seller', async () => {
    const response = await fetch(`${market.urls.gateway}/bundle/forecast`);
    expect(response.status).toBe(402);
    const required = JSON.parse(
      Buffer.from(response.headers.get('payment-required')!, 'base64').toString('utf8'),
    ) as { accepts: { amount: string; payTo: string }[] };
    expect(required.accepts).toEqual([
      expect.objectContaining({ amount: '2000', payTo: DEV_ACCOUNTS[3]!.address }),
    ]);
    expect(response.headers.get('www-authenticate')).toMatch(
      /L402 macaroon="[^"]+", invoice="lnbcrt30n1/,
    );
    expect(market.gateway.requests.at(-1)).toEqual({
      method: 'GET',
      path: '/bundle/forecast',
      forwardedTo: 'terms',
      status: 402,
    });
    // The L402 seller minted a challenge for the gateway's request.
    expect(market.l402.challenges.at(-1)?.service).toBe('forecast');
  });

  it('hands out wallet settings that reach its stand-ins', async () => {
    const info = await fetch(`${market.wallets.lightning.lndRest.url}/v1/getinfo`, {
      headers: { 'grpc-metadata-macaroon': market.wallets.lightning.lndRest.macaroon },
    });
    expect(await info.json()).toMatchObject({ alias: 'agent' });
    expect(market.env.STIPEND_EVM_RPC_URL).toBe(market.urls.rpc);
    expect(market.env.STIPEND_BTC_USD).toBe('100000');
    expect(JSON.parse(market.env.STIPEND_ASSETS!)).toEqual([
      expect.objectContaining({ network: 'eip155:31337', decimals: 6, peg: 'USD' }),
    ]);
    expect(market.payees[market.l402.node.pubkey]).toBe('Quotes Co');
  });

  it('close() stops every server and anvil, and is idempotent', async () => {
    const pid = market.chain.anvil.pid;
    expect(alive(pid)).toBe(true);
    await market.close();
    await market.close();
    expect(alive(pid)).toBe(false);
    for (const url of [market.urls.x402, market.urls.l402, market.urls.mpp, market.urls.gateway]) {
      await expect(fetch(`${url}/free`)).rejects.toThrow();
    }
  });
});
