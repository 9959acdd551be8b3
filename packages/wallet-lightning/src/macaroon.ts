/**
 * L402 macaroons for sub-agents: read a token, and attenuate it without the root key.
 *
 * Format: libmacaroons version 2 binary (what aperture and go-macaroon emit), read and written
 * by the client's one macaroon codec (`@stipend/client/internal`), because `macaroon@3.0.4`'s
 * `exportBinary()` doubles its buffer on every append:
 *
 * ```text
 * 0x02  [01 len location] 02 len identifier 00
 *       ( [01 len location] 02 len caveat-id [04 len vid] 00 )*  00
 *       06 len signature            (32 bytes, no trailing EOS)
 * ```
 *
 * Attenuation: a first-party caveat `c` turns signature `s` into `HMAC-SHA256(s, c)`. The
 * root key is not needed, and a caveat cannot be removed again (HMAC is one-way).
 *
 * What servers enforce — say it plainly to whoever relies on it: aperture checks only the
 * `services` caveat (a later list must be a subset of the earlier one) and
 * `<service>_valid_until` (a later value must not be later; valid while now < value).
 * `<service>_capabilities` and other constraints are enforced only by backends that read
 * them, and caveats a server does not know are ignored (fail-open). Spend limits therefore
 * come from Stipend's policy and budgets, never from caveats.
 *
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { isStipendError, StipendError } from '@stipend/client';
import {
  bytesToUtf8,
  decodeMacaroonV2,
  encodeMacaroonV2,
  utf8ToBytes,
} from '@stipend/client/internal';
import { bytesToHex, fromBase64, toStdBase64 } from './bytes.js';

/** One caveat: first-party when `vid` is absent. */
export interface MacaroonCaveat {
  readonly identifier: Uint8Array;
  readonly location?: string;
  readonly vid?: Uint8Array;
}

/** The fields of a version 2 macaroon. */
export interface MacaroonV2 {
  /** `lsat` for aperture tokens; omitted from the encoding when empty. */
  readonly location?: string;
  readonly identifier: Uint8Array;
  readonly caveats: readonly MacaroonCaveat[];
  /** 32-byte HMAC-SHA256 chain signature. */
  readonly signature: Uint8Array;
}

/** What {@link readL402Token} reports about a token. */
export interface L402TokenInfo {
  readonly location: string;
  /** The aperture identifier (66 bytes: version ‖ payment hash ‖ token id), when it is one. */
  readonly identifier?: {
    readonly version: number;
    readonly paymentHash: string;
    readonly tokenId: string;
  };
  /** First-party caveats as text, in order. */
  readonly caveats: readonly string[];
  /** Services of the last `services` caveat (name and tier). */
  readonly services: readonly { readonly name: string; readonly tier: number }[];
  /** Per service: the earliest `<service>_valid_until`, unix seconds. */
  readonly validUntil: Readonly<Record<string, number>>;
  /** Per service: the last `<service>_capabilities` list. */
  readonly capabilities: Readonly<Record<string, readonly string[]>>;
  /** The earliest expiry of any service (or an `expiration` caveat), ms epoch. */
  readonly expiresAt?: number;
}

/** How to narrow a token. Every field only ever narrows. */
export interface Attenuation {
  /** Keep only these services (must be a subset of the token's). */
  readonly services?: readonly string[];
  /** An earlier expiry, as a Date or unix seconds, written per service as `<svc>_valid_until`. */
  readonly validUntil?: Date | number;
  /** Per service: fewer capabilities (`<svc>_capabilities=a,b`). */
  readonly capabilities?: Readonly<Record<string, readonly string[]>>;
  /** Extra first-party caveats (`condition=value`), appended as given. */
  readonly caveats?: readonly string[];
}

/**
 * Thrown for bytes that are not a v2 macaroon, or an attenuation that would widen. Code
 * `MACAROON_INVALID`; a Stipend error, so `isStipendError(e) && e.code === 'MACAROON_INVALID'`
 * works across copies of the packages.
 *
 * @example
 * ```ts
 * import { isStipendError } from '@stipend/client';
 * import { attenuateL402Token } from '@stipend/wallet-lightning';
 * try {
 *   attenuateL402Token(token, { services: ['other'] });
 * } catch (error) {
 *   if (isStipendError(error) && error.code === 'MACAROON_INVALID') console.warn(error.shortMessage);
 * }
 * ```
 */
export class MacaroonError extends StipendError {
  override name = 'MacaroonError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('MACAROON_INVALID', message, { cause: options.cause });
  }
}

/** Runs a codec call, turning its `MACAROON_INVALID` error into a {@link MacaroonError}. */
function codec<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (isStipendError(error) && error.code === 'MACAROON_INVALID') {
      throw new MacaroonError(error.shortMessage, { cause: error });
    }
    throw error;
  }
}

/**
 * Parses a libmacaroons v2 binary macaroon (strict: order, field types, 32-byte signature,
 * no trailing bytes), with the client's one macaroon codec.
 *
 * @throws {MacaroonError} for anything else.
 * @example
 * ```ts
 * import { decodeMacaroon, fromBase64 } from '@stipend/wallet-lightning';
 * const { identifier, caveats } = decodeMacaroon(fromBase64(token));
 * ```
 */
export function decodeMacaroon(bytes: Uint8Array): MacaroonV2 {
  return codec(() => decodeMacaroonV2(bytes));
}

/**
 * Serialises a macaroon in the libmacaroons v2 binary format (byte-identical to
 * `macaroon@3.0.4` `exportBinary()` and go-macaroon `MarshalBinary()`).
 *
 * @throws {MacaroonError} when the signature is not 32 bytes.
 * @example
 * ```ts
 * import { decodeMacaroon, encodeMacaroon, fromBase64 } from '@stipend/wallet-lightning';
 * const same = encodeMacaroon(decodeMacaroon(fromBase64(token)));
 * ```
 */
export function encodeMacaroon(macaroon: MacaroonV2): Uint8Array {
  return codec(() => encodeMacaroonV2(macaroon));
}

/**
 * Reads an L402 token (base64 v2 macaroon): identifier fields, caveats, services,
 * per-service expiry and capabilities. Throws a {@link MacaroonError} when the token is not
 * a macaroon (an opaque token cannot be inspected or attenuated).
 *
 * @example
 * ```ts
 * import { readL402Token } from '@stipend/wallet-lightning';
 * const info = readL402Token(token);
 * info.identifier?.paymentHash; info.services; info.validUntil.quotes; info.expiresAt;
 * ```
 */
export function readL402Token(token: string): L402TokenInfo {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(token);
  } catch {
    throw new MacaroonError('the token is not base64, so not a macaroon (an opaque token)');
  }
  const macaroon = decodeMacaroon(bytes);
  const caveats = macaroon.caveats
    .filter((c) => c.vid === undefined)
    .map((c) => {
      try {
        return bytesToUtf8(c.identifier);
      } catch {
        return '';
      }
    });
  let services: { name: string; tier: number }[] = [];
  const validUntil: Record<string, number> = {};
  const capabilities: Record<string, string[]> = {};
  let expiresAt: number | undefined;
  const earliest = (ms: number) => {
    if (expiresAt === undefined || ms < expiresAt) expiresAt = ms;
  };
  for (const caveat of caveats) {
    const split = caveat.indexOf('=');
    if (split < 0) continue;
    const condition = caveat.slice(0, split).trim();
    const value = caveat.slice(split + 1).trim();
    if (condition === 'services') {
      services = value.split(',').map((entry) => {
        const [name = '', tier = '0'] = entry.split(':');
        return { name: name.trim(), tier: Number(tier) };
      });
    } else if (condition.endsWith('_valid_until') && /^\d{1,15}$/.test(value)) {
      const service = condition.slice(0, -'_valid_until'.length);
      const seconds = Number(value);
      validUntil[service] = Math.min(validUntil[service] ?? seconds, seconds);
      earliest(seconds * 1000);
    } else if (condition.endsWith('_capabilities')) {
      capabilities[condition.slice(0, -'_capabilities'.length)] = value
        ? value.split(',').map((c) => c.trim())
        : [];
    } else if (condition === 'expiration' && /^\d{1,16}$/.test(value)) {
      earliest(Number(value));
    }
  }
  const id = macaroon.identifier;
  return {
    location: macaroon.location ?? '',
    ...(id.length === 66
      ? {
          identifier: {
            version: (id[0]! << 8) | id[1]!,
            paymentHash: bytesToHex(id.subarray(2, 34)),
            tokenId: bytesToHex(id.subarray(34, 66)),
          },
        }
      : {}),
    caveats,
    services,
    validUntil,
    capabilities,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * Adds first-party caveats to a macaroon without the root key and returns the new token as
 * standard padded base64 (what aperture expects).
 *
 * @example
 * ```ts
 * import { addCaveats } from '@stipend/wallet-lightning';
 * const narrower = addCaveats(token, ['quotes_valid_until=1700000000']);
 * ```
 */
export function addCaveats(token: string, caveats: readonly string[]): string {
  const macaroon = decodeMacaroon(fromBase64(token));
  let signature = macaroon.signature;
  const added: MacaroonCaveat[] = [];
  for (const caveat of caveats) {
    const identifier = utf8ToBytes(caveat);
    signature = hmac(sha256, signature, identifier);
    added.push({ identifier });
  }
  return toStdBase64(
    encodeMacaroon({ ...macaroon, caveats: [...macaroon.caveats, ...added], signature }),
  );
}

/**
 * Narrows an L402 token for a sub-agent without the root key: fewer services, an earlier
 * expiry, fewer capabilities, extra caveats. Refuses (with a {@link MacaroonError}) anything
 * that would widen — a server would reject such a token with a fresh 402. Returns the new
 * token (standard padded base64); the preimage stays the same.
 *
 * Only `services` and `<service>_valid_until` are enforced by aperture; capabilities and
 * custom caveats only by backends that check them. Spend limits come from Stipend's policy.
 *
 * @example
 * ```ts
 * import { attenuateL402Token } from '@stipend/wallet-lightning';
 * const child = attenuateL402Token(token, {
 *   services: ['quotes'],
 *   validUntil: new Date(Date.now() + 10 * 60_000),
 *   capabilities: { quotes: ['read'] },
 * });
 * ```
 */
export function attenuateL402Token(token: string, attenuation: Attenuation): string {
  const info = readL402Token(token);
  const caveats: string[] = [];
  let services = info.services;
  if (attenuation.services) {
    const known = new Map(info.services.map((s) => [s.name, s]));
    if (attenuation.services.length === 0) throw new MacaroonError('keep at least one service');
    services = attenuation.services.map((name) => {
      const entry = known.get(name);
      if (info.services.length > 0 && !entry) {
        throw new MacaroonError(
          `service "${name}" is not in the token (${info.services.map((s) => s.name).join(', ')}); a caveat can only narrow`,
        );
      }
      return entry ?? { name, tier: 0 };
    });
    caveats.push(`services=${services.map((s) => `${s.name}:${s.tier}`).join(',')}`);
  }
  if (attenuation.validUntil !== undefined) {
    const seconds =
      attenuation.validUntil instanceof Date
        ? Math.floor(attenuation.validUntil.getTime() / 1000)
        : Math.floor(attenuation.validUntil);
    if (services.length === 0) {
      throw new MacaroonError('validUntil needs a services caveat to name the services it limits');
    }
    for (const { name } of services) {
      const current = info.validUntil[name];
      if (current !== undefined && seconds > current) {
        throw new MacaroonError(
          `${name}_valid_until=${seconds} is later than the token's ${current}; a caveat can only narrow`,
        );
      }
      caveats.push(`${name}_valid_until=${seconds}`);
    }
  }
  for (const [service, list] of Object.entries(attenuation.capabilities ?? {})) {
    const current = info.capabilities[service];
    const extra = current ? list.filter((c) => !current.includes(c)) : [];
    if (extra.length > 0) {
      throw new MacaroonError(
        `capabilities ${extra.join(', ')} are not in the token's ${service}_capabilities; a caveat can only narrow`,
      );
    }
    caveats.push(`${service}_capabilities=${list.join(',')}`);
  }
  for (const caveat of attenuation.caveats ?? []) {
    if (!caveat.includes('=')) throw new MacaroonError(`caveat "${caveat}" is not condition=value`);
    caveats.push(caveat);
  }
  return addCaveats(token, caveats);
}
