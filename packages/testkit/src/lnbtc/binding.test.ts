import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../lightning/bytes.js';
import { sellerHttpBinding } from './binding.js';
import { LnbtcSellerError } from './reasons.js';
import { LNBTC_HTTP_BINDING } from './vectors.js';

describe('the seller binds requests as the spec vectors say (http_binding)', () => {
  for (const vector of LNBTC_HTTP_BINDING) {
    it(vector.id, () => {
      const bind = () =>
        sellerHttpBinding({
          method: vector.method,
          url: vector.url,
          body: hexToBytes(vector.bodyHex),
          headerLines: vector.headerLines,
          boundHeaders: vector.boundHeaders,
        });
      if (vector.error) {
        expect(bind).toThrow(LnbtcSellerError);
        expect(bind).toThrow(vector.error);
        return;
      }
      const binding = bind();
      expect(binding.requestHash).toBe(vector.requestHash);
      if (vector.canonical) expect(binding.canonical).toBe(vector.canonical);
    });
  }
});
