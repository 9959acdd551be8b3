/**
 * The agent's spend policy in the console suite (shared by the agent process and the console,
 * which draws its limits): a person approves every payment above $0.001; $1 per UTC day and
 * $0.50 per rolling hour in total; $0.20 a day for the `research` tag.
 */
import type { SpendPolicy } from '@stipend/client';

export const AGENT_POLICY: SpendPolicy = {
  global: {
    approveAbove: '0.001',
    maxPerRequest: { usd: '0.10' },
    limits: [
      { usd: '1', window: { calendar: 'day' } },
      { usd: '0.5', window: { rolling: '1h' } },
    ],
  },
  tags: { research: { limits: [{ usd: '0.2', window: { calendar: 'day' } }] } },
};
