/**
 * The `stipend mcp` entry as a process, for the stdio suite: wallets and the token come from
 * the environment, the policy from a file, the allow-list from STIPEND_MCP_ALLOW_HOSTS (read by
 * startMcpServer itself). Bundled with esbuild by the suite and run with plain Node.
 */
import { x402Adapter } from '@stipend/client';
import { evmWallet } from '@stipend/wallet-evm';
import { privateKeyToAccount } from 'viem/accounts';
import { startMcpServer } from '../../packages/mcp/src/server/index.js';

const env = process.env;
const token = JSON.parse(env.TEST_TOKEN ?? '{}') as {
  network: string;
  address: string;
  decimals: number;
  name: string;
  version: string;
};
const handle = await startMcpServer({
  wallets: [evmWallet({ account: privateKeyToAccount(env.TEST_PAYER_KEY as `0x${string}`) })],
  adapters: [x402Adapter({ assets: [{ ...token, symbol: 'USDC', peg: 'USD' }] })],
  ...(env.TEST_POLICY_FILE ? { policyFile: env.TEST_POLICY_FILE } : {}),
  transport: 'stdio',
});
process.once('SIGTERM', () => {
  void handle.close().then(() => process.exit(0));
});
await handle.closed;
process.stderr.write('stipend mcp: closed cleanly\n');
process.exit(0);
