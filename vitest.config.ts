import { defineConfig } from 'vitest/config';

/**
 * One Vitest run for the whole workspace. Workspace packages resolve to their TypeScript
 * sources through the `@stipend/source` export condition, so unit tests never need a build; the
 * browser and package-shape suites use the built `dist/` on purpose.
 */
export default defineConfig({
  resolve: { conditions: ['@stipend/source'] },
  ssr: { resolve: { conditions: ['@stipend/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
