/**
 * The EIP-712 digest of an EIP-3009 `TransferWithAuthorization`, computed directly: the type
 * hash once, each token's domain separator once, then one keccak for the struct and one for
 * the digest. It equals viem's `hashTypedData` for these types (tested), at a small fraction
 * of its cost, and lets the wallet sign a local key's payment with `account.sign({ hash })`.
 *
 * @module
 */
import { type Address, type Hex, keccak256, stringToHex } from 'viem';

const DOMAIN_TYPE =
  'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)';
const TRANSFER_TYPE =
  'TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)';

let typeHashes: { domain: string; transfer: string } | undefined;
const separators = new Map<string, string>();

/** A 32-byte ABI word (64 hex digits, no prefix) of an address. */
function addressWord(address: Address): string {
  return address.slice(2).toLowerCase().padStart(64, '0');
}

/** A 32-byte ABI word of a uint256. */
function uintWord(value: bigint): string {
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`${value} is not a uint256`);
  return value.toString(16).padStart(64, '0');
}

function hashes(): { domain: string; transfer: string } {
  typeHashes ??= {
    domain: keccak256(stringToHex(DOMAIN_TYPE)).slice(2),
    transfer: keccak256(stringToHex(TRANSFER_TYPE)).slice(2),
  };
  return typeHashes;
}

/**
 * The EIP-712 domain separator of an EIP-3009 token (cached per token and domain).
 *
 * @example
 * ```ts
 * import { domainSeparator } from './digest.js';
 * domainSeparator({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' });
 * // '0x71f17a3b2ff373b803d70a5a07c046c1a2bc8e89c09ef722fcb047abe94c9818'
 * ```
 */
export function domainSeparator(domain: {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}): Hex {
  const key = `${domain.chainId}|${domain.verifyingContract.toLowerCase()}|${domain.name}|${domain.version}`;
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = keccak256(
      `0x${hashes().domain}${keccak256(stringToHex(domain.name)).slice(2)}${keccak256(stringToHex(domain.version)).slice(2)}${uintWord(BigInt(domain.chainId))}${addressWord(domain.verifyingContract)}`,
    ).slice(2);
    if (separators.size > 256) separators.clear();
    separators.set(key, separator);
  }
  return `0x${separator}`;
}

/**
 * The EIP-712 digest a `TransferWithAuthorization` signature signs.
 *
 * @example
 * ```ts
 * import { transferAuthorizationDigest } from './digest.js';
 * const hash = transferAuthorizationDigest(domain, { from, to, value: 10000n, validAfter: 0n, validBefore, nonce });
 * const signature = await account.sign({ hash });
 * ```
 */
export function transferAuthorizationDigest(
  domain: { name: string; version: string; chainId: number; verifyingContract: Address },
  message: {
    from: Address;
    to: Address;
    value: bigint;
    validAfter: bigint;
    validBefore: bigint;
    nonce: Hex;
  },
): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(message.nonce)) throw new RangeError('nonce is not bytes32');
  const struct = keccak256(
    `0x${hashes().transfer}${addressWord(message.from)}${addressWord(message.to)}${uintWord(message.value)}${uintWord(message.validAfter)}${uintWord(message.validBefore)}${message.nonce.slice(2).toLowerCase()}`,
  ).slice(2);
  return keccak256(`0x1901${domainSeparator(domain).slice(2)}${struct}`);
}
