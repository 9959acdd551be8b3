import { describe, expect, it } from 'vitest';
import { matchHost, normalizeHostname, normalizeHostPattern } from './hosts.js';

const host = (url: string) => new URL(url).hostname;

describe('matchHost', () => {
  it.each([
    // exact
    ['api.example.com', 'api.example.com', true],
    ['API.Example.COM', 'api.example.com', true],
    ['api.example.com', 'API.EXAMPLE.COM', true],
    ['api.example.com', 'api.example.com.', true],
    ['api.example.com.', 'api.example.com', true],
    ['api.example.com', 'example.com', false],
    ['api.example.com', 'xapi.example.com', false],
    ['api.example.com', 'api.example.com.evil.net', false],
    ['example.com', 'api.example.com', false],
    // subdomain wildcard
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'a.b.c.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'badexample.com', false],
    ['*.example.com', 'example.com.evil.net', false],
    ['*.Example.com', 'A.EXAMPLE.com', true],
    // everything
    ['*', 'anything.at.all', true],
    ['*', '127.0.0.1', true],
    // IP literals
    ['127.0.0.1', '127.0.0.1', true],
    ['[::1]', host('http://[::1]:8080/'), true],
    ['::1', host('http://[::1]/'), true],
  ])('%s vs %s -> %s', (pattern, hostname, expected) => {
    expect(matchHost(pattern, hostname)).toBe(expected);
  });

  it('compares IDNs in punycode, the form WHATWG URL gives', () => {
    const hostname = host('https://bücher.example/');
    expect(hostname).toBe('xn--bcher-kva.example');
    expect(matchHost('bücher.example', hostname)).toBe(true);
    expect(matchHost('BÜCHER.example', hostname)).toBe(true);
    expect(matchHost('*.bücher.example', host('https://shop.bücher.example/'))).toBe(true);
    expect(matchHost('xn--bcher-kva.example', hostname)).toBe(true);
    expect(matchHost('bucher.example', hostname)).toBe(false);
  });

  it.each([
    'api.*.com',
    '*example.com',
    'api.example.*',
    '**.example.com',
    '*.*.example.com',
    '',
    ' ',
    'https://api.example.com',
    'api.example.com:8443',
    'api.example.com/path',
    'user@api.example.com',
    'a..b',
  ])('rejects %j with a clear error', (pattern) => {
    expect(() => matchHost(pattern, 'api.example.com')).toThrow(
      expect.objectContaining({
        code: 'POLICY_INVALID',
        message: expect.stringMatching(/host pattern/),
      }),
    );
  });

  it('explains the accepted wildcard forms', () => {
    expect(() => normalizeHostPattern('api.*.com')).toThrow(/"\*\.example\.com"/);
  });
});

describe('normalizeHostname', () => {
  it('lower-cases, converts IDNs and drops a trailing dot', () => {
    expect(normalizeHostname('API.Example.com.')).toBe('api.example.com');
    expect(normalizeHostname('Bücher.example')).toBe('xn--bcher-kva.example');
  });
});
