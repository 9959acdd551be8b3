import { createMemoryBudgetStore, createMemoryLedger } from '@stipend/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  originOf,
  pagePost,
  spendRecord,
  startWorld,
  type World,
} from './fixtures.test-helpers.js';
import { startConsole } from './start.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world?.close();
});

const state = async (query = '') => {
  const response = await fetch(new URL(`api/state${query}`, world.console.url));
  expect(response.status).toBe(200);
  return response.json();
};

async function waitingApproval(key: string, path = '/report') {
  const agent = world.agent();
  const response = await agent(`${world.seller.origin}${path}`, {
    payment: { idempotencyKey: key },
  });
  expect(response.status).toBe(202);
  return {
    agent,
    id: response.headers.get('stipend-approval-id')!,
    url: `${world.seller.origin}${path}`,
  };
}

describe('the token', () => {
  it('every request without the token is refused, and says nothing of the stores', async () => {
    await waitingApproval('no-token');
    const origin = originOf(world.console);
    for (const path of [
      '/',
      '/console.js',
      '/api/state',
      '/api/events',
      '/api/ledger.csv',
      '/x/api/state',
    ]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status).toBe(403);
      const text = await response.text();
      expect(text).not.toContain('report');
      expect(text).not.toContain(world.console.token);
    }
    // The token in the query string is not the token in the path.
    const query = await fetch(`${origin}/api/state?token=${world.console.token}`);
    expect(query.status).toBe(403);
  });

  it('a request naming another Host (DNS rebinding) is refused even with the token', async () => {
    const url = new URL('api/state', world.console.url);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: world.console.port,
          path: url.pathname,
          headers: { host: `evil.example:${world.console.port}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('the bare /<token> redirects to the page', async () => {
    const response = await fetch(`${originOf(world.console)}/${world.console.token}`, {
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`/${world.console.token}/`);
  });
});

describe('actions are CSRF-safe', () => {
  it('an approve from another origin, or without the token header, or not JSON, changes nothing', async () => {
    const { id } = await waitingApproval('csrf');
    const url = new URL(`api/approvals/${id}/approve`, world.console.url);
    const attempts: RequestInit[] = [
      {
        headers: {
          'content-type': 'application/json',
          origin: 'http://evil.example',
          'x-stipend-token': world.console.token,
        },
      },
      { headers: { 'content-type': 'application/json', 'x-stipend-token': world.console.token } },
      { headers: { 'content-type': 'application/json', origin: originOf(world.console) } },
      {
        headers: {
          'content-type': 'text/plain',
          origin: originOf(world.console),
          'x-stipend-token': world.console.token,
        },
      },
      {
        headers: {
          'content-type': 'application/json',
          origin: originOf(world.console),
          'x-stipend-token': world.console.token,
          'sec-fetch-site': 'cross-site',
        },
      },
    ];
    for (const init of attempts) {
      const response = await fetch(url, { method: 'POST', body: '{}', ...init });
      expect([403, 415]).toContain(response.status);
    }
    expect((await world.stores.approvals.get(id))?.state).toBe('pending');
  });
});

describe('approvals decided in the console reach the waiting agent', () => {
  it('Approve: the agent’s next call with the same key pays once, counted at the rail', async () => {
    const { agent, id, url } = await waitingApproval('approve-1');
    const listed = (await state()).approvals.find((row: { id: string }) => row.id === id);
    expect(listed).toMatchObject({
      state: 'pending',
      usd: '$0.05',
      rail: 'stipend-test:charge',
      why: 'above the approval threshold',
    });
    const before = world.rail.payments().length;
    const decided = await pagePost(world.console, `api/approvals/${id}/approve`);
    expect(decided.status).toBe(200);
    expect(await decided.json()).toEqual({ id, state: 'approved' });
    const paid = await agent(url, { payment: { idempotencyKey: 'approve-1' } });
    expect(paid.status).toBe(200);
    expect(world.rail.payments().length - before).toBe(1);
    // Deciding twice is refused with the client's own rule.
    const again = await pagePost(world.console, `api/approvals/${id}/approve`);
    expect(again.status).toBe(409);
    expect((await again.json()).error.code).toBe('APPROVAL_CONFLICT');
  });

  it('Deny: the budget is released and the agent’s next call pays nothing', async () => {
    const { agent, id, url } = await waitingApproval('deny-1');
    const before = world.rail.payments().length;
    const heldBefore = (await state()).budgets.find(
      (row: { scope: string; windowKey: string }) =>
        row.scope === 'global' && row.windowKey === 'calendar:day',
    );
    const denied = await pagePost(world.console, `api/approvals/${id}/deny`);
    expect(denied.status).toBe(200);
    const heldAfter = (await state()).budgets.find(
      (row: { scope: string; windowKey: string }) =>
        row.scope === 'global' && row.windowKey === 'calendar:day',
    );
    expect(heldBefore.held).not.toBe(heldAfter.held);
    await expect(agent(url, { payment: { idempotencyKey: 'deny-1' } })).rejects.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
    expect(world.rail.payments().length).toBe(before);
  });

  it('an unknown approval id answers 404 with the client’s code', async () => {
    const response = await pagePost(world.console, 'api/approvals/a_nope/approve');
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('APPROVAL_NOT_FOUND');
  });
});

describe('held purchases are resolved by hand through reconcile({ resolve })', () => {
  it('an unknown outcome marked paid is committed in journal, budget and ledger', async () => {
    const agent = world.agent({ pending: false });
    world.wallet.injectFault('unknown-after-paying');
    await expect(
      agent(`${world.seller.origin}/cheap`, { payment: { idempotencyKey: 'held-1' } }),
    ).rejects.toBeDefined();
    const held = (await state()).held.find((row: { state: string }) => row.state === 'unknown');
    expect(held.actions).toEqual(['paid', 'void']);
    const refused = await pagePost(world.console, `api/purchases/${held.id}/resolve`, {
      as: 'delivered',
    });
    expect(refused.status).toBe(409);
    const resolved = await pagePost(world.console, `api/purchases/${held.id}/resolve`, {
      as: 'paid',
    });
    expect(resolved.status).toBe(200);
    expect((await world.stores.journal.get(held.id))?.state).toBe('paid');
    const record = (await world.stores.ledger.list()).find((r) => r.id === held.id);
    expect(record?.status).toBe('committed');
    expect(
      (await state()).held.some(
        (row: { id: string; state: string }) => row.id === held.id && row.state === 'unknown',
      ),
    ).toBe(false);
  });

  it('a resolution that is not paid, void or delivered is refused', async () => {
    const response = await pagePost(world.console, 'api/purchases/p_x/resolve', { as: 'refund' });
    expect(response.status).toBe(400);
  });
});

describe('no secret in any answer', () => {
  it('the rail’s proofs never appear in the state, the CSV or the event stream', async () => {
    const { agent, id, url } = await waitingApproval('secret-1');
    await pagePost(world.console, `api/approvals/${id}/approve`);
    expect((await agent(url, { payment: { idempotencyKey: 'secret-1' } })).status).toBe(200);
    expect(world.secrets.length).toBeGreaterThan(0);
    const answers = [
      JSON.stringify(await state()),
      await (await fetch(new URL('api/ledger.csv', world.console.url))).text(),
    ];
    for (const text of answers)
      for (const secret of world.secrets) expect(text).not.toContain(secret);
  });

  it('a ledger row carries only the fields the page shows (no rate internals, keys or reservation ids)', async () => {
    const rows = (await state()).ledger.rows.filter((row: { invalid?: boolean }) => !row.invalid);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(
        expect.arrayContaining(['id', 'status', 'host', 'rail', 'amount', 'usd']),
      );
      for (const key of Object.keys(row)) {
        expect([
          'purchaseKey',
          'reservationId',
          'rate',
          'receiptReference',
          'offerId',
        ]).not.toContain(key);
      }
    }
  });
});

describe('hostile records', () => {
  it('HTML in fields comes back as the same text in JSON (never text/html); malformed records are invalid rows', async () => {
    const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>';
    await world.stores.ledger.append(
      spendRecord({
        id: 'p_hostile',
        payee: hostile,
        resource: `https://api.example.com/${hostile}`,
        tags: [hostile],
      }),
    );
    await world.stores.ledger.append({ id: 'p_broken', amount: 'lots' } as never);
    await world.stores.ledger.append(
      spendRecord({ id: 'p_money_as_number', reservedUsdMicros: 5 }),
    );
    const response = await fetch(new URL('api/state', world.console.url));
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = await response.json();
    const row = body.ledger.rows.find((r: { id: string }) => r.id === 'p_hostile');
    expect(row.payee).toBe(hostile);
    expect(row.tags).toEqual([hostile]);
    const broken = body.ledger.rows.find((r: { id: string }) => r.id === 'p_broken');
    expect(broken).toEqual({ id: 'p_broken', invalid: true, problem: 'status is not known' });
    const number = body.ledger.rows.find((r: { id: string }) => r.id === 'p_money_as_number');
    expect(number).toMatchObject({ invalid: true, problem: 'reservedUsdMicros is not a bigint' });
    expect(body.ledger.invalid).toBe(2);
    // The CSV leaves the invalid ones out and says how many.
    const csv = await fetch(new URL('api/ledger.csv', world.console.url));
    expect(csv.headers.get('x-stipend-left-out')).toBe('2');
    expect(await csv.text()).toContain('p_hostile');
  });

  it('a ledger that cannot be read shows as a problem, and the other panels still answer', async () => {
    const broken = await startConsole({
      budget: createMemoryBudgetStore(),
      ledger: {
        append() {},
        update() {},
        list: () => Promise.reject(new Error('redis://user:hunter2@db:6379 is down')),
      },
    });
    try {
      const body = await (await fetch(new URL('api/state', broken.url))).json();
      expect(body.problems).toEqual(['Cannot read the ledger: redis://…@db:6379 is down']);
      expect(JSON.stringify(body)).not.toContain('hunter2');
      expect(body.missing).toEqual(['approvals', 'journal']);
    } finally {
      await broken.close();
    }
  });
});

describe('the page', () => {
  it('is served with a CSP that allows only its own script, and weighs under 30 kB', async () => {
    const response = await fetch(world.console.url);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(world.console.pageBytes).toBeLessThan(30_000);
    const html = await response.text();
    expect(html).not.toMatch(/https?:\/\//);
    const script = await (await fetch(new URL('console.js', world.console.url))).text();
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });

  it('the event stream announces a change when an agent writes the stores', async () => {
    const controller = new AbortController();
    const response = await fetch(new URL('api/events', world.console.url), {
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const until = async (count: number) => {
      while ((text.match(/event: change/g) ?? []).length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await until(1);
    await waitingApproval('live-1');
    await until(2);
    expect((text.match(/event: change/g) ?? []).length).toBeGreaterThanOrEqual(2);
    controller.abort();
  });
});

describe('startConsole options', () => {
  it('refuses a non-loopback host unless allowRemote, and a weak token', async () => {
    const stores = { budget: createMemoryBudgetStore(), ledger: createMemoryLedger() };
    await expect(startConsole({ stores, host: '0.0.0.0' })).rejects.toThrow(/allowRemote/);
    await expect(startConsole({ stores, token: 'short' })).rejects.toThrow(/token/);
    await expect(startConsole({} as never)).rejects.toThrow(/openConsoleStores/);
  });
});
