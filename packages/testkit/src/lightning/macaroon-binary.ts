import { fromStdBase64, toStdBase64 } from './bytes.js';
import type { MacaroonLibMacaroon } from './macaroon-lib.js';

/**
 * The libmacaroons version 2 binary format, the one aperture and go-macaroon emit:
 *
 * ```
 * 0x02                                     format version
 * [01 len location] 02 len identifier 00   header (location optional), EOS
 * ( [01 len location] 02 len id [04 len vid] 00 )*   one packet run per caveat, EOS
 * 00                                       end of caveats
 * 06 len signature                         32-byte signature, no trailing EOS
 * ```
 *
 * Lengths and field types are unsigned LEB128 varints. Written here because
 * `macaroon@3.0.4`'s `exportBinary()` doubles its buffer on every append.
 */

const FORMAT_VERSION = 2;
const FIELD_EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_VID = 4;
const FIELD_SIGNATURE = 6;
const SIGNATURE_LENGTH = 32;
const MAX_VARINT_BYTES = 5;
const MAX_UINT32 = 0xffff_ffff;

/** One caveat of a macaroon: first-party when `vid` is absent. */
export interface MacaroonV2Caveat {
  /** The caveat identifier (for first-party caveats, the UTF-8 condition such as `services=quotes:0`). */
  identifier: Uint8Array;
  /** Location hint of a third-party caveat. */
  location?: string;
  /** Verification id of a third-party caveat. */
  vid?: Uint8Array;
}

/** The fields of a version 2 macaroon. */
export interface MacaroonV2 {
  /** Location hint (`lsat` for aperture tokens); omitted from the encoding when empty. */
  location?: string;
  identifier: Uint8Array;
  caveats: MacaroonV2Caveat[];
  /** 32-byte HMAC-SHA256 chain signature. */
  signature: Uint8Array;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private readonly chunks: number[] = [];

  byte(value: number): void {
    this.chunks.push(value & 0xff);
  }

  varint(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
      throw new RangeError(`varint ${value} out of range 0..2^32-1`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.chunks.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    this.chunks.push(rest);
  }

  field(type: number, data?: Uint8Array): void {
    this.varint(type);
    if (type === FIELD_EOS) return;
    const payload = data ?? new Uint8Array();
    this.varint(payload.length);
    for (const b of payload) this.chunks.push(b);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  byte(): number {
    const b = this.data[this.offset];
    if (b === undefined) throw new MacaroonDecodeError('unexpected end of macaroon data');
    this.offset++;
    return b;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (value > MAX_UINT32) throw new MacaroonDecodeError('varint overflows 32 bits');
        return value;
      }
      scale *= 128;
    }
    throw new MacaroonDecodeError('varint longer than 5 bytes');
  }

  take(length: number): Uint8Array {
    if (length > this.remaining) {
      throw new MacaroonDecodeError(
        `field length ${length} exceeds the ${this.remaining} bytes left`,
      );
    }
    const out = this.data.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** Reads the next field type without consuming it. */
  peekType(): number {
    const saved = this.offset;
    const type = this.varint();
    this.offset = saved;
    return type;
  }

  /** Reads a field of `type`; returns undefined (consuming nothing) when the next field differs. */
  optional(type: number): Uint8Array | undefined {
    if (this.remaining === 0 || this.peekType() !== type) return undefined;
    return this.required(type);
  }

  required(type: number): Uint8Array {
    const actual = this.varint();
    if (actual !== type) {
      throw new MacaroonDecodeError(
        `expected field type ${type} (${fieldName(type)}), found ${actual} (${fieldName(actual)})`,
      );
    }
    if (type === FIELD_EOS) return new Uint8Array();
    return this.take(this.varint());
  }

  eos(): boolean {
    if (this.remaining === 0 || this.peekType() !== FIELD_EOS) return false;
    this.varint();
    return true;
  }
}

function fieldName(type: number): string {
  switch (type) {
    case FIELD_EOS:
      return 'EOS';
    case FIELD_LOCATION:
      return 'location';
    case FIELD_IDENTIFIER:
      return 'identifier';
    case FIELD_VID:
      return 'vid';
    case FIELD_SIGNATURE:
      return 'signature';
    default:
      return 'unknown';
  }
}

/** Thrown by {@link decodeMacaroonV2} for bytes that are not a well-formed v2 macaroon. */
export class MacaroonDecodeError extends Error {
  override readonly name = 'MacaroonDecodeError';
}

/**
 * Serialises a macaroon in the libmacaroons v2 binary format (byte-identical to
 * `macaroon@3.0.4` `exportBinary()` and to go-macaroon `MarshalBinary()`).
 *
 * @example
 * ```ts
 * import { encodeMacaroonV2, macaroonLib, macaroonV2FromLib } from '@stipend/testkit/l402';
 * const m = macaroonLib.newMacaroon({ identifier: id, location: 'lsat', rootKey, version: 2 });
 * m.addFirstPartyCaveat('services=quotes:0');
 * const bytes = encodeMacaroonV2(macaroonV2FromLib(m));
 * ```
 */
export function encodeMacaroonV2(macaroon: MacaroonV2): Uint8Array {
  if (macaroon.signature.length !== SIGNATURE_LENGTH) {
    throw new RangeError(
      `macaroon signature must be ${SIGNATURE_LENGTH} bytes, got ${macaroon.signature.length}`,
    );
  }
  const w = new Writer();
  w.byte(FORMAT_VERSION);
  if (macaroon.location) w.field(FIELD_LOCATION, utf8.encode(macaroon.location));
  w.field(FIELD_IDENTIFIER, macaroon.identifier);
  w.field(FIELD_EOS);
  for (const caveat of macaroon.caveats) {
    if (caveat.location) w.field(FIELD_LOCATION, utf8.encode(caveat.location));
    w.field(FIELD_IDENTIFIER, caveat.identifier);
    if (caveat.vid) w.field(FIELD_VID, caveat.vid);
    w.field(FIELD_EOS);
  }
  w.field(FIELD_EOS);
  w.field(FIELD_SIGNATURE, macaroon.signature);
  return w.bytes();
}

/**
 * Parses a libmacaroons v2 binary macaroon. Strict: wrong version byte, fields out of
 * order, unknown field types, a signature that is not 32 bytes, or trailing bytes throw
 * {@link MacaroonDecodeError}.
 *
 * @example
 * ```ts
 * import { decodeMacaroonV2, fromStdBase64 } from '@stipend/testkit/l402';
 * const { identifier, caveats } = decodeMacaroonV2(fromStdBase64(tokenBase64));
 * ```
 */
export function decodeMacaroonV2(bytes: Uint8Array): MacaroonV2 {
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== FORMAT_VERSION) {
    throw new MacaroonDecodeError(
      `only v2 binary macaroons are supported (first byte 0x02), found 0x${version.toString(16).padStart(2, '0')}`,
    );
  }
  const location = decodeLocation(r.optional(FIELD_LOCATION));
  const identifier = r.required(FIELD_IDENTIFIER);
  r.required(FIELD_EOS);
  const caveats: MacaroonV2Caveat[] = [];
  while (!r.eos()) {
    const caveatLocation = decodeLocation(r.optional(FIELD_LOCATION));
    const caveatId = r.required(FIELD_IDENTIFIER);
    const vid = r.optional(FIELD_VID);
    r.required(FIELD_EOS);
    const caveat: MacaroonV2Caveat = { identifier: caveatId };
    if (caveatLocation !== undefined) caveat.location = caveatLocation;
    if (vid !== undefined) caveat.vid = vid;
    caveats.push(caveat);
  }
  const signature = r.required(FIELD_SIGNATURE);
  if (signature.length !== SIGNATURE_LENGTH) {
    throw new MacaroonDecodeError(
      `signature must be ${SIGNATURE_LENGTH} bytes, found ${signature.length}`,
    );
  }
  if (r.remaining !== 0) {
    throw new MacaroonDecodeError(`${r.remaining} unexpected bytes after the signature`);
  }
  const out: MacaroonV2 = { identifier, caveats, signature };
  if (location !== undefined) out.location = location;
  return out;
}

function decodeLocation(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new MacaroonDecodeError('location is not valid UTF-8');
  }
}

/**
 * Reads the fields of a `macaroon` package object without calling its `exportBinary()`.
 *
 * @example
 * ```ts
 * import { macaroonLib, macaroonV2FromLib } from '@stipend/testkit/l402';
 * const fields = macaroonV2FromLib(macaroonLib.importMacaroon(tokenBase64));
 * ```
 */
export function macaroonV2FromLib(macaroon: MacaroonLibMacaroon): MacaroonV2 {
  const out: MacaroonV2 = {
    identifier: macaroon.identifier,
    caveats: macaroon.caveats.map((c) => {
      const caveat: MacaroonV2Caveat = { identifier: c.identifier };
      if (c.location) caveat.location = c.location;
      if (c.vid) caveat.vid = c.vid;
      return caveat;
    }),
    signature: macaroon.signature,
  };
  if (macaroon.location) out.location = macaroon.location;
  return out;
}

/**
 * Standard padded base64 of a macaroon's v2 binary encoding: the token form aperture puts
 * in `macaroon="…"` and expects back in `Authorization: L402 <token>:<preimage>`.
 *
 * @example
 * ```ts
 * import { macaroonLib, macaroonToBase64 } from '@stipend/testkit/l402';
 * const m = macaroonLib.importMacaroon(token);
 * m.addFirstPartyCaveat('services=quotes:0');
 * const attenuated = macaroonToBase64(m);
 * ```
 */
export function macaroonToBase64(macaroon: MacaroonLibMacaroon | MacaroonV2): string {
  const fields = 'addFirstPartyCaveat' in macaroon ? macaroonV2FromLib(macaroon) : macaroon;
  return toStdBase64(encodeMacaroonV2(fields));
}

/**
 * Decodes a standard padded base64 token into macaroon fields (strict, like aperture).
 *
 * @example
 * ```ts
 * import { macaroonFromBase64 } from '@stipend/testkit/l402';
 * const { identifier } = macaroonFromBase64(token);
 * ```
 */
export function macaroonFromBase64(token: string): MacaroonV2 {
  return decodeMacaroonV2(fromStdBase64(token));
}
