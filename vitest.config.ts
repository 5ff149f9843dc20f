import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.tsx', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    // A poll waits for what a user would wait for (a page, a push): on a loaded 2-core CI machine
    // that can take seconds, so the default of one second made browser tests flaky.
    expect: { poll: { timeout: 10_000, interval: 50 } },
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
