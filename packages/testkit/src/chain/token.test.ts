import { type Address, type Hex, hashDomain, parseEventLogs } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalChain, startChain } from './chain.js';
import { devAccount } from './dev-accounts.js';
import {
  randomAuthorizationNonce,
  signTransferAuthorization,
  type TransferAuthorization,
} from './eip3009.js';
import { MULTICALL3_ADDRESS } from './multicall.js';
import { abi as multicall3Abi } from './multicall3-artifact.js';
import { authorizationState, deployToken } from './token.js';
import { abi as tokenAbi } from './token-artifact.js';

const payer = devAccount(4);
const relayer = devAccount(1);
const payee = devAccount(2).address;

let chain: LocalChain;

beforeAll(async () => {
  chain = await startChain();
  await chain.mint(payer.address, 10_000_000n);
});

afterAll(async () => {
  await chain?.stop();
});

function now(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

function authorization(overrides: Partial<TransferAuthorization> = {}): TransferAuthorization {
  return {
    from: payer.address,
    to: payee,
    value: 1000n,
    validAfter: 0n,
    validBefore: now() + 300n,
    nonce: randomAuthorizationNonce(),
    ...overrides,
  };
}

function args(a: TransferAuthorization) {
  return [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce] as const;
}

async function submitVrs(a: TransferAuthorization, v: number, r: Hex, s: Hex): Promise<Hex> {
  const hash = await chain.walletFor(relayer).writeContract({
    address: chain.token.address,
    abi: tokenAbi,
    functionName: 'transferWithAuthorization',
    args: [...args(a), v, r, s],
  });
  await chain.publicClient.waitForTransactionReceipt({ hash });
  return hash;
}

async function submitBytes(a: TransferAuthorization, signature: Hex): Promise<Hex> {
  const hash = await chain.walletFor(relayer).writeContract({
    address: chain.token.address,
    abi: tokenAbi,
    functionName: 'transferWithAuthorization',
    args: [...args(a), signature],
  });
  await chain.publicClient.waitForTransactionReceipt({ hash });
  return hash;
}

describe('startChain', () => {
  it('deploys the token with the USDC / "2" / 6-decimals EIP-712 identity', async () => {
    const read = <N extends 'name' | 'version' | 'decimals' | 'symbol'>(functionName: N) =>
      chain.publicClient.readContract({
        address: chain.token.address,
        abi: tokenAbi,
        functionName,
      });
    expect(await read('name')).toBe('USDC');
    expect(await read('version')).toBe('2');
    expect(await read('decimals')).toBe(6);
    expect(await read('symbol')).toBe('USDC');
    expect(chain.token).toMatchObject({
      name: 'USDC',
      version: '2',
      decimals: 6,
      chainId: 31337,
      network: 'eip155:31337',
    });
    const separator = await chain.publicClient.readContract({
      address: chain.token.address,
      abi: tokenAbi,
      functionName: 'DOMAIN_SEPARATOR',
    });
    expect(separator).toBe(
      hashDomain({
        domain: {
          name: 'USDC',
          version: '2',
          chainId: 31337n,
          verifyingContract: chain.token.address,
        },
        types: {
          EIP712Domain: [
            { name: 'name', type: 'string' },
            { name: 'version', type: 'string' },
            { name: 'chainId', type: 'uint256' },
            { name: 'verifyingContract', type: 'address' },
          ],
        },
      }),
    );
  });

  it('mints, funds ETH and reads balances in atomic units', async () => {
    const fresh: Address = '0x000000000000000000000000000000000000bEEF';
    expect(await chain.balanceOf(fresh)).toBe(0n);
    await chain.mint(fresh, 1_234_567n);
    expect(await chain.balanceOf(fresh)).toBe(1_234_567n);
    await chain.setEthBalance(fresh, 42n);
    expect(await chain.publicClient.getBalance({ address: fresh })).toBe(42n);
  });

  it('places Multicall3 code that answers aggregate3 (viem multicall) and tryAggregate', async () => {
    const code = await chain.publicClient.getCode({ address: MULTICALL3_ADDRESS });
    expect(code && code.length > 2).toBe(true);
    const [name, balance] = await chain.publicClient.multicall({
      contracts: [
        { address: chain.token.address, abi: tokenAbi, functionName: 'name' },
        {
          address: chain.token.address,
          abi: tokenAbi,
          functionName: 'balanceOf',
          args: [payer.address],
        },
      ],
      allowFailure: false,
    });
    expect(name).toBe('USDC');
    expect(balance).toBe(await chain.balanceOf(payer.address));

    // tryAggregate(false, …) is what the x402 facilitator uses; a reverting call is reported.
    const { result: results } = await chain.publicClient.simulateContract({
      address: MULTICALL3_ADDRESS,
      abi: multicall3Abi,
      functionName: 'tryAggregate',
      args: [
        false,
        [
          { target: chain.token.address, callData: '0x06fdde03' }, // name()
          { target: chain.token.address, callData: '0xdeadbeef' }, // no such function
        ],
      ],
    });
    expect(results.map((r) => r.success)).toEqual([true, false]);
    expect(
      await chain.publicClient.readContract({
        address: MULTICALL3_ADDRESS,
        abi: multicall3Abi,
        functionName: 'getChainId',
      }),
    ).toBe(31337n);
  });
});

describe('EIP-3009 transferWithAuthorization', () => {
  it('moves funds with the (v, r, s) overload and marks the nonce used', async () => {
    const a = authorization({ value: 1500n });
    const signed = await signTransferAuthorization(payer, chain.token, a);
    const payerBefore = await chain.balanceOf(payer.address);
    const payeeBefore = await chain.balanceOf(payee);
    expect(
      await authorizationState(chain.publicClient, chain.token.address, payer.address, a.nonce),
    ).toBe(false);

    const hash = await submitVrs(a, signed.v, signed.r, signed.s);

    expect(await chain.balanceOf(payer.address)).toBe(payerBefore - 1500n);
    expect(await chain.balanceOf(payee)).toBe(payeeBefore + 1500n);
    expect(
      await authorizationState(chain.publicClient, chain.token.address, payer.address, a.nonce),
    ).toBe(true);
    const receipt = await chain.publicClient.getTransactionReceipt({ hash });
    const events = parseEventLogs({ abi: tokenAbi, logs: receipt.logs });
    expect(events.map((e) => e.eventName)).toEqual(['AuthorizationUsed', 'Transfer']);
    expect(events[0]?.args).toEqual({ authorizer: payer.address, nonce: a.nonce });
    expect(events[1]?.args).toEqual({ from: payer.address, to: payee, value: 1500n });
  });

  it('moves funds with the (bytes signature) overload', async () => {
    const a = authorization({ value: 700n });
    const signed = await signTransferAuthorization(payer, chain.token, a);
    const payeeBefore = await chain.balanceOf(payee);
    await submitBytes(a, signed.signature);
    expect(await chain.balanceOf(payee)).toBe(payeeBefore + 700n);
    expect(
      await authorizationState(chain.publicClient, chain.token.address, payer.address, a.nonce),
    ).toBe(true);
  });

  it('rejects a replayed authorization on either overload and moves nothing', async () => {
    const a = authorization();
    const signed = await signTransferAuthorization(payer, chain.token, a);
    await submitBytes(a, signed.signature);
    const payeeAfterFirst = await chain.balanceOf(payee);
    await expect(submitBytes(a, signed.signature)).rejects.toThrow(
      /authorization is used or canceled/,
    );
    await expect(submitVrs(a, signed.v, signed.r, signed.s)).rejects.toThrow(
      /authorization is used or canceled/,
    );
    expect(await chain.balanceOf(payee)).toBe(payeeAfterFirst);
  });

  it('enforces validAfter and validBefore against block time', async () => {
    const early = authorization({ validAfter: now() + 3600n, validBefore: now() + 7200n });
    const signedEarly = await signTransferAuthorization(payer, chain.token, early);
    await expect(submitBytes(early, signedEarly.signature)).rejects.toThrow(
      /authorization is not yet valid/,
    );
    const late = authorization({ validBefore: now() - 10n });
    const signedLate = await signTransferAuthorization(payer, chain.token, late);
    await expect(submitBytes(late, signedLate.signature)).rejects.toThrow(
      /authorization is expired/,
    );
  });

  it('rejects a signature by someone else, a tampered value and a wrong domain', async () => {
    const a = authorization();
    const byOther = await signTransferAuthorization(devAccount(5), chain.token, a);
    await expect(submitBytes(a, byOther.signature)).rejects.toThrow(/invalid signature/);

    const signed = await signTransferAuthorization(payer, chain.token, a);
    await expect(submitBytes({ ...a, value: a.value + 1n }, signed.signature)).rejects.toThrow(
      /invalid signature/,
    );

    const wrongName = await signTransferAuthorization(
      payer,
      { ...chain.token, name: 'USD Coin' },
      a,
    );
    await expect(submitBytes(a, wrongName.signature)).rejects.toThrow(/invalid signature/);
    await expect(submitBytes(a, `${signed.signature}00`)).rejects.toThrow(
      /invalid signature length/,
    );
    expect(
      await authorizationState(chain.publicClient, chain.token.address, payer.address, a.nonce),
    ).toBe(false);
  });

  it('rejects a transfer above the balance', async () => {
    const poor = devAccount(6);
    const a = authorization({ from: poor.address, value: 1n });
    const signed = await signTransferAuthorization(poor, chain.token, a);
    await expect(submitBytes(a, signed.signature)).rejects.toThrow(
      /transfer amount exceeds balance/,
    );
  });

  it('receiveWithAuthorization only lets the payee submit', async () => {
    const a = authorization({ value: 300n });
    const signature = await payer.signTypedData({
      domain: {
        name: 'USDC',
        version: '2',
        chainId: chain.chainId,
        verifyingContract: chain.token.address,
      },
      types: {
        ReceiveWithAuthorization: [
          { name: 'from', type: 'address' },
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'validAfter', type: 'uint256' },
          { name: 'validBefore', type: 'uint256' },
          { name: 'nonce', type: 'bytes32' },
        ],
      },
      primaryType: 'ReceiveWithAuthorization',
      message: a,
    });
    const v = Number.parseInt(signature.slice(130, 132), 16);
    const r = `0x${signature.slice(2, 66)}` as Hex;
    const s = `0x${signature.slice(66, 130)}` as Hex;
    const call = (who: ReturnType<typeof devAccount>) =>
      chain.walletFor(who).writeContract({
        address: chain.token.address,
        abi: tokenAbi,
        functionName: 'receiveWithAuthorization',
        args: [...args(a), v, r, s],
      });
    await expect(call(relayer)).rejects.toThrow(/caller must be the payee/);
    const before = await chain.balanceOf(payee);
    const hash = await call(devAccount(2));
    await chain.publicClient.waitForTransactionReceipt({ hash });
    expect(await chain.balanceOf(payee)).toBe(before + 300n);
  });

  it('deployToken gives an independent token whose signatures do not work on the first', async () => {
    const second = await deployToken(chain);
    expect(second).not.toBe(chain.token.address);
    const a = authorization();
    const signedForSecond = await signTransferAuthorization(
      payer,
      { ...chain.token, address: second },
      a,
    );
    await expect(submitBytes(a, signedForSecond.signature)).rejects.toThrow(/invalid signature/);
  });
});
