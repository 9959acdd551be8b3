/**
 * `cdpAccount` through the real `@coinbase/cdp-sdk` against a local stand-in of the CDP
 * Wallet API (see cdp-stand-in.test-helpers.ts): the SDK authenticates (API-key JWT, wallet
 * JWT with the body hash) and every signature is an HTTP call. Telemetry stays off.
 */
import { devAccount } from '@stipend/testkit/chain';
import { recoverTypedDataAddress } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdpAccount } from './cdp.js';
import { type CdpStandIn, startCdpStandIn } from './cdp-stand-in.test-helpers.js';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from './constants.js';
import { payContext, TOKEN, x402Offer } from './offers.test-helpers.js';
import type { SignedEip3009 } from './sign.js';
import { evmWallet } from './wallet.js';

const payer = devAccount(6);
let cdp: CdpStandIn;

beforeAll(async () => {
  cdp = await startCdpStandIn([{ name: 'agent-payer', account: payer }]);
});
afterAll(async () => {
  await cdp?.close();
});

const credentials = () => ({
  apiKeyId: cdp.apiKeyId,
  apiKeySecret: cdp.apiKeySecret,
  walletSecret: cdp.walletSecret,
  basePath: cdp.basePath,
});

describe('cdpAccount (@coinbase/cdp-sdk against a local CDP stand-in)', () => {
  it('loads the server account by name and signs an x402 payment through the SDK', async () => {
    const before = cdp.calls.length;
    const account = await cdpAccount({ ...credentials(), name: 'agent-payer' });
    expect(account.address).toBe(payer.address);
    expect(process.env.DISABLE_CDP_USAGE_TRACKING).toBe('true');

    const proof = await evmWallet({ account }).pay(x402Offer(), payContext());
    const { payload } = proof.secret as { payload: SignedEip3009 };
    const recovered = await recoverTypedDataAddress({
      domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: TOKEN },
      types: TRANSFER_WITH_AUTHORIZATION_TYPES,
      primaryType: 'TransferWithAuthorization',
      message: {
        ...payload.authorization,
        value: BigInt(payload.authorization.value),
        validAfter: BigInt(payload.authorization.validAfter),
        validBefore: BigInt(payload.authorization.validBefore),
      },
      signature: payload.signature,
    });
    expect(recovered).toBe(payer.address);

    const calls = cdp.calls.slice(before);
    expect(calls.map((call) => `${call.method} ${call.path} ${call.authorized}`)).toEqual([
      'GET /platform/v2/evm/accounts/by-name/agent-payer true',
      `POST /platform/v2/evm/accounts/${payer.address}/sign/typed-data true`,
    ]);
    expect(calls[1]?.body).toMatchObject({
      primaryType: 'TransferWithAuthorization',
      domain: { name: 'USDC', version: '2', chainId: 84532 },
      message: { value: '10000', to: payload.authorization.to },
    });
  });

  it('loads the account by address', async () => {
    const account = await cdpAccount({ ...credentials(), address: payer.address.toLowerCase() });
    expect(account.address).toBe(payer.address);
  });

  it('fails clearly with a wrong wallet secret: nothing is signed, the wallet reports no payment', async () => {
    const account = await cdpAccount({ ...credentials(), name: 'agent-payer' });
    const other = await startCdpStandIn([]);
    try {
      const wrong = await cdpAccount({
        ...credentials(),
        walletSecret: other.walletSecret,
        address: account.address,
      });
      const failure = await evmWallet({ account: wrong })
        .pay(x402Offer(), payContext())
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toMatchObject({ code: 'SIGNING_FAILED', paid: false });
      expect(cdp.calls.at(-1)).toMatchObject({ method: 'POST', authorized: false });
    } finally {
      await other.close();
    }
  });

  it('needs an address or a name', async () => {
    await expect(cdpAccount({ ...credentials() })).rejects.toThrow(/address.*name/);
  });
});
