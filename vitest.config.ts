// Test layers: pure unit tests, workflow tests on the time-skipping server, integration tests on the real stack, pages in a browser.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    // Two cores: more parallel files only add contention on the shared servers.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'workflows',
          include: ['test/workflows/**/*.test.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          // The layers that run Temporal: its binaries and the workflow bundle, prepared once per run.
          globalSetup: ['test/support/setup-temporal.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          globalSetup: ['test/support/setup-temporal.ts', 'test/support/setup-integration.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          // The pages in a real browser (Debian chromium, installed when missing) against the real stack.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          globalSetup: [
            'test/support/setup-browser.ts',
            'test/support/setup-temporal.ts',
            'test/support/setup-integration.ts',
          ],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          // Its own processes, killed and restarted: the worker, Temporal, Postgres and the API.
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['test/support/setup-temporal.ts'],
          testTimeout: 300_000,
        },
      },
      {
        test: {
          // The production topology of `npm run cluster` (the real Temporal server as separate services, Postgres with
          // a streaming replica, two API and two worker replicas), after every other layer; skipped, with the reason,
          // where the Temporal server cannot be built or Debian's Postgres installed.
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          setupFiles: ['test/support/quiet-runtime.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 480_000,
          hookTimeout: 1_500_000,
        },
      },
    ],
  },
});
