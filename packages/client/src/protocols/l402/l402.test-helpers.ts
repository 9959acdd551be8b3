/**
 * Test fixtures for the L402 adapter: real signed BOLT 11 invoices and real v2 macaroons from
 * the testkit, turned into the `ChallengeInput` the core would hand the adapter.
 */
import {
  bytesToHex,
  createInvoice,
  createNodeKey,
  type L402ChallengeStyle,
  type LightningNetworkName,
  mintL402Macaroon,
  RootKeyStore,
  randomBytes32,
  renderL402Challenge,
  sha256Hex,
} from '@stipend/testkit/l402';
import type { ChallengeInput } from '../adapter.js';
import { parseWwwAuthenticateLenient } from '../www-authenticate.js';

export const NODE = createNodeKey();
const keys = new RootKeyStore();

export interface Minted {
  macaroon: string;
  invoice: string;
  paymentHash: string;
  preimage: string;
  tokenId: string;
}

/** A real token + invoice pair, as an L402 server would mint it. */
export function mint(
  options: {
    amountMsat?: bigint | null;
    network?: LightningNetworkName;
    caveats?: string[];
    expirySeconds?: number | null;
    timestamp?: number;
    /** Bind the macaroon to another payment hash than the invoice's. */
    macaroonHash?: string;
    includePayeeNodeKey?: boolean;
  } = {},
): Minted {
  const preimage = bytesToHex(randomBytes32());
  const paymentHash = sha256Hex(Buffer.from(preimage, 'hex'));
  const amountMsat = options.amountMsat === undefined ? 100_000n : options.amountMsat;
  const invoice = createInvoice({
    nodeKey: NODE,
    network: options.network ?? 'regtest',
    paymentHash,
    description: 'L402',
    ...(amountMsat === null ? {} : { amountMsat }),
    ...(options.expirySeconds === undefined ? {} : { expirySeconds: options.expirySeconds }),
    ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    ...(options.includePayeeNodeKey ? { includePayeeNodeKey: true } : {}),
  });
  const minted = mintL402Macaroon(
    keys,
    options.macaroonHash ?? paymentHash,
    options.caveats ?? ['services=quotes:0'],
  );
  return {
    macaroon: minted.macaroon,
    invoice: invoice.bolt11,
    paymentHash,
    preimage,
    tokenId: minted.tokenId,
  };
}

/** The `ChallengeInput` for a 402 carrying these `WWW-Authenticate` lines (joined as fetch does). */
export function challengeInput(
  lines: readonly string[],
  url = 'https://api.example.com/quote',
  now = Date.now(),
): ChallengeInput {
  const headers = new Headers();
  for (const line of lines) headers.append('www-authenticate', line);
  const value = headers.get('www-authenticate') ?? '';
  return {
    status: 402,
    headers,
    url: new URL(url),
    method: 'GET',
    challenges: parseWwwAuthenticateLenient(value).challenges,
    bodyText: async () => undefined,
    now,
  };
}

/** A challenge input in one of the testkit's server styles. */
export function styled(style: L402ChallengeStyle, minted: Minted, url?: string): ChallengeInput {
  const lines = renderL402Challenge(style, {
    macaroon: minted.macaroon,
    invoice: minted.invoice,
    realm: 'api.example.com',
    paymentChallenge:
      'Payment id="x", realm="api.example.com", method="lightning", intent="charge", request="e30"',
  });
  return challengeInput(lines, url);
}
