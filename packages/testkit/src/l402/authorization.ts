/** A parsed `Authorization: L402|LSAT <token>:<preimage>` value. */
export interface L402Authorization {
  scheme: 'L402' | 'LSAT';
  /** The token exactly as sent (aperture expects standard padded base64). */
  macaroon: string;
  /** 64 lowercase hex characters. */
  preimage: string;
}

// aperture (`l402/header.go`): upper-case scheme, one space, a single token, ':' and exactly
// 64 lowercase hex characters. Anchored here so trailing garbage is refused too.
const AUTHORIZATION = /^(LSAT|L402) ([^\s:,]+):([a-f0-9]{64})$/;

/**
 * Parses an L402 `Authorization` value as strictly as aperture does: `L402` or `LSAT`
 * (upper-case) + one space + one token + `:` + 64 lowercase hex. Returns null otherwise
 * (lower-case scheme, uppercase hex, several comma-separated tokens, …).
 *
 * @example
 * ```ts
 * import { parseL402Authorization } from '@stipend/testkit/l402';
 * parseL402Authorization(`L402 ${token}:${preimage}`); // { scheme: 'L402', macaroon: token, preimage }
 * ```
 */
export function parseL402Authorization(value: string | undefined): L402Authorization | null {
  if (value === undefined) return null;
  const match = AUTHORIZATION.exec(value);
  if (!match) return null;
  return {
    scheme: match[1] as 'L402' | 'LSAT',
    macaroon: match[2] as string,
    preimage: match[3] as string,
  };
}
