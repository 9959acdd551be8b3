/**
 * The libmacaroons version 2 binary format, written here because `macaroon@3.0.4`'s
 * `exportBinary()` doubles its buffer on every append (unusable beyond two caveats) and
 * because this entry point must stay browser-safe and small.
 *
 * ```
 * 02                                         format version
 * [01 len location] 02 len identifier 00     header, end of section
 * ( [01 len location] 02 len id [04 len vid] 00 )*   one section per caveat
 * 00                                         end of caveats
 * 06 len signature                           32 bytes, nothing after it
 * ```
 *
 * Field types and lengths are unsigned LEB128 varints (field tags: location 1, identifier 2,
 * vid 4, signature 6, end of section 0).
 *
 * @module
 */

const VERSION = 2;
const EOS = 0;
const LOCATION = 1;
const IDENTIFIER = 2;
const VID = 4;
const SIGNATURE = 6;
const SIGNATURE_BYTES = 32;
/** Tokens bigger than this are refused before parsing (a delegation token is a few hundred bytes). */
export const MAX_TOKEN_BYTES = 16 * 1024;

/** One caveat; first-party when `vid` is absent. */
export interface CaveatPacket {
  readonly identifier: Uint8Array;
  readonly location?: string;
  readonly vid?: Uint8Array;
}

/** The fields of a version 2 macaroon. */
export interface MacaroonPackets {
  /** Location hint; omitted from the encoding when empty. */
  readonly location?: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly CaveatPacket[];
  /** The 32-byte HMAC-SHA256 chain signature. */
  readonly signature: Uint8Array;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Serialises a macaroon in the v2 binary format.
 *
 * @example
 * ```ts
 * import { encodeMacaroon } from './macaroon-v2.js';
 * const bytes = encodeMacaroon({ identifier, caveats: [{ identifier: caveatBytes }], signature });
 * ```
 */
export function encodeMacaroon(macaroon: MacaroonPackets): Uint8Array {
  if (macaroon.signature.length !== SIGNATURE_BYTES) {
    throw new RangeError(
      `a macaroon signature is ${SIGNATURE_BYTES} bytes, got ${macaroon.signature.length}`,
    );
  }
  const out: number[] = [VERSION];
  const field = (type: number, data: Uint8Array) => {
    varint(out, type);
    varint(out, data.length);
    for (const byte of data) out.push(byte);
  };
  if (macaroon.location) field(LOCATION, utf8.encode(macaroon.location));
  field(IDENTIFIER, macaroon.identifier);
  out.push(EOS);
  for (const caveat of macaroon.caveats) {
    if (caveat.location) field(LOCATION, utf8.encode(caveat.location));
    field(IDENTIFIER, caveat.identifier);
    if (caveat.vid) field(VID, caveat.vid);
    out.push(EOS);
  }
  out.push(EOS);
  field(SIGNATURE, macaroon.signature);
  return Uint8Array.from(out);
}

/**
 * Parses a v2 binary macaroon. Throws a `RangeError` saying what is wrong for anything that is
 * not exactly one well-formed macaroon.
 *
 * @example
 * ```ts
 * import { decodeMacaroon } from './macaroon-v2.js';
 * const { identifier, caveats, signature } = decodeMacaroon(bytes);
 * ```
 */
export function decodeMacaroon(bytes: Uint8Array): MacaroonPackets {
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new RangeError(
      `the token is ${bytes.length} bytes, above the ${MAX_TOKEN_BYTES} allowed`,
    );
  }
  const reader = new Reader(bytes);
  if (reader.byte() !== VERSION) throw new RangeError('not a version 2 binary macaroon');
  const header = readSection(reader);
  if (header.identifier === undefined) throw new RangeError('the macaroon has no identifier');
  if (header.vid !== undefined) throw new RangeError('a macaroon header cannot carry a vid');
  const caveats: CaveatPacket[] = [];
  for (;;) {
    if (reader.peek() === EOS) {
      reader.byte();
      break;
    }
    const section = readSection(reader);
    if (section.identifier === undefined) throw new RangeError('a caveat has no identifier');
    caveats.push({
      identifier: section.identifier,
      ...(section.location !== undefined ? { location: section.location } : {}),
      ...(section.vid !== undefined ? { vid: section.vid } : {}),
    });
  }
  if (reader.varint() !== SIGNATURE) throw new RangeError('the signature field is missing');
  const signature = reader.take(reader.varint());
  if (signature.length !== SIGNATURE_BYTES) {
    throw new RangeError(`the signature is ${signature.length} bytes, not ${SIGNATURE_BYTES}`);
  }
  if (reader.remaining !== 0) throw new RangeError('bytes follow the signature');
  return {
    ...(header.location !== undefined ? { location: header.location } : {}),
    identifier: header.identifier,
    caveats,
    signature,
  };
}

/** Reads fields in ascending tag order up to an end-of-section marker. */
function readSection(reader: Reader): {
  location?: string;
  identifier?: Uint8Array;
  vid?: Uint8Array;
} {
  const section: { location?: string; identifier?: Uint8Array; vid?: Uint8Array } = {};
  let last = 0;
  for (;;) {
    const type = reader.varint();
    if (type === EOS) return section;
    if (type <= last) throw new RangeError(`field ${type} is out of order or repeated`);
    last = type;
    const data = reader.take(reader.varint());
    if (type === LOCATION) {
      try {
        section.location = strictUtf8.decode(data);
      } catch {
        throw new RangeError('a location is not UTF-8');
      }
    } else if (type === IDENTIFIER) section.identifier = data;
    else if (type === VID) section.vid = data;
    else throw new RangeError(`unknown field type ${type}`);
  }
}

function varint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

class Reader {
  private at = 0;
  constructor(private readonly data: Uint8Array) {}

  get remaining(): number {
    return this.data.length - this.at;
  }

  peek(): number | undefined {
    return this.data[this.at];
  }

  byte(): number {
    const value = this.data[this.at];
    if (value === undefined) throw new RangeError('the token ends too early');
    this.at++;
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new RangeError('a varint is longer than 5 bytes');
  }

  take(length: number): Uint8Array {
    if (length > this.remaining) throw new RangeError('a field runs past the end of the token');
    const slice = this.data.slice(this.at, this.at + length);
    this.at += length;
    return slice;
  }
}
