/**
 * The public API surface of each package, pinned: adding or removing an export changes this
 * snapshot, so API changes are seen in review (`vitest -u` to accept a deliberate change).
 */
import { describe, expect, it } from 'vitest';

const entries: Record<string, () => Promise<Record<string, unknown>>> = {
  '@stipend/client': () => import('@stipend/client'),
  '@stipend/wallet-evm': () => import('@stipend/wallet-evm'),
  '@stipend/wallet-evm/cdp': () => import('@stipend/wallet-evm/cdp'),
  '@stipend/wallet-lightning': () => import('@stipend/wallet-lightning'),
  '@stipend/wallet-stripe': () => import('@stipend/wallet-stripe'),
  '@stipend/authority': () => import('@stipend/authority'),
  '@stipend/stores/file': () => import('@stipend/stores/file'),
  '@stipend/stores/browser': () => import('@stipend/stores/browser'),
  '@stipend/stores/redis': () => import('@stipend/stores/redis'),
};

describe('public exports', () => {
  it.each(Object.keys(entries))('%s', async (name) => {
    const module = await entries[name]!();
    expect(Object.keys(module).sort()).toMatchSnapshot();
  });
});
