import { Mppx, tempo } from 'mppx/server';
import type { Account, Address } from 'viem';
import { startTestServer } from '../server/http.js';
import { PATH_USD, type TempoNode } from './node.js';

/** What the server told the client in one `Payment-Receipt` (its own accounting). */
export interface SessionReceiptSeen {
  readonly channelId: string;
  readonly acceptedCumulative: bigint;
  readonly spent: bigint;
  readonly units: number | undefined;
  readonly txHash: string | undefined;
}

/** A running real mppx `tempo/session` server. */
export interface MppxSessionServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The paid route (`/metered`): one unit per request. */
  readonly url: string;
  /** The payee (the server's account, which also broadcasts and closes). */
  readonly payee: Address;
  /** Requests the route handler served (after the session charged them). */
  served(): number;
  /** Every session receipt the server sent, oldest first. */
  readonly receipts: readonly SessionReceiptSeen[];
  /** The server's last word on `channelId`: accepted cumulative voucher and spent. */
  accounting(channelId: string): SessionReceiptSeen | undefined;
  close(): Promise<void>;
}

/** Options of {@link startMppxSessionServer}. */
export interface StartMppxSessionServerOptions {
  readonly node: TempoNode;
  /** The payee and broadcaster (holds pathUSD for fees). */
  readonly account: Account;
  /** Price per request, in pathUSD (decimal string). Default `'0.01'`. */
  readonly amount?: string;
  /** The escrow the server names (`escrowContract`). Default: the node's (TIP-1034 address). */
  readonly escrow?: Address;
  /**
   * Sponsor the client's fees (mppx `feePayer`): the client signs type 0x78 transactions
   * with a placeholder fee-payer signature and this account co-signs. Default: off (0x76).
   */
  readonly feePayer?: Account;
  /** Suggested deposit, pathUSD. Default `'1'`. */
  readonly suggestedDeposit?: string;
  /**
   * Rewrites every response before it leaves (a hostile server: a 402 asking for more, a
   * receipt claiming more). Default: none.
   */
  readonly rewrite?: (response: Response, request: Request) => Response | Promise<Response>;
}

/**
 * The REAL `mppx` 0.11 `tempo.session` server (`sessionProtocol: "v2"`, TIP-1034), on real HTTP at
 * 127.0.0.1, against a {@link TempoNode}: it broadcasts the client's signed open and top-up
 * transactions, verifies vouchers, charges one unit per request and closes on chain. Nothing of
 * mppx is replaced; its chain client uses the testkit's Tempo transport.
 *
 * @example
 * ```ts
 * import { privateKeyToAccount } from 'viem/accounts';
 * import { startMppxSessionServer, startTempoNode } from '@stipend/testkit/tempo';
 * const node = await startTempoNode();
 * const server = await startMppxSessionServer({ node, account: privateKeyToAccount(key) });
 * const res = await fetch(server.url); // 402 with a tempo session challenge
 * ```
 */
export async function startMppxSessionServer(
  options: StartMppxSessionServerOptions,
): Promise<MppxSessionServer> {
  const { node, account } = options;
  const amount = options.amount ?? '0.01';
  const client = node.client();
  const mppx = Mppx.create({
    secretKey: `stipend-testkit-tempo-session-${crypto.randomUUID()}`,
    realm: '127.0.0.1',
    methods: [
      tempo.session({
        account,
        currency: PATH_USD,
        recipient: account.address,
        chainId: node.chain.id,
        escrowContract: options.escrow ?? node.escrow,
        feeToken: PATH_USD,
        amount,
        suggestedDeposit: options.suggestedDeposit ?? '1',
        unitType: 'request',
        getClient: () => client,
        ...(options.feePayer ? { feePayer: options.feePayer } : {}),
      } as never),
    ],
  });
  let served = 0;
  const receipts: SessionReceiptSeen[] = [];
  const note = (response: Response) => {
    const header = response.headers.get('payment-receipt');
    if (!header) return;
    try {
      const json = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      if (typeof json.channelId !== 'string') return;
      receipts.push({
        channelId: json.channelId,
        acceptedCumulative: BigInt(String(json.acceptedCumulative ?? '0')),
        spent: BigInt(String(json.spent ?? '0')),
        units: typeof json.units === 'number' ? json.units : undefined,
        txHash: typeof json.txHash === 'string' ? json.txHash : undefined,
      });
    } catch {
      // not a session receipt
    }
  };
  const handler = async (request: Request): Promise<Response> => {
    const session = (
      mppx as unknown as {
        session: (o: { amount: string; unitType: string }) => (r: Request) => Promise<{
          status: number;
          challenge: Response;
          withReceipt: (r: Response) => Response;
        }>;
      }
    ).session({ amount, unitType: 'request' });
    const result = await session(request);
    let response: Response;
    if (result.status === 402) response = result.challenge;
    else {
      const body = Response.json({ ok: true, n: served + 1 });
      response = result.withReceipt(body);
      if (response.status >= 200 && response.status < 300 && response.body !== null) served++;
    }
    note(response);
    return options.rewrite ? options.rewrite(response, request) : response;
  };
  const http = await startTestServer(handler);
  return {
    origin: http.origin,
    url: `${http.origin}/metered`,
    payee: account.address,
    served: () => served,
    receipts,
    accounting: (channelId) =>
      receipts.filter((r) => r.channelId.toLowerCase() === channelId.toLowerCase()).at(-1),
    close: () => http.close(),
  };
}
