import { describe, expect, it } from 'vitest';
import { checkToken, guard, newToken, TOKEN_HEADER } from './guard.js';

const token = newToken();
const config = { token, hosts: new Set(['127.0.0.1:4021', 'localhost:4021']) };
const origin = 'http://127.0.0.1:4021';
const post = (headers: Record<string, string>, target = `/${token}/api/approvals/a/approve`) =>
  guard({ method: 'POST', target, headers: { host: '127.0.0.1:4021', ...headers } }, config);
const good = { origin, [TOKEN_HEADER]: token, 'content-type': 'application/json' };

describe('guard', () => {
  it('admits the token as the first path segment, and nothing else', () => {
    const get = (target: string, host = '127.0.0.1:4021') =>
      guard({ method: 'GET', target, headers: { host } }, config);
    expect(get(`/${token}/api/state?host=a`)).toMatchObject({ ok: true, path: '/api/state' });
    expect(get(`/${token}`)).toMatchObject({ ok: true, path: '' });
    expect(get('/')).toMatchObject({ ok: false, status: 403 });
    expect(get(`/api/state?token=${token}`)).toMatchObject({ ok: false, status: 403 });
    expect(get(`/${token.slice(1)}/`)).toMatchObject({ ok: false, status: 403 });
    expect(get(`/${token}x/`)).toMatchObject({ ok: false, status: 403 });
    expect(get(`//${token}/`)).toMatchObject({ ok: false, status: 403 });
    expect(get(`http://127.0.0.1:4021/${token}/`)).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses another Host even with the token (DNS rebinding)', () => {
    expect(
      guard(
        { method: 'GET', target: `/${token}/`, headers: { host: 'evil.example:4021' } },
        config,
      ),
    ).toMatchObject({ ok: false, status: 403 });
    expect(guard({ method: 'GET', target: `/${token}/`, headers: {} }, config)).toMatchObject({
      ok: false,
      status: 403,
    });
  });

  it('a POST needs the console’s Origin, the token header, same-origin fetch metadata and JSON (CSRF)', () => {
    expect(post(good)).toMatchObject({ ok: true });
    expect(post({ ...good, 'sec-fetch-site': 'same-origin' })).toMatchObject({ ok: true });
    expect(post({ ...good, origin: 'http://evil.example' })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(post({ ...good, origin: 'null' })).toMatchObject({ ok: false, status: 403 });
    expect(post({ ...good, origin: 'http://localhost:4021' })).toMatchObject({
      ok: false,
      status: 403,
    });
    const { origin: _o, ...noOrigin } = good;
    expect(post(noOrigin)).toMatchObject({ ok: false, status: 403 });
    expect(post({ ...good, [TOKEN_HEADER]: 'nope' })).toMatchObject({ ok: false, status: 403 });
    expect(post({ ...good, 'sec-fetch-site': 'same-site' })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(post({ ...good, 'content-type': 'text/plain' })).toMatchObject({
      ok: false,
      status: 415,
    });
    expect(post({ ...good, 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({
      ok: false,
      status: 415,
    });
    expect(post(good, '/api/approvals/a/approve')).toMatchObject({ ok: false, status: 403 });
  });

  it('refuses other methods', () => {
    expect(
      guard({ method: 'PUT', target: `/${token}/`, headers: { host: '127.0.0.1:4021' } }, config),
    ).toMatchObject({ ok: false, status: 405 });
  });

  it('a chosen token must be long and plain', () => {
    expect(() => checkToken('short')).toThrow(/32 to 256/);
    expect(() => checkToken(`${'a'.repeat(40)}/`)).toThrow();
    expect(checkToken('a'.repeat(32))).toBe('a'.repeat(32));
    expect(newToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
