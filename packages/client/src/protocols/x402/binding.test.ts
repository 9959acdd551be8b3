import { LNBTC_HTTP_BINDING, LNBTC_MCP_BINDING } from '@stipend/testkit/x402';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../../internal/codec.js';
import { BindingError, bindingParams, httpBinding, mcpBinding } from './binding.js';
import { canonicalJson } from './jcs.js';

describe('http:1 request binding matches the spec vectors (exact_lnbtc.json http_binding)', () => {
  it.each(LNBTC_HTTP_BINDING.map((v) => [v.id, v] as const))('%s', async (_id, vector) => {
    const run = httpBinding({
      method: vector.method,
      url: vector.url,
      body: hexToBytes(vector.bodyHex),
      headerLines: vector.headerLines,
      boundHeaders: vector.boundHeaders,
    });
    if (vector.error) {
      await expect(run).rejects.toBeInstanceOf(BindingError);
      return;
    }
    const binding = await run;
    expect(binding.requestHash).toBe(vector.requestHash);
    if (vector.canonical) expect(binding.canonical).toBe(vector.canonical);
  });
});

describe('mcp:1 request binding matches the spec vectors', () => {
  const { base } = LNBTC_MCP_BINDING;
  it('binds the spec tool call', async () => {
    const binding = await mcpBinding({ ...base, boundMetadata: [] });
    expect(binding.canonical).toBe(base.canonical);
    expect(binding.requestHash).toBe(base.requestHash);
  });
  it.each(LNBTC_MCP_BINDING.changes.map((c) => [JSON.stringify(c.change), c] as const))(
    'a change of %s changes the hash',
    async (_name, { change, requestHash }) => {
      const binding = await mcpBinding({ ...base, ...change, boundMetadata: [] });
      expect(binding.requestHash).toBe(requestHash);
    },
  );
  it('omitted arguments bind as {} and JSON member order does not matter', async () => {
    const a = await mcpBinding({ ...base, arguments: { y: 1, x: [2, 'z'] }, boundMetadata: [] });
    const b = await mcpBinding({ ...base, arguments: { x: [2, 'z'], y: 1 }, boundMetadata: [] });
    expect(a.requestHash).toBe(b.requestHash);
    const omitted = await mcpBinding({ ...base, arguments: undefined, boundMetadata: [] });
    const empty = await mcpBinding({ ...base, arguments: {}, boundMetadata: [] });
    expect(omitted.requestHash).toBe(empty.requestHash);
  });
  it('absent and null bound metadata hash as the spec says, and differ', async () => {
    const absent = await mcpBinding({ ...base, boundMetadata: ['tenant'] });
    const nul = await mcpBinding({ ...base, meta: { tenant: null }, boundMetadata: ['tenant'] });
    expect(absent.canonical).toContain(LNBTC_MCP_BINDING.absentValueHash);
    expect(nul.canonical).toContain(LNBTC_MCP_BINDING.nullValueHash);
  });
  it.each([
    ['null arguments', { arguments: null }],
    ['array arguments', { arguments: [1] }],
    ['non-object _meta', { meta: 'x' }],
    ['empty tool name', { name: '' }],
  ])('refuses %s', async (_name, change) => {
    await expect(mcpBinding({ ...base, ...change, boundMetadata: [] })).rejects.toBeInstanceOf(
      BindingError,
    );
  });
});

describe('binding parameters are refused unless exactly what the profile defines', () => {
  it.each([
    ['an unknown profile', 'http:2', { headers: [] }],
    ['a missing profile', undefined, { headers: [] }],
    ['http:1 without headers', 'http:1', {}],
    ['http:1 with an unknown parameter', 'http:1', { headers: [], extra: 1 }],
    ['mcp:1 without metadata', 'mcp:1', { server: 'https://a.example/mcp' }],
    [
      'mcp:1 binding x402/payment',
      'mcp:1',
      { server: 'https://a.example/mcp', metadata: ['x402/payment'] },
    ],
    [
      'mcp:1 binding progressToken',
      'mcp:1',
      { server: 'https://a.example/mcp', metadata: ['progressToken'] },
    ],
  ])('%s', (_name, profile, params) => {
    expect(() => bindingParams(profile, params)).toThrow(BindingError);
  });
});

describe('JCS', () => {
  it('sorts members by UTF-16 code units and refuses values outside JSON', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], '\u20ac': 0, '\ud83d\ude00': 0 })).toBe(
      '{"a":[true,null,"x"],"b":1,"\u20ac":0,"\ud83d\ude00":0}',
    );
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(() => canonicalJson('\ud800')).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: undefined })).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
  });
});
