/**
 * A paid MCP server as a separate process over stdio, for the `stipend mcp proxy` suite: the
 * testkit's MPP tools on the REAL mppx server, charging through the parent's Stripe stand-in
 * over HTTP (a real `stripe` SDK client), so the parent counts every PaymentIntent at the rail.
 * One more free tool, `env_names`, lists the STIPEND_* variables this process can see.
 * Bundled with esbuild by the suite and run with plain Node.
 */
import Stripe from 'stripe';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  Server,
  StdioServerTransport,
} from '../../packages/mcp/src/sdk.test-helpers.js';
import { createMppMcpTools } from '../../packages/testkit/src/mcp/index.js';

const env = process.env;
const stripe = new Stripe(env.TEST_STRIPE_SECRET ?? '', {
  host: '127.0.0.1',
  port: Number(env.TEST_STRIPE_PORT),
  protocol: 'http',
  maxNetworkRetries: 0,
});
const tools = createMppMcpTools({
  stripeClient: stripe as never,
  networkId: env.TEST_SELLER ?? 'profile_test_seller',
});
const server = new Server(
  { name: 'Paid Articles', version: '1.0.0' },
  { capabilities: { tools: {} } },
);
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [
    ...tools.tools.map((tool) => ({ ...tool })),
    { name: 'env_names', description: 'Free.', inputSchema: { type: 'object', properties: {} } },
  ] as never,
}));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  if (request.params.name === 'env_names') {
    const names = Object.keys(process.env).filter((name) => /^STIPEND_/i.test(name));
    return { content: [{ type: 'text', text: JSON.stringify(names) }] };
  }
  return (await tools.callTool(request.params)) as never;
});
await server.connect(new StdioServerTransport());
process.stdin.once('end', () => process.exit(0));
