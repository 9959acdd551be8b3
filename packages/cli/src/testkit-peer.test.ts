import { describe, expect, it } from 'vitest';
import { loadTestkit } from './testkit-peer.js';

describe('@stipend/testkit is an optional peer', () => {
  it('without it, demo says what to install and where it comes from', async () => {
    const missing = Object.assign(
      new Error("Cannot find package '@stipend/testkit' imported from …"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    );
    await expect(loadTestkit('demo', () => Promise.reject(missing))).rejects.toThrow(
      /^stipend demo needs the local 402 marketplace from @stipend\/testkit, .*run "pnpm install" there, then "pnpm stipend demo"/,
    );
  });

  it('any other failure is not disguised as a missing package', async () => {
    await expect(loadTestkit('demo', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      /^boom$/,
    );
  });

  it('loads the marketplace when it is there', async () => {
    const testkit = await loadTestkit('testkit serve');
    expect(typeof testkit.market.startMarketplace).toBe('function');
  });
});
