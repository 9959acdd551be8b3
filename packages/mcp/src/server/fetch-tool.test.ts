import { StipendError } from '@stipend/client';
import { describe, expect, it } from 'vitest';
import { TargetBlockedError } from './address-guard.js';
import { errorResult, FETCH_TOOL, parseFetchInput } from './fetch-tool.js';

describe('parseFetchInput', () => {
  it('fills defaults and keeps what was given', () => {
    const input = parseFetchInput({
      url: 'https://api.example.com/x?q=1',
      method: 'post',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      max_usd: '0.05',
    });
    expect(input.url.href).toBe('https://api.example.com/x?q=1');
    expect(input).toMatchObject({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      maxUsd: '0.05',
    });
    expect(parseFetchInput({ url: 'http://example.com' })).toMatchObject({
      method: 'GET',
      headers: {},
    });
  });

  it.each([
    [null, /must be an object/],
    [{}, /url must be an absolute/],
    [{ url: 'example.com/x' }, /not an absolute URL/],
    [{ url: 'file:///etc/passwd' }, /http or https, not file:/],
    [{ url: 'https://a:b@example.com' }, /user name or password/],
    [{ url: 'https://example.com', method: 'TRACE' }, /method must be one of/],
    [{ url: 'https://example.com', headers: { Connection: 'close' } }, /Connection cannot be set/],
    [{ url: 'https://example.com', headers: { a: 1 } }, /string value/],
    [{ url: 'https://example.com', body: 'x' }, /GET request has no body/],
    [{ url: 'https://example.com', max_usd: 0.05 }, /max_usd must be a string/],
    [{ url: 'https://example.com', max_usd: '-1' }, /max_usd/],
    [{ url: 'https://example.com', policy: {} }, /Unknown argument "policy"/],
  ])('refuses %j', (args, message) => {
    expect(() => parseFetchInput(args)).toThrowError(message);
    try {
      parseFetchInput(args);
    } catch (error) {
      expect((error as StipendError).code).toBe('TOOL_INPUT_INVALID');
    }
  });

  it('declares the same arguments it accepts', () => {
    expect(Object.keys(FETCH_TOOL.inputSchema.properties ?? {}).sort()).toEqual([
      'body',
      'headers',
      'max_usd',
      'method',
      'url',
    ]);
  });
});

describe('errorResult', () => {
  it('keeps typed errors, finds a blocked target behind fetch failed, wraps the rest', () => {
    const typed = errorResult(new StipendError('POLICY_DENIED', 'no'));
    expect(typed).toMatchObject({ isError: true, content: [{ text: 'POLICY_DENIED: no' }] });
    const blocked = errorResult(
      new TypeError('fetch failed', {
        cause: new TargetBlockedError('10.0.0.1', [{ address: '10.0.0.1', range: 'private' }]),
      }),
    );
    expect(blocked.structuredContent).toMatchObject({ error: { code: 'TARGET_BLOCKED' } });
    const other = errorResult(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }));
    expect((other.content[0] as { text: string }).text).toBe(
      'FETCH_FAILED: The request failed: fetch failed: ECONNREFUSED. Check the URL and that the server is up.',
    );
  });
});
