import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  artifactPath,
  CONTRACTS,
  compileContracts,
  renderArtifactModule,
} from '../../scripts/compile-token.mjs';
import * as multicall3Artifact from './multicall3-artifact.js';
import * as tokenArtifact from './token-artifact.js';

describe('committed contract artifacts', () => {
  // One solc-js compilation (about a second) shared by the assertions below.
  const compiled = compileContracts();

  it('token-artifact.ts matches a fresh compilation of contracts/EIP3009Token.sol', () => {
    const fresh = compiled.EIP3009Token;
    expect(fresh).toBeDefined();
    expect(tokenArtifact.bytecode).toBe(fresh?.bytecode);
    expect(tokenArtifact.deployedBytecode).toBe(fresh?.deployedBytecode);
    expect(tokenArtifact.abi).toEqual(fresh?.abi);
  });

  it('multicall3-artifact.ts matches a fresh compilation of contracts/Multicall3.sol', () => {
    const fresh = compiled.Multicall3;
    expect(fresh).toBeDefined();
    expect(multicall3Artifact.deployedBytecode).toBe(fresh?.deployedBytecode);
    expect(multicall3Artifact.abi).toEqual(fresh?.abi);
  });

  it('the generated files are byte-for-byte what the script would write', () => {
    for (const contract of CONTRACTS) {
      const artifact = compiled[contract.name];
      if (!artifact) throw new Error(`no compiled artifact for ${contract.name}`);
      const onDisk = readFileSync(artifactPath(contract), 'utf8');
      // If this fails: node packages/testkit/scripts/compile-token.mjs
      expect(onDisk).toBe(renderArtifactModule(contract, artifact));
    }
  });

  it('the token exposes both transferWithAuthorization overloads and the EIP-3009 surface', () => {
    const functions = tokenArtifact.abi.filter((item) => item.type === 'function');
    const overloads = functions
      .filter((item) => item.name === 'transferWithAuthorization')
      .map((item) => item.inputs.map((input) => input.type).join(','));
    expect(overloads.sort()).toEqual([
      'address,address,uint256,uint256,uint256,bytes32,bytes',
      'address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32',
    ]);
    const names = new Set<string>(functions.map((item) => item.name));
    for (const name of [
      'authorizationState',
      'DOMAIN_SEPARATOR',
      'receiveWithAuthorization',
      'mint',
    ]) {
      expect(names.has(name)).toBe(true);
    }
    const events = tokenArtifact.abi.filter((item) => item.type === 'event').map((e) => e.name);
    expect(events).toEqual(expect.arrayContaining(['Transfer', 'AuthorizationUsed']));
  });
});
