// The release check's smoke test, run in a fresh directory outside the workspace where the
// packed tarballs were installed with npm: it pays the testkit's x402 seller through the
// INSTALLED @stipend/client and @stipend/wallet-evm, and checks the ledger and the chain.
// Usage: node smoke.mjs '<the seller's JSON line>'
import { createRequire } from 'node:module';
import { createMemoryLedger, createPayingFetch, getPayment, x402Adapter } from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import { createPublicClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const seller = JSON.parse(process.argv[2]);
const fail = (message) => {
  console.error(`smoke: ${message}`);
  process.exit(1);
};

// The packages must come from this directory's node_modules, not from a workspace.
const where = createRequire(import.meta.url);
for (const name of ['@stipend/client', '@stipend/wallet-evm']) {
  const path = where.resolve(`${name}/package.json`);
  if (!path.startsWith(process.cwd())) fail(`${name} resolved outside the install: ${path}`);
}

const ledger = createMemoryLedger();
const token = seller.token;
const payingFetch = createPayingFetch({
  wallets: [
    evmWallet({
      account: privateKeyToAccount(seller.payerKey),
      publicClient: createPublicClient({ transport: http(seller.rpcUrl) }),
      domains: [
        {
          network: token.network,
          address: token.address,
          name: token.name,
          version: token.version,
        },
      ],
    }),
  ],
  adapters: [
    x402Adapter({
      assets: [
        {
          network: token.network,
          address: token.address,
          symbol: 'USDC',
          decimals: token.decimals,
          name: token.name,
          version: token.version,
          peg: 'USD',
        },
      ],
    }),
  ],
  ledger,
  allowHttp: 'loopback',
});

const res = await payingFetch(`${seller.url}/weather`);
const body = await res.text();
if (res.status !== 200) fail(`GET /weather answered ${res.status}: ${body.slice(0, 200)}`);
const payment = getPayment(res);
if (payment?.status !== 'paid') fail(`the payment is ${payment?.status ?? 'missing'}`);
const records = await ledger.list();
if (records.length !== 1) fail(`the ledger has ${records.length} records, not 1`);
const [record] = records;
if (record.status !== 'committed' || record.protocol !== 'x402' || record.amount.value !== 1000n) {
  fail(`unexpected ledger record: ${record.status} ${record.protocol} ${record.amount.value}`);
}
if (record.payee.toLowerCase() !== seller.payTo.toLowerCase()) fail(`payee ${record.payee}`);
console.log(
  `smoke: paid ${record.amount.value} atomic USDC to ${record.payee} through the installed packages; ledger record ${record.id} committed (${body.length} bytes served)`,
);
