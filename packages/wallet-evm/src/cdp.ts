/**
 * `@stipend/wallet-evm/cdp`: `cdpAccount`, a signer backed by a Coinbase Developer Platform
 * (CDP) server wallet, for `evmWallet({ account })`.
 *
 * Package: `@coinbase/cdp-sdk` (an optional peer, install it to use this entry). It is the SDK
 * Coinbase maintains for CDP's v2 Server Wallets (keys held in CDP's enclave, every signature
 * a call to the Wallet API); the older `@coinbase/coinbase-sdk` served the v1 wallets and is no
 * longer where new wallet features land. This entry is apart from `@stipend/wallet-evm` so
 * that the main entry bundles for browsers without the SDK; the SDK itself is loaded only when
 * `cdpAccount` makes a client.
 *
 * @module
 */
import type { CdpClient } from '@coinbase/cdp-sdk';
import { getAddress } from 'viem';
import type { EvmSigner } from './sign.js';

/** Options of {@link cdpAccount}. */
export interface CdpAccountOptions {
  /** A configured client. Without one, a client is made from the credentials below. */
  readonly client?: CdpClient;
  /** CDP API key id (default: the SDK reads `CDP_API_KEY_ID`). */
  readonly apiKeyId?: string;
  /** CDP API key secret (default: `CDP_API_KEY_SECRET`). */
  readonly apiKeySecret?: string;
  /** CDP wallet secret, needed to sign (default: `CDP_WALLET_SECRET`). */
  readonly walletSecret?: string;
  /** API base URL (default: CDP's). Tests point it at a local stand-in. */
  readonly basePath?: string;
  /** The server account, by address… */
  readonly address?: string;
  /** …or by name. */
  readonly name?: string;
  /**
   * Let the SDK send its usage and error telemetry to Coinbase. Default false: unless the
   * variables are already set, `DISABLE_CDP_USAGE_TRACKING` and `DISABLE_CDP_ERROR_REPORTING`
   * are set to `true` for this process (the SDK reads only these variables).
   */
  readonly telemetry?: boolean;
}

/**
 * Loads a CDP server account and returns it as a signer for `evmWallet`: every signature is
 * a `POST /v2/evm/accounts/{address}/sign/typed-data` through the SDK (the private key never
 * leaves CDP). Node only (the SDK requires Node ≥ 19).
 *
 * @example
 * ```ts
 * import { evmWallet } from '@stipend/wallet-evm';
 * import { cdpAccount } from '@stipend/wallet-evm/cdp';
 *
 * const account = await cdpAccount({ name: 'agent-payer' }); // credentials from CDP_* variables
 * const wallet = evmWallet({ account });
 * ```
 */
export async function cdpAccount(options: CdpAccountOptions): Promise<EvmSigner> {
  if (!options.address && !options.name) {
    throw new TypeError('cdpAccount needs the server account: pass { address } or { name }.');
  }
  if (!options.telemetry) quietTelemetry();
  let client = options.client;
  if (!client) {
    const { CdpClient } = await import('@coinbase/cdp-sdk');
    client = new CdpClient({
      ...(options.apiKeyId ? { apiKeyId: options.apiKeyId } : {}),
      ...(options.apiKeySecret ? { apiKeySecret: options.apiKeySecret } : {}),
      ...(options.walletSecret ? { walletSecret: options.walletSecret } : {}),
      ...(options.basePath ? { basePath: options.basePath } : {}),
    });
  }
  const account = await client.evm.getAccount(
    options.address ? { address: getAddress(options.address) } : { name: options.name! },
  );
  const signer: EvmSigner = {
    address: getAddress(account.address),
    signTypedData: ((parameters: Parameters<EvmSigner['signTypedData']>[0]) =>
      account.signTypedData(parameters as never)) as EvmSigner['signTypedData'],
  };
  return signer;
}

function quietTelemetry(): void {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  if (!env) return;
  env.DISABLE_CDP_USAGE_TRACKING ??= 'true';
  env.DISABLE_CDP_ERROR_REPORTING ??= 'true';
}
