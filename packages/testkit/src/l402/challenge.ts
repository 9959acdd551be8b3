/**
 * `WWW-Authenticate` shapes a client meets in the wild (protocols/l402.md §1.1–1.2). The
 * default is aperture's: two lines, `LSAT` first, `macaroon=` and `invoice=` quoted, the
 * same token and invoice in both.
 */
import { encodeBase64UrlJson } from '@stipend/client/internal';
export type L402ChallengeStyle =
  /** aperture: `LSAT macaroon="…", invoice="…"` then `L402 macaroon="…", invoice="…"` (two lines). */
  | 'aperture'
  /** bLIP-0026: one `L402 macaroon="…", invoice="…"` line. */
  | 'l402'
  /** Legacy: one `LSAT macaroon="…", invoice="…"` line. */
  | 'lsat'
  /** Current L402 spec: `L402 version="0", token="…", invoice="…"`. */
  | 'token'
  /** Alby server helper: `L402 version="0" token="…", invoice="…"` (no comma after version). */
  | 'missing-comma'
  /** Fewsats: `L402 version=0 macaroon=… invoice=…` (unquoted, space separated). */
  | 'unquoted'
  /** lsat-js vectors: `L402 macaroon="…" invoice="…"` (space, no comma). */
  | 'space-separated'
  /** aperture's two challenges folded into one comma-joined header line. */
  | 'folded'
  /** Lower-case scheme: `l402 macaroon="…", invoice="…"`. */
  | 'lowercase'
  /** `L402 version="1", token="…", invoice="…"`: a version a client must not pay. */
  | 'unsupported-version'
  /** aperture with MPP on: the two lines plus `Payment id=…, method="lightning", intent="charge", request=…`. */
  | 'with-payment'
  /** A `Bearer realm="…"` line before a single `L402 macaroon="…", invoice="…"` line. */
  | 'with-bearer';

/** Everything a challenge line can carry. */
export interface ChallengeParts {
  /** Standard base64 macaroon. */
  macaroon: string;
  /** BOLT 11 invoice. */
  invoice: string;
  /** Realm for `Bearer`/`Payment` lines (the server's host). */
  realm: string;
  /** The MPP `Payment` challenge line, present for `with-payment`. */
  paymentChallenge?: string;
}

/** A custom renderer: returns the `WWW-Authenticate` header lines. */
export type ChallengeRenderer = (parts: ChallengeParts) => string[];

/**
 * The `WWW-Authenticate` lines of a 402 for a style (one array entry per header line).
 *
 * @example
 * ```ts
 * import { renderL402Challenge } from '@stipend/testkit/l402';
 * renderL402Challenge('aperture', { macaroon: 'AgE=', invoice: 'lnbcrt1…', realm: 'x' });
 * // ['LSAT macaroon="AgE=", invoice="lnbcrt1…"', 'L402 macaroon="AgE=", invoice="lnbcrt1…"']
 * ```
 */
export function renderL402Challenge(
  style: L402ChallengeStyle | ChallengeRenderer,
  parts: ChallengeParts,
): string[] {
  if (typeof style === 'function') return style(parts);
  const { macaroon: m, invoice: i } = parts;
  const pair = `macaroon="${m}", invoice="${i}"`;
  switch (style) {
    case 'aperture':
      return [`LSAT ${pair}`, `L402 ${pair}`];
    case 'l402':
      return [`L402 ${pair}`];
    case 'lsat':
      return [`LSAT ${pair}`];
    case 'token':
      return [`L402 version="0", token="${m}", invoice="${i}"`];
    case 'missing-comma':
      return [`L402 version="0" token="${m}", invoice="${i}"`];
    case 'unquoted':
      return [`L402 version=0 macaroon=${m} invoice=${i}`];
    case 'space-separated':
      return [`L402 macaroon="${m}" invoice="${i}"`];
    case 'folded':
      return [`LSAT ${pair}, L402 ${pair}`];
    case 'lowercase':
      return [`l402 ${pair}`];
    case 'unsupported-version':
      return [`L402 version="1", token="${m}", invoice="${i}"`];
    case 'with-payment': {
      if (!parts.paymentChallenge) throw new Error('with-payment needs a Payment challenge line');
      return [`LSAT ${pair}`, `L402 ${pair}`, parts.paymentChallenge];
    }
    case 'with-bearer':
      return [`Bearer realm="${parts.realm}"`, `L402 ${pair}`];
    default: {
      const unknown: never = style;
      throw new Error(`unknown challenge style ${String(unknown)}`);
    }
  }
}

/**
 * Builds an MPP `Payment` challenge for the Lightning `charge` method (request =
 * base64url of the JCS JSON `{amount, currency:"sat", methodDetails:{invoice, network,
 * paymentHash}}`), as aperture adds when MPP is enabled.
 *
 * @example
 * ```ts
 * import { mppLightningChallenge } from '@stipend/testkit/l402';
 * mppLightningChallenge({ id: 'abc', realm: '127.0.0.1:4000', amountSat: 100n, invoice, paymentHash, network: 'regtest' });
 * ```
 */
export function mppLightningChallenge(input: {
  id: string;
  realm: string;
  amountSat: bigint;
  invoice: string;
  paymentHash: string;
  network: string;
}): string {
  // Keys in lexicographic order and string values only: this JSON is already JCS-canonical.
  const encoded = encodeBase64UrlJson({
    amount: input.amountSat.toString(),
    currency: 'sat',
    methodDetails: {
      invoice: input.invoice,
      network: input.network,
      paymentHash: input.paymentHash,
    },
  });
  return `Payment id="${input.id}", realm="${input.realm}", method="lightning", intent="charge", request="${encoded}"`;
}
