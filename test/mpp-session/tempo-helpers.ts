/**
 * Shared set-up of the Tempo session suites: the spending policy that lets a 0.01 pathUSD use
 * through and sizes the opening with a native `maxDeposit`, and a counter of the vouchers a
 * payer's key signs (in signing order).
 */
import type { SpendPolicy } from '@stipend/client';
import type { LocalAccount } from 'viem';

/** pathUSD on the testkit's anvil (chain 31337), as a unit key. */
export const PATH_USD_UNIT = 'eip155:31337/0x20c0000000000000000000000000000000000000';

/**
 * `maxDeposit` in pathUSD base units as well as USD: the engine hands a method only a native cap
 * to open "at min(suggested, cap)" (a USD cap alone refuses a larger suggestion outright).
 */
export function tempoPolicy(maxDepositUsd = '0.50'): SpendPolicy {
  const native = BigInt(Math.round(Number(maxDepositUsd) * 1e6));
  return {
    global: {
      maxPerRequest: { usd: '0.02' },
      limits: [{ usd: '10', window: { calendar: 'day' } }],
    },
    hosts: {
      '127.0.0.1': {
        maxDeposit: { usd: maxDepositUsd, native: [{ unit: PATH_USD_UNIT, max: native }] },
      },
    },
  };
}

/**
 * The same key, with every voucher it signs recorded (cumulative amounts, in signing order).
 * Other typed data (none in these suites) is signed unrecorded.
 */
export function countingVouchers(account: LocalAccount): {
  account: LocalAccount;
  signed: bigint[];
} {
  const signed: bigint[] = [];
  const signTypedData = ((parameters: {
    primaryType?: string;
    message?: { cumulativeAmount?: bigint };
  }) => {
    if (parameters.primaryType === 'Voucher' && parameters.message?.cumulativeAmount !== undefined)
      signed.push(parameters.message.cumulativeAmount);
    return account.signTypedData(parameters as never);
  }) as LocalAccount['signTypedData'];
  return { account: { ...account, signTypedData }, signed };
}

/** What the server was sent as a session credential (action and voucher amount), if any. */
export function credentialSent(request: Request): { action?: string; cumulative?: bigint } {
  const auth = request.headers.get('authorization') ?? '';
  if (!auth.startsWith('Payment ')) return {};
  try {
    const credential = JSON.parse(Buffer.from(auth.slice(8), 'base64url').toString('utf8')) as {
      payload?: { action?: string; cumulativeAmount?: string };
    };
    const amount = credential.payload?.cumulativeAmount;
    return {
      ...(credential.payload?.action ? { action: credential.payload.action } : {}),
      ...(amount !== undefined ? { cumulative: BigInt(amount) } : {}),
    };
  } catch {
    return {};
  }
}
