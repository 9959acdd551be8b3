import { describe, expect, it } from 'vitest';
import { sellerHttpBinding } from './binding.js';
import { sellerRequestUrl } from './origin.js';
import { LnbtcSellerError } from './reasons.js';
import { LNBTC_HTTP_SERVER_ADAPTER } from './server-vectors.js';

function bind(vector: (typeof LNBTC_HTTP_SERVER_ADAPTER)[number], trustProxy = true) {
  const url = sellerRequestUrl({
    publicOrigin: vector.publicOrigin,
    trustProxy,
    target: vector.url,
    headerLines: vector.headerLines,
  });
  return sellerHttpBinding({
    method: 'GET',
    url,
    body: new Uint8Array(),
    headerLines: vector.headerLines,
    boundHeaders: [],
  }).requestHash;
}

describe('the seller binds its configured origin, never a requester-chosen one (http_server_adapter)', () => {
  for (const vector of LNBTC_HTTP_SERVER_ADAPTER) {
    it(vector.id, () => {
      if (vector.error) {
        let caught: unknown;
        try {
          const hash = bind(vector);
          if (vector.forbiddenRequestHash) expect(hash).not.toBe(vector.forbiddenRequestHash);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(LnbtcSellerError);
        expect((caught as LnbtcSellerError).reason).toBe(vector.error);
        return;
      }
      expect(bind(vector)).toBe(vector.requestHash);
    });
  }

  it('ignores X-Forwarded-Host unless told to trust a proxy: the Host then decides', () => {
    const hop = LNBTC_HTTP_SERVER_ADAPTER.find((v) => v.id === 'forwarded-host-hop')!;
    expect(() => bind(hop, false)).toThrow('invalid_exact_lnbtc_request_mismatch');
    // A requester's own X-Forwarded-Host cannot move the bound origin either.
    const spoofed = sellerRequestUrl({
      publicOrigin: 'http://127.0.0.1:8080',
      target: '/article/A',
      headerLines: [
        ['Host', '127.0.0.1:8080'],
        ['X-Forwarded-Host', 'evil.example'],
      ],
    });
    expect(spoofed).toBe('http://127.0.0.1:8080/article/A');
  });

  it('keeps the target byte for byte (escapes and query order)', () => {
    expect(
      sellerRequestUrl({
        publicOrigin: 'http://127.0.0.1:8080',
        target: '/a/%2f?b=2&a=1',
        headerLines: [['Host', '127.0.0.1:8080']],
      }),
    ).toBe('http://127.0.0.1:8080/a/%2f?b=2&a=1');
  });
});
