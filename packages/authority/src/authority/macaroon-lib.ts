/**
 * Typed access to the parts of `macaroon@3.0.4` (go-macaroon/js-macaroon, CommonJS, no type
 * declarations) the authority uses: minting and verifying. Never `exportBinary()`: its buffer
 * doubles per caveat (see ENVIRONMENT.md); tokens are serialised by the client's macaroon codec (through `../remote/macaroon-v2.ts`).
 *
 * @module
 */
import { createRequire } from 'node:module';

/** A macaroon object of the `macaroon` package. */
export interface LibMacaroon {
  readonly location: string;
  readonly identifier: Uint8Array;
  readonly signature: Uint8Array;
  readonly caveats: { identifier: Uint8Array; location?: string; vid?: Uint8Array }[];
  addFirstPartyCaveat(caveat: string | Uint8Array): void;
  /** Throws when a caveat check returns a reason or the signature chain does not match. */
  verify(rootKey: Uint8Array, check: (condition: string) => string | null): void;
  /** Allocates a buffer that doubles per caveat: only for tests with at most two caveats. */
  exportBinary(): Uint8Array;
}

/** The `macaroon` module. */
export interface MacaroonLib {
  newMacaroon(params: {
    identifier: string | Uint8Array;
    location?: string;
    rootKey: Uint8Array;
    version?: 2;
  }): LibMacaroon;
  importMacaroon(data: Uint8Array): LibMacaroon;
}

const require = createRequire(import.meta.url);

/**
 * The `macaroon` package, typed.
 *
 * @example
 * ```ts
 * import { macaroonLib } from './macaroon-lib.js';
 * const m = macaroonLib.newMacaroon({ identifier: 'stipend:1:…', rootKey, version: 2 });
 * ```
 */
export const macaroonLib: MacaroonLib = require('macaroon') as MacaroonLib;
