// The release check's seller: the WORKSPACE testkit's x402 seller (the official @x402/hono
// middleware and facilitator over a local anvil chain with a test USDC), started as its own
// process. Prints one JSON line (URL, chain, token, a funded payer's public test key) on
// stdout, then serves until SIGTERM or SIGINT.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const testkit = join(dirname(fileURLToPath(import.meta.url)), '../../packages/testkit/dist');
const { DEV_ACCOUNTS, startChain } = await import(
  pathToFileURL(join(testkit, 'chain/index.js')).href
);
const { startX402Server } = await import(pathToFileURL(join(testkit, 'x402/index.js')).href);

const chain = await startChain();
const seller = await startX402Server({ chain });
const payer = DEV_ACCOUNTS[4];
await chain.mint(payer.address, 10_000_000n); // 10 test USDC
process.stdout.write(
  `${JSON.stringify({
    url: seller.url,
    rpcUrl: chain.rpcUrl,
    token: chain.token,
    payTo: seller.payTo,
    payerKey: payer.privateKey,
  })}\n`,
);
const stop = async () => {
  // anvil first (the one child that must not outlive us); a server close that waits on a
  // lingering keep-alive connection is cut short.
  setTimeout(() => process.exit(0), 5000).unref();
  await chain.stop().catch(() => {});
  await seller.close().catch(() => {});
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
