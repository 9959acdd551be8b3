import {
  type Address,
  concat,
  custom,
  type EIP1193RequestFn,
  encodeAbiParameters,
  type Hex,
  http,
  keccak256,
  type Transport,
} from 'viem';
import { Transaction } from 'viem/tempo';
import { TIP1034_ESCROW } from './escrow.js';

/** The Tempo nonce precompile, where anvil 1.7.1 keeps its per-lane 2D nonces. */
export const TEMPO_NONCE_PRECOMPILE = '0x4e4F4E4345000000000000000000000000000000' as const;
/** TIP-1009's expiring-nonce lane: `nonceKey = 2^256 - 1`, `nonce = 0`. */
const EXPIRING_NONCE_KEY = 2n ** 256n - 1n;
const ZERO_WORD = `0x${'0'.repeat(64)}` as Hex;

/** Options of {@link tempoDevTransport}. */
export interface TempoDevTransportOptions {
  /**
   * Where testkit escrows sit (a live set: add to it when placing another). Default: the
   * TIP-1034 precompile address only. The transaction context is written only into these.
   */
  readonly escrows?: Set<string>;
  /** Called with each Tempo transaction hash the transport broadcast (for tests' accounting). */
  readonly onBroadcast?: (hash: Hex, sender: Address) => void;
}

/**
 * A viem transport to `anvil --network tempo` (1.7.1) that makes it behave, for the calls
 * mppx and Stipend make, like a Tempo node. Every adaptation is for a fact measured on this
 * anvil (see `docs/mpp-sessions.md`):
 *
 * 1. `eth_fillTransaction` ignores the `calls` of a Tempo (0x76) request: it estimates an
 *    empty call (75 100 gas for a channel open that needs 148 316), so the signed transaction
 *    runs out of gas. A request with ONE call is rewritten to anvil's top-level `to`/`input`.
 * 2. Expiring nonces (TIP-1009: `nonceKey = 2^256-1`, `nonce = 0`, replay-protected by
 *    transaction hash) are kept by anvil as an ordinary 2D nonce lane: the first such
 *    transaction of a sender is mined, every later one (nonce 0 again) is dropped without an
 *    error. Before broadcasting one, this transport resets the sender's lane in the nonce
 *    precompile's storage to 0, and refuses a transaction hash it already broadcast (the
 *    replay protection the real node gives).
 * 3. The escrow's transaction context: EVM code cannot see its own transaction's expiring-nonce
 *    hash, which TIP-1034 binds into the channel id. This transport computes it from the raw
 *    transaction (keccak256(encodeForSigning(tx) || sender), the node's formula) and writes it
 *    into the testkit escrow's `pendingNonceHash[sender]` slot just before broadcasting.
 *
 * Broadcasts are serialised (anvil automines, so each one is mined before the next starts).
 *
 * @example
 * ```ts
 * import { createClient } from 'viem';
 * import { startTempoNode, tempoDevTransport } from '@stipend/testkit/tempo';
 * const node = await startTempoNode();
 * const client = createClient({ chain: node.chain, transport: tempoDevTransport(node.rpcUrl) });
 * ```
 */
export function tempoDevTransport(
  rpcUrl: string,
  options: TempoDevTransportOptions = {},
): Transport {
  const escrows = options.escrows ?? new Set([TIP1034_ESCROW.toLowerCase()]);
  const base = http(rpcUrl, { retryCount: 0 })({});
  const broadcast = new Set<string>();
  let queue: Promise<unknown> = Promise.resolve();

  async function raw(method: string, params: unknown[]): Promise<unknown> {
    return base.request({ method, params } as never);
  }

  async function prepareContext(serialized: Hex): Promise<void> {
    if (!serialized.startsWith('0x76') && !serialized.startsWith('0x78')) return;
    const tx = Transaction.deserialize(serialized as never) as {
      from?: Address;
      calls?: readonly { to?: Address }[];
      nonceKey?: bigint;
      signature?: unknown;
      feePayerSignature?: unknown;
    };
    const sender = tx.from;
    if (!sender) return;
    const forSigning = await Transaction.serialize({
      ...(tx as object),
      signature: undefined,
      ...(tx.feePayerSignature !== undefined ? { feePayerSignature: null } : {}),
    } as never);
    const nonceHash = keccak256(concat([forSigning as Hex, sender]));
    const contextSlot = keccak256(
      encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [sender, 0n]),
    );
    const targets = new Set(
      (tx.calls ?? []).map((c) => c.to?.toLowerCase()).filter((to) => to && escrows.has(to)),
    );
    for (const escrow of targets) await raw('anvil_setStorageAt', [escrow, contextSlot, nonceHash]);
    if (tx.nonceKey === EXPIRING_NONCE_KEY) {
      const inner = keccak256(
        encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [sender, 0n]),
      );
      const laneSlot = keccak256(
        encodeAbiParameters(
          [{ type: 'uint256' }, { type: 'bytes32' }],
          [EXPIRING_NONCE_KEY, inner],
        ),
      );
      await raw('anvil_setStorageAt', [TEMPO_NONCE_PRECOMPILE, laneSlot, ZERO_WORD]);
    }
  }

  const request = (async ({ method, params }: { method: string; params?: unknown }) => {
    const list = (Array.isArray(params) ? params : []) as unknown[];
    if (method === 'eth_fillTransaction' || method === 'eth_estimateGas') {
      const first = list[0] as
        | { calls?: { to?: string; data?: string; input?: string; value?: string }[] }
        | undefined;
      if (first && Array.isArray(first.calls) && first.calls.length === 1) {
        const { calls, ...rest } = first;
        const call = calls[0]!;
        const value = call.value && call.value !== '0x' ? { value: call.value } : {};
        const rewritten = {
          ...rest,
          to: call.to,
          input: call.data ?? call.input ?? '0x',
          ...value,
        };
        return raw(method, [rewritten, ...list.slice(1)]);
      }
      return raw(method, list);
    }
    if (method === 'eth_sendRawTransaction' || method === 'eth_sendRawTransactionSync') {
      const serialized = list[0] as Hex;
      const run = async () => {
        const hash = keccak256(serialized);
        if (broadcast.has(hash)) {
          throw new Error(
            `replayed transaction ${hash} (the testkit refuses a transaction hash it already broadcast)`,
          );
        }
        await prepareContext(serialized);
        const result = await raw(method, list);
        broadcast.add(hash);
        const from = (() => {
          try {
            return (Transaction.deserialize(serialized as never) as { from?: Address }).from;
          } catch {
            return undefined;
          }
        })();
        if (from) options.onBroadcast?.(hash, from);
        return result;
      };
      const next = queue.then(run, run);
      queue = next.catch(() => {});
      return next;
    }
    return raw(method, list);
  }) as EIP1193RequestFn;

  return custom({ request }, { retryCount: 0 });
}
