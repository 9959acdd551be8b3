import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import solc from 'solc';
import type { Abi, Hex } from 'viem';

/**
 * The TIP-1034 channel-escrow precompile address (`tip20ChannelEscrow` in mppx, `Channel.address`
 * in `ox/tempo`). `anvil --network tempo` 1.7.1 has no code there; the testkit places its own.
 */
export const TIP1034_ESCROW = '0x4d50500000000000000000000000000000000000' as const;

/** The compiled testkit escrow (`contracts/ChannelEscrow.sol`). */
export interface EscrowArtifact {
  readonly abi: Abi;
  /** Runtime code, placed with `anvil_setCode` (no constructor runs; the contract needs none). */
  readonly deployedBytecode: Hex;
}

let cached: EscrowArtifact | undefined;

/**
 * Compiles the testkit's TIP-1034 escrow stand-in (`contracts/ChannelEscrow.sol`, our own code
 * written from the interface) with solc-js, in process (about a second; cached per process).
 *
 * @example
 * ```ts
 * import { compileChannelEscrow } from '@stipend/testkit/tempo';
 * const { deployedBytecode } = compileChannelEscrow();
 * ```
 */
export function compileChannelEscrow(): EscrowArtifact {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const content = readFileSync(join(here, 'contracts', 'ChannelEscrow.sol'), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'ChannelEscrow.sol': { content } },
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: 'cancun',
      outputSelection: { '*': { ChannelEscrow: ['abi', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<
      string,
      Record<string, { abi: Abi; evm: { deployedBytecode: { object: string } } }>
    >;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(
      `solc ${solc.version()} failed to compile ChannelEscrow.sol:\n${errors.map((e) => e.formattedMessage).join('\n')}`,
    );
  }
  const compiled = output.contracts?.['ChannelEscrow.sol']?.ChannelEscrow;
  if (!compiled) throw new Error('solc output has no ChannelEscrow contract');
  cached = Object.freeze({
    abi: compiled.abi,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}` as Hex,
  });
  return cached;
}
