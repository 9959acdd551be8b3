import { createRequire } from 'node:module';

/**
 * Typed access to the `macaroon@3.0.4` npm package (go-macaroon/js-macaroon), which ships
 * CommonJS without type declarations. Only the parts the testkit uses are typed here.
 *
 * Do not call `exportBinary()` on its macaroons: its buffer doubles per append (two caveats
 * already allocate ~210 MB, four throw `RangeError`). Serialise with
 * {@link encodeMacaroonV2} from `macaroon-binary.ts` instead.
 */

/** A caveat as the `macaroon` package reports it. */
export interface MacaroonLibCaveat {
  identifier: Uint8Array;
  location?: string;
  vid?: Uint8Array;
}

/** A macaroon object from the `macaroon` package. */
export interface MacaroonLibMacaroon {
  readonly location: string;
  readonly identifier: Uint8Array;
  readonly signature: Uint8Array;
  readonly caveats: MacaroonLibCaveat[];
  addFirstPartyCaveat(caveat: string | Uint8Array): void;
  addThirdPartyCaveat(rootKey: Uint8Array, caveatId: string | Uint8Array, location?: string): void;
  clone(): MacaroonLibMacaroon;
  /** Throws when the signature chain or a caveat check fails. */
  verify(
    rootKey: Uint8Array,
    check: (condition: string) => string | null | undefined,
    discharges?: MacaroonLibMacaroon[],
  ): void;
  exportJSON(): Record<string, unknown>;
  /** Allocates a buffer that doubles per caveat: avoid beyond two caveats. */
  exportBinary(): Uint8Array;
}

/** The module shape of the `macaroon` package. */
export interface MacaroonLib {
  newMacaroon(params: {
    identifier: string | Uint8Array;
    location?: string;
    rootKey: string | Uint8Array;
    version?: 1 | 2;
  }): MacaroonLibMacaroon;
  importMacaroon(data: string | Uint8Array | Record<string, unknown>): MacaroonLibMacaroon;
  bytesToBase64(bytes: Uint8Array): string;
  base64ToBytes(text: string): Uint8Array;
}

const require = createRequire(import.meta.url);

/**
 * The `macaroon` npm package, typed.
 *
 * @example
 * ```ts
 * import { macaroonLib } from '@stipend/testkit/l402';
 * const m = macaroonLib.importMacaroon(tokenBase64);
 * m.addFirstPartyCaveat('quotes_valid_until=1700000000');
 * ```
 */
export const macaroonLib: MacaroonLib = require('macaroon') as MacaroonLib;
