/**
 * The one macaroon codec: the libmacaroons version 2 binary format that aperture, go-macaroon
 * and `macaroon@3.0.4` emit. Written here because that package's `exportBinary()` doubles its
 * buffer on every append (unusable beyond two caveats) and because the client must stay
 * dependency-free. Used by the client's L402 reader, the Lightning wallet's attenuation, the
 * authority's delegation tokens and the testkit's aperture stand-in.
 *
 * ```text
 * 02                                                  format version
 * [01 len location] 02 len identifier 00              header, end of section
 * ( [01 len location] 02 len id [04 len vid] 00 )*    one section per caveat
 * 00                                                  end of caveats
 * 06 len signature                                    32 bytes, nothing after it
 * ```
 *
 * Field types and lengths are unsigned LEB128 varints of at most 5 bytes and 32 bits. Field
 * tags: location 1, identifier 2, vid 4, signature 6, end of section (EOS) 0. A caveat with a
 * `vid` is third-party.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';

const VERSION = 2;
const EOS = 0;
const LOCATION = 1;
const IDENTIFIER = 2;
const VID = 4;
const SIGNATURE = 6;
const SIGNATURE_BYTES = 32;
const MAX_VARINT_BYTES = 5;
const MAX_UINT32 = 0xffff_ffff;

/** One caveat: first-party when `vid` is absent. */
export interface MacaroonCaveat {
  /** For a first-party caveat, the UTF-8 condition (`services=quotes:0`). */
  readonly identifier: Uint8Array;
  /** Location hint of a third-party caveat; omitted from the encoding when empty. */
  readonly location?: string;
  /** Verification id of a third-party caveat. */
  readonly vid?: Uint8Array;
}

/** The fields of a version 2 macaroon. */
export interface MacaroonV2 {
  /** Location hint (`lsat` for aperture tokens); omitted from the encoding when empty. */
  readonly location?: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly MacaroonCaveat[];
  /** The 32-byte HMAC-SHA256 chain signature. */
  readonly signature: Uint8Array;
}

/** How {@link decodeMacaroonV2} reads locations. */
export interface DecodeMacaroonOptions {
  /**
   * `'strict'` (default) refuses a location that is not UTF-8; `'lenient'` reads its bad
   * bytes as U+FFFD (the client only inspects tokens and sends them back as received).
   */
  readonly text?: 'strict' | 'lenient';
}

const utf8Encoder = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

function invalid(message: string): StipendError {
  return new StipendError('MACAROON_INVALID', message);
}

function fieldName(type: number): string {
  switch (type) {
    case EOS:
      return 'EOS';
    case LOCATION:
      return 'location';
    case IDENTIFIER:
      return 'identifier';
    case VID:
      return 'vid';
    case SIGNATURE:
      return 'signature';
    default:
      return 'unknown';
  }
}

function varintLength(value: number): number {
  let length = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 128)) length++;
  return length;
}

/**
 * Serialises a macaroon in the v2 binary format, byte-identical to `macaroon@3.0.4`
 * `exportBinary()` and go-macaroon `MarshalBinary()`. Empty locations are left out.
 *
 * @throws {StipendError} `MACAROON_INVALID` when the signature is not 32 bytes.
 * @example
 * ```ts
 * import { bytesToBase64, encodeMacaroonV2 } from '@stipend/client/internal';
 * const token = bytesToBase64(encodeMacaroonV2({ location: 'lsat', identifier, caveats: [], signature }));
 * ```
 */
export function encodeMacaroonV2(macaroon: MacaroonV2): Uint8Array {
  if (macaroon.signature.length !== SIGNATURE_BYTES) {
    throw invalid(
      `a macaroon signature must be ${SIGNATURE_BYTES} bytes, got ${macaroon.signature.length}`,
    );
  }
  const sections: [type: number, data: Uint8Array | undefined][] = [];
  const push = (type: number, data?: Uint8Array) => sections.push([type, data]);
  if (macaroon.location) push(LOCATION, utf8Encoder.encode(macaroon.location));
  push(IDENTIFIER, macaroon.identifier);
  push(EOS);
  for (const caveat of macaroon.caveats) {
    if (caveat.location) push(LOCATION, utf8Encoder.encode(caveat.location));
    push(IDENTIFIER, caveat.identifier);
    if (caveat.vid) push(VID, caveat.vid);
    push(EOS);
  }
  push(EOS);
  push(SIGNATURE, macaroon.signature);

  let size = 1;
  for (const [, data] of sections) {
    size += 1 + (data ? varintLength(data.length) + data.length : 0);
  }
  const out = new Uint8Array(size);
  out[0] = VERSION;
  let at = 1;
  for (const [type, data] of sections) {
    out[at++] = type;
    if (!data) continue;
    for (let rest = data.length; ; rest = Math.floor(rest / 128)) {
      if (rest < 0x80) {
        out[at++] = rest;
        break;
      }
      out[at++] = (rest & 0x7f) | 0x80;
    }
    out.set(data, at);
    at += data.length;
  }
  return out;
}

/** Reads ASCII without a `TextDecoder` call (locations are `lsat`, caveat ids mostly ASCII). */
function text(bytes: Uint8Array, lenient: boolean): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte > 0x7f) {
      try {
        return (lenient ? utf8Lenient : utf8Strict).decode(bytes);
      } catch {
        throw invalid('location is not valid UTF-8');
      }
    }
    out += String.fromCharCode(byte);
  }
  return out;
}

/** A cursor over the bytes; one per decode. */
class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  varint(): number {
    const bytes = this.bytes;
    const first = bytes[this.at];
    if (first !== undefined && first < 0x80) {
      this.at++;
      return first;
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = bytes[this.at++];
      if (byte === undefined) throw invalid('unexpected end of macaroon data');
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (value > MAX_UINT32) throw invalid('a varint overflows 32 bits');
        return value;
      }
      scale *= 128;
    }
    throw invalid('varint longer than 5 bytes');
  }

  /** The next field type without consuming it, or -1 at the end. */
  peek(): number {
    if (this.at >= this.bytes.length) return -1;
    const saved = this.at;
    const type = this.varint();
    this.at = saved;
    return type;
  }

  field(type: number): Uint8Array {
    const found = this.varint();
    if (found !== type) {
      const missing = type === IDENTIFIER && found === EOS ? ': the section has no identifier' : '';
      throw invalid(
        `expected field type ${type} (${fieldName(type)}), found ${found} (${fieldName(found)} field)${missing}; a field out of order, repeated or unknown is refused`,
      );
    }
    if (type === EOS) return EMPTY;
    const size = this.varint();
    const left = this.bytes.length - this.at;
    if (size > left) {
      throw invalid(
        `field length ${size} exceeds the ${left} bytes left: a field runs past the end`,
      );
    }
    const out = this.bytes.slice(this.at, this.at + size);
    this.at += size;
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Parses a v2 binary macaroon, strictly: version byte 2; in each section an optional
 * location, an identifier, an optional vid (caveats only), in that order, then EOS; a
 * 32-byte signature; nothing after it. Returned fields are copies, not views of `bytes`.
 *
 * @throws {StipendError} `MACAROON_INVALID`, saying what is wrong, for anything else.
 * @example
 * ```ts
 * import { anyBase64ToBytes, decodeMacaroonV2 } from '@stipend/client/internal';
 * const { identifier, caveats } = decodeMacaroonV2(anyBase64ToBytes(token));
 * ```
 */
export function decodeMacaroonV2(
  bytes: Uint8Array,
  options: DecodeMacaroonOptions = {},
): MacaroonV2 {
  const lenient = options.text === 'lenient';
  if (bytes.length === 0) throw invalid('unexpected end of macaroon data');
  if (bytes[0] !== VERSION) {
    throw invalid(
      `only v2 binary macaroons are supported (version 2, first byte 0x02), found 0x${bytes[0]!.toString(16).padStart(2, '0')}`,
    );
  }
  const reader = new Reader(bytes);
  reader.at = 1;
  const location = reader.peek() === LOCATION ? text(reader.field(LOCATION), lenient) : undefined;
  const identifier = reader.field(IDENTIFIER);
  reader.field(EOS);
  const caveats: MacaroonCaveat[] = [];
  for (;;) {
    const type = reader.peek();
    if (type === -1) throw invalid('unexpected end of macaroon data');
    if (type === EOS) break;
    const caveatLocation = type === LOCATION ? text(reader.field(LOCATION), lenient) : undefined;
    const id = reader.field(IDENTIFIER);
    const vid = reader.peek() === VID ? reader.field(VID) : undefined;
    reader.field(EOS);
    const caveat: { identifier: Uint8Array; location?: string; vid?: Uint8Array } = {
      identifier: id,
    };
    if (caveatLocation !== undefined) caveat.location = caveatLocation;
    if (vid !== undefined) caveat.vid = vid;
    caveats.push(caveat);
  }
  reader.field(EOS);
  const signature = reader.field(SIGNATURE);
  if (signature.length !== SIGNATURE_BYTES) {
    throw invalid(`the signature must be ${SIGNATURE_BYTES} bytes, found ${signature.length}`);
  }
  if (reader.at !== bytes.length) {
    throw invalid(
      `${bytes.length - reader.at} unexpected bytes after the signature (nothing may follow the signature)`,
    );
  }
  const out: {
    location?: string;
    identifier: Uint8Array;
    caveats: MacaroonCaveat[];
    signature: Uint8Array;
  } = { identifier, caveats, signature };
  if (location !== undefined) out.location = location;
  return out;
}
