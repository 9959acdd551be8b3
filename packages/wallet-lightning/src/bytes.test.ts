import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bytesToHex,
  fromBase64,
  hexToBytes,
  normalizePreimage,
  sha256Hex,
  toStdBase64,
} from './bytes.js';

const PREIMAGE = '0f'.repeat(16) + 'a1'.repeat(16);
const HASH = createHash('sha256').update(Buffer.from(PREIMAGE, 'hex')).digest('hex');

describe('bytes', () => {
  it('converts hex and base64 both ways', () => {
    const bytes = Uint8Array.from([0, 1, 250, 251, 255]);
    expect(bytesToHex(bytes)).toBe('0001fafbff');
    expect(hexToBytes('0001FAFBFF')).toEqual(bytes);
    expect(toStdBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromBase64(Buffer.from(bytes).toString('base64url'))).toEqual(bytes);
    expect(() => hexToBytes('abc')).toThrow(TypeError);
    expect(() => fromBase64('a$b')).toThrow(TypeError);
    expect(sha256Hex(hexToBytes(PREIMAGE))).toBe(HASH);
  });

  it('base64 is read strictly: exact padding or none, canonical last character', () => {
    expect(fromBase64('AgE')).toEqual(Uint8Array.from([2, 1]));
    expect(fromBase64('AgE=')).toEqual(Uint8Array.from([2, 1]));
    for (const junk of ['AgE==', 'AgE===', 'AgF=', 'Ag E=', 'AgEA=']) {
      expect(() => fromBase64(junk), junk).toThrow(TypeError);
    }
  });

  it('normalises preimages from hex, upper-case hex, base64 and bytes; refuses others', () => {
    expect(normalizePreimage(PREIMAGE.toUpperCase(), HASH)).toBe(PREIMAGE);
    expect(normalizePreimage(Buffer.from(PREIMAGE, 'hex').toString('base64'), HASH)).toBe(PREIMAGE);
    expect(normalizePreimage(hexToBytes(PREIMAGE), HASH)).toBe(PREIMAGE);
    expect(normalizePreimage('00'.repeat(32), HASH)).toBeUndefined();
    expect(normalizePreimage(PREIMAGE.slice(2), HASH)).toBeUndefined();
    expect(normalizePreimage('', HASH)).toBeUndefined();
  });
});
