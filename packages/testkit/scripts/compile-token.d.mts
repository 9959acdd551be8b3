// Types for compile-token.mjs (imported by src/chain/artifacts.test.ts).

export interface ContractSpec {
  readonly name: string;
  readonly source: string;
  readonly output: string;
}

export interface CompiledContract {
  readonly abi: unknown[];
  readonly bytecode: `0x${string}`;
  readonly deployedBytecode: `0x${string}`;
}

export declare const CONTRACTS: readonly ContractSpec[];
export declare const SOLC_SETTINGS: Record<string, unknown>;
export declare function compileContracts(): Record<string, CompiledContract>;
export declare function renderArtifactModule(
  contract: Pick<ContractSpec, 'name' | 'source'>,
  artifact: CompiledContract,
): string;
export declare function artifactPath(contract: Pick<ContractSpec, 'output'>): string;
