import { describe, expect, it } from 'vitest';
import { isLoopbackHost, mayPayOver } from './transport.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['api.localhost', true],
    ['127.0.0.1', true],
    ['127.255.10.3', true],
    ['[::1]', true],
    ['127.0.0.256', false],
    ['128.0.0.1', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['10.0.0.1', false],
    ['[::2]', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('mayPayOver', () => {
  it('allows https everywhere and http only on loopback by default', () => {
    expect(mayPayOver(new URL('https://api.example.com/'), 'loopback')).toBe(true);
    expect(mayPayOver(new URL('http://api.example.com/'), 'loopback')).toBe(false);
    expect(mayPayOver(new URL('http://127.0.0.1:8080/'), 'loopback')).toBe(true);
    expect(mayPayOver(new URL('http://[::1]:8080/'), 'loopback')).toBe(true);
  });

  it('follows the configured rule', () => {
    expect(mayPayOver(new URL('http://127.0.0.1/'), false)).toBe(false);
    expect(mayPayOver(new URL('http://api.example.com/'), true)).toBe(true);
    expect(mayPayOver(new URL('ftp://api.example.com/'), true)).toBe(false);
  });
});
