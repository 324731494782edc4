import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{electron,shared,services,scripts,renderer}/**/*.test.ts'],
          exclude: ['**/*.integration.test.ts', 'node_modules/**'],
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{electron,shared,services,contracts}/**/*.integration.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Real processes (anvil, services) and a shared keychain: one file at a time on 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
