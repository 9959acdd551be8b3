/**
 * The typed-data signatures of the EVM wallet: EIP-3009 `TransferWithAuthorization` and
 * x402's Permit2 witness transfers (`exact` and `upto`).
 *
 * @module
 */
import { type Address, getAddress, type Hex, type LocalAccount } from 'viem';
import {
  EXACT_PERMIT2_TYPES,
  PERMIT2_ADDRESS,
  TRANSFER_WITH_AUTHORIZATION_TYPES,
  UPTO_PERMIT2_TYPES,
  X402_EXACT_PERMIT2_PROXY,
  X402_UPTO_PERMIT2_PROXY,
} from './constants.js';
import { transferAuthorizationDigest } from './digest.js';
import type { Eip3009Plan, Permit2Plan } from './plan.js';

/** Anything that signs EIP-712 typed data for an address (a viem account, a CDP account). */
export type EvmSigner = Pick<LocalAccount, 'address' | 'signTypedData'>;

/** The EIP-3009 authorization as x402 and MPP carry it: numbers as decimal strings. */
export interface SignedEip3009 {
  readonly signature: Hex;
  readonly authorization: {
    readonly from: Address;
    readonly to: Address;
    readonly value: string;
    readonly validAfter: string;
    readonly validBefore: string;
    readonly nonce: Hex;
  };
}

/** x402's Permit2 payload: `{ signature, permit2Authorization }`, numbers as decimal strings. */
export interface SignedPermit2 {
  readonly signature: Hex;
  readonly permit2Authorization: {
    readonly from: Address;
    readonly permitted: { readonly token: Address; readonly amount: string };
    readonly spender: Address;
    readonly nonce: string;
    readonly deadline: string;
    readonly witness:
      | { readonly to: Address; readonly validAfter: string }
      | { readonly to: Address; readonly facilitator: Address; readonly validAfter: string };
  };
}

/**
 * The `sign({ hash })` of a viem account that holds its key in this process (from a private
 * key or a mnemonic): signing our own EIP-712 digest with it gives the same signature as
 * `signTypedData`, several times cheaper. Remote signers (JSON-RPC, browser, CDP) always get
 * the typed data, so that they can show or check what they sign.
 */
function localKeySigner(signer: EvmSigner): ((input: { hash: Hex }) => Promise<Hex>) | undefined {
  const local = signer as { type?: unknown; source?: unknown; sign?: unknown };
  if (local.type !== 'local' || (local.source !== 'privateKey' && local.source !== 'hd')) {
    return undefined;
  }
  return typeof local.sign === 'function'
    ? (local.sign as (input: { hash: Hex }) => Promise<Hex>).bind(signer)
    : undefined;
}

/**
 * Signs an EIP-3009 authorization for the plan, valid from `validAfter` until `validBefore`.
 *
 * @example
 * ```ts
 * import { signEip3009 } from './sign.js';
 * const signed = await signEip3009(account, plan, { validAfter: 0n, validBefore: 1740672154n, nonce });
 * ```
 */
export async function signEip3009(
  signer: EvmSigner,
  plan: Eip3009Plan & { readonly domain: { readonly name: string; readonly version: string } },
  window: { validAfter: bigint; validBefore: bigint; nonce: Hex },
): Promise<SignedEip3009> {
  const from = checksummed(signer.address);
  const domain = {
    name: plan.domain.name,
    version: plan.domain.version,
    chainId: plan.chainId,
    verifyingContract: plan.token,
  };
  const message = {
    from,
    to: plan.to,
    value: plan.value,
    validAfter: window.validAfter,
    validBefore: window.validBefore,
    nonce: window.nonce,
  };
  const hashSigner = localKeySigner(signer);
  const signature = hashSigner
    ? await hashSigner({ hash: transferAuthorizationDigest(domain, message) })
    : await signer.signTypedData({
        domain,
        types: TRANSFER_WITH_AUTHORIZATION_TYPES,
        primaryType: 'TransferWithAuthorization',
        message,
      });
  return {
    signature,
    authorization: {
      from,
      to: plan.to,
      value: plan.value.toString(),
      validAfter: window.validAfter.toString(),
      validBefore: window.validBefore.toString(),
      nonce: window.nonce,
    },
  };
}

/**
 * Signs a Permit2 witness transfer to x402's proxy (`upto` when the plan names a facilitator)
 * with the given uint256 nonce (carried as a decimal string).
 *
 * @example
 * ```ts
 * import { signPermit2 } from './sign.js';
 * const signed = await signPermit2(account, plan, { deadline: 1740672154n, nonce: 42n });
 * ```
 */
export async function signPermit2(
  signer: EvmSigner,
  plan: Permit2Plan,
  window: { deadline: bigint; nonce: bigint },
): Promise<SignedPermit2> {
  const from = checksummed(signer.address);
  const nonce = window.nonce;
  const spender = plan.facilitator ? X402_UPTO_PERMIT2_PROXY : X402_EXACT_PERMIT2_PROXY;
  const domain = { name: 'Permit2', chainId: plan.chainId, verifyingContract: PERMIT2_ADDRESS };
  const permitted = { token: plan.token, amount: plan.amount };
  const signature = plan.facilitator
    ? await signer.signTypedData({
        domain,
        types: UPTO_PERMIT2_TYPES,
        primaryType: 'PermitWitnessTransferFrom',
        message: {
          permitted,
          spender,
          nonce,
          deadline: window.deadline,
          witness: { to: plan.to, facilitator: plan.facilitator, validAfter: 0n },
        },
      })
    : await signer.signTypedData({
        domain,
        types: EXACT_PERMIT2_TYPES,
        primaryType: 'PermitWitnessTransferFrom',
        message: {
          permitted,
          spender,
          nonce,
          deadline: window.deadline,
          witness: { to: plan.to, validAfter: 0n },
        },
      });
  return {
    signature,
    permit2Authorization: {
      from,
      permitted: { token: plan.token, amount: plan.amount.toString() },
      spender,
      nonce: nonce.toString(),
      deadline: window.deadline.toString(),
      witness: plan.facilitator
        ? { to: plan.to, facilitator: plan.facilitator, validAfter: '0' }
        : { to: plan.to, validAfter: '0' },
    },
  };
}

/** The checksummed form of the signer's address (a keccak256 each time otherwise). */
function checksummed(address: Address): Address {
  let sum = checksums.get(address);
  if (sum === undefined) {
    sum = getAddress(address);
    if (checksums.size >= 64) checksums.delete(checksums.keys().next().value!);
    checksums.set(address, sum);
  }
  return sum;
}

const checksums = new Map<string, Address>();
