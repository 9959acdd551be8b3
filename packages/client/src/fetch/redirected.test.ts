import { describe, expect, it } from 'vitest';
import { isStipendError } from '../errors/base.js';
import { retryHeadersFor } from './redirected.js';

const requested = new URL('https://app.example/data?k=secret');
const sameOrigin = new URL('https://app.example/v2/data');
const other = new URL('https://seller.example/paid?token=abc');

function appHeaders(): Headers {
  return new Headers({
    authorization: 'Bearer app-secret',
    cookie: 'session=app',
    'proxy-authorization': 'Basic cHJveHk6cHc=',
    'x-app': 'kept',
    accept: 'application/json',
  });
}

describe('retryHeadersFor (finding 7: the paid retry carries what fetch sent to that origin)', () => {
  it('no app credential reaches another origin: Authorization, Cookie, Proxy-Authorization are dropped', () => {
    const decided = retryHeadersFor(requested, other, appHeaders(), 'GET', true);
    expect(decided.ok).toBe(true);
    if (!decided.ok) return;
    expect(decided.headers.has('authorization')).toBe(false);
    expect(decided.headers.has('cookie')).toBe(false);
    expect(decided.headers.has('proxy-authorization')).toBe(false);
    expect(decided.headers.get('x-app')).toBe('kept');
    expect(decided.headers.get('accept')).toBe('application/json');
  });

  it('the same origin keeps the app’s headers (redirected within the origin, or not redirected)', () => {
    for (const redirected of [true, false]) {
      const decided = retryHeadersFor(requested, sameOrigin, appHeaders(), 'GET', redirected);
      expect(decided.ok && decided.headers.get('authorization')).toBe('Bearer app-secret');
      expect(decided.ok && decided.headers.get('cookie')).toBe('session=app');
    }
  });

  it('origin means scheme, host and port: http vs https and another port are other origins', () => {
    for (const answered of ['http://app.example/data', 'https://app.example:8443/data']) {
      const decided = retryHeadersFor(requested, new URL(answered), appHeaders(), 'GET', true);
      expect(decided.ok && decided.headers.has('authorization')).toBe(false);
    }
  });

  it('header names are matched without regard to case', () => {
    const headers = new Headers([
      ['AUTHORIZATION', 'x'],
      ['CooKie', 'y'],
    ]);
    const decided = retryHeadersFor(requested, other, headers, 'HEAD', true);
    expect(decided.ok && [...decided.headers.keys()]).toEqual([]);
  });

  it('never modifies the app’s Headers', () => {
    const headers = appHeaders();
    retryHeadersFor(requested, other, headers, 'GET', true);
    expect(headers.get('authorization')).toBe('Bearer app-secret');
  });

  it('a redirected POST (or PUT, PATCH, DELETE) is refused with REDIRECTED_CHALLENGE: fetch may have changed method and body', () => {
    for (const method of ['POST', 'put', 'PATCH', 'DELETE']) {
      for (const answered of [other, sameOrigin]) {
        const decided = retryHeadersFor(requested, answered, appHeaders(), method, true);
        expect(decided.ok).toBe(false);
        if (decided.ok) continue;
        expect(isStipendError(decided.error)).toBe(true);
        expect(decided.error.code).toBe('REDIRECTED_CHALLENGE');
        expect(decided.error.name).toBe('RequestError');
        expect(decided.error.message).toContain('Call the final URL directly');
        expect(decided.error.message).toContain(`${answered.origin}${answered.pathname}`);
      }
    }
  });

  it('a POST that was not redirected is paid as sent', () => {
    const decided = retryHeadersFor(requested, requested, appHeaders(), 'POST', false);
    expect(decided.ok && decided.headers.get('authorization')).toBe('Bearer app-secret');
  });

  it('the refusal names no query string, credential or header value', () => {
    const decided = retryHeadersFor(requested, other, appHeaders(), 'POST', true);
    if (decided.ok) throw new Error('expected a refusal');
    const text = `${decided.error.message} ${JSON.stringify(decided.error.toJSON())}`;
    expect(text).not.toContain('token=abc');
    expect(text).not.toContain('k=secret');
    expect(text).not.toContain('app-secret');
  });

  it('an answer from a non-http(s) URL is refused', () => {
    const decided = retryHeadersFor(
      requested,
      new URL('data:text/plain,hi'),
      appHeaders(),
      'GET',
      true,
    );
    expect(!decided.ok && decided.error.code).toBe('REDIRECTED_CHALLENGE');
  });
});
