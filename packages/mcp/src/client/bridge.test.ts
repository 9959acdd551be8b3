import {
  decodeAnyBase64Json,
  encodeBase64Json,
  encodeBase64UrlJson,
} from '@stipend/client/internal';
import { describe, expect, it } from 'vitest';
import { CALL_HEADER, createMcpBridge, type ToolCallParams } from './bridge.js';

const terms = {
  x402Version: 2,
  resource: { url: 'mcp://tool/t' },
  accepts: [{ scheme: 'exact', network: 'eip155:1', amount: '1' }],
};
const challenge = {
  id: 'ch_9',
  realm: 'r',
  method: 'stripe',
  intent: 'charge',
  request: { amount: '50', currency: 'usd' },
  expires: '2030-01-01T00:00:00Z',
};

class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly data?: unknown,
  ) {
    super(`rpc ${code}`);
  }
}

function bridgeWith(answers: ((params: ToolCallParams) => unknown)[]) {
  const base: string[] = [];
  const bridge = createMcpBridge((async (input: RequestInfo | URL) => {
    base.push(String(input));
    return new Response('base');
  }) as typeof fetch);
  const seen: ToolCallParams[] = [];
  const { id, call } = bridge.open(
    async (params) => {
      seen.push(params);
      const answer = answers.shift()!(params);
      if (answer instanceof Error) throw answer;
      return answer as never;
    },
    { name: 't', arguments: { a: 1 }, _meta: { progressToken: 7 } },
  );
  const send = (headers: Record<string, string> = {}) =>
    bridge.fetch('https://t.mcp/tools/t', {
      method: 'POST',
      headers: { [CALL_HEADER]: id, ...headers },
    });
  return { bridge, base, seen, call, send, id };
}

describe('createMcpBridge', () => {
  it('routes only requests that carry an open call id', async () => {
    const { bridge, base, id } = bridgeWith([]);
    expect(await (await bridge.fetch('https://api.example/x')).text()).toBe('base');
    expect(base).toEqual(['https://api.example/x']);
    bridge.close(id);
    await expect(
      bridge.fetch('https://t.mcp/tools/t', { headers: { [CALL_HEADER]: id } }),
    ).rejects.toThrow(/No MCP tool call/);
  });

  it('x402: terms become PAYMENT-REQUIRED, the proof becomes _meta["x402/payment"]', async () => {
    const payload = { x402Version: 2, accepted: terms.accepts[0], payload: { signature: '0x1' } };
    const settlement = { success: true, transaction: '0xabc', network: 'eip155:1' };
    const { send, seen, call } = bridgeWith([
      () => ({ isError: true, structuredContent: terms, content: [] }),
      () => ({
        content: [{ type: 'text', text: 'ok' }],
        _meta: { 'x402/payment-response': settlement },
      }),
    ]);

    const first = await send();
    expect(first.status).toBe(402);
    expect(decodeAnyBase64Json(first.headers.get('payment-required')!)).toEqual(terms);
    expect(call.answer).toMatchObject({ kind: 'result', terms: true });

    const second = await send({ 'payment-signature': encodeBase64Json(payload) });
    expect(second.status).toBe(200);
    expect(decodeAnyBase64Json(second.headers.get('payment-response')!)).toEqual(settlement);
    expect(seen[0]).toEqual({ name: 't', arguments: { a: 1 }, _meta: { progressToken: 7 } });
    expect(seen[1]).toEqual({
      name: 't',
      arguments: { a: 1 },
      _meta: { progressToken: 7, 'x402/payment': payload },
    });
    expect(call.sends).toBe(2);
    expect(call.answer).toMatchObject({ kind: 'result', terms: false });
  });

  it('x402 v1 terms travel as a JSON body; a settlement failure as 402 with both headers', async () => {
    const v1 = { x402Version: 1, error: 'pay', accepts: [{ scheme: 'exact' }] };
    const failure = { success: false, errorReason: 'insufficient_funds', transaction: '' };
    const { send } = bridgeWith([
      () => ({ isError: true, structuredContent: v1 }),
      () => ({ isError: true, structuredContent: { ...terms, 'x402/payment-response': failure } }),
    ]);
    const first = await send();
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(await first.json()).toEqual(v1);
    const second = await send({ 'x-payment': encodeBase64Json({ x402Version: 1 }) });
    expect(second.status).toBe(402);
    expect(decodeAnyBase64Json(second.headers.get('payment-required')!)).toEqual(terms);
    expect(decodeAnyBase64Json(second.headers.get('payment-response')!)).toEqual(failure);
  });

  it('MPP: -32042 becomes WWW-Authenticate; the credential echoes the challenge object', async () => {
    const receipt = { method: 'stripe', reference: 'pi_1', status: 'success', challengeId: 'ch_9' };
    const { send, seen } = bridgeWith([
      () => new RpcError(-32042, { httpStatus: 402, challenges: [challenge] }),
      () => ({ content: [], _meta: { 'org.paymentauth/receipt': receipt } }),
    ]);
    const first = await send();
    expect(first.status).toBe(402);
    expect(first.headers.get('www-authenticate')).toContain('Payment id="ch_9"');
    const credential = `Payment ${encodeBase64UrlJson({
      challenge: { id: 'ch_9', request: 'eyJ9' },
      payload: { spt: 'spt_1' },
    })}`;
    const second = await send({ authorization: credential });
    expect(second.status).toBe(200);
    expect(decodeAnyBase64Json(second.headers.get('payment-receipt')!)).toEqual(receipt);
    expect(seen[1]?._meta?.['org.paymentauth/credential']).toEqual({
      challenge,
      payload: { spt: 'spt_1' },
    });
  });

  it('MPP: a refusal with a problem becomes an RFC 9457 response', async () => {
    const problem = { type: 'https://paymentauth.org/problems/verification-failed', status: 402 };
    const { send, call } = bridgeWith([
      () => new RpcError(-32042, { challenges: [challenge] }),
      () => new RpcError(-32043, { httpStatus: 402, challenges: [challenge], problem }),
    ]);
    await send();
    const credential = `Payment ${encodeBase64UrlJson({ challenge: { id: 'ch_9' }, payload: {} })}`;
    const refused = await send({ 'payment-authorization': credential });
    expect(refused.status).toBe(402);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toEqual(problem);
    expect(call.answer).toMatchObject({ kind: 'error', terms: true });
  });

  it('passes other answers through: a plain result is 200, a non-payment error is thrown', async () => {
    const boom = new RpcError(-32602, { reason: 'bad arguments' });
    const { send, call } = bridgeWith([
      () => ({ content: [{ type: 'text', text: 'free' }] }),
      () => boom,
    ]);
    expect((await send()).status).toBe(200);
    expect(call.answer).toMatchObject({ kind: 'result', terms: false });
    await expect(send()).rejects.toBe(boom);
    expect(call.answer).toMatchObject({ kind: 'error', error: boom, terms: false });
  });
});
