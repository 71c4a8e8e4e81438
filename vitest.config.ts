import { defineConfig } from "vitest/config";

/**
 * Test tiers by name:
 * - *.unit.test.ts: in the test process, no NATS, no process that outlives a call: pure
 *   and in-memory, at most a temp file or a loopback socket of its own; milliseconds.
 * - *.int.test.ts: one adapter against a real nats-server.
 * - *.e2e.test.ts: processes the test starts, watches and stops: the services, or the
 *   stand-ins the scripts supervise and the bench probes (with NATS or without).
 * Each file that needs NATS starts its own server on a free port. What a test process
 * starts dies with it (test/support/child-guard.ts); the global setup sweeps away what a
 * test process killed outright left behind.
 */
export default defineConfig({
  test: {
    globalSetup: ["test/support/global-setup.ts"],
    // Two cores: files that start service processes are heavy; keep them from starving each other.
    maxWorkers: 2,
    // `pnpm test:coverage` (--coverage): V8's own counters of the test processes, over every
    // source file of packages/ and services/ (untouched ones count as 0%).
    coverage: {
      provider: "v8",
      include: ["packages/*/src/**/*.ts", "services/*/src/**/*.ts"],
      reporter: ["text-summary", "html"],
      reportsDirectory: "coverage",
      reportOnFailure: true,
    },
    projects: [
      { extends: true, test: { name: "unit", include: ["**/*.unit.test.ts"], exclude: ["**/node_modules/**"] } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["**/*.int.test.ts", "**/*.e2e.test.ts"],
          exclude: ["**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
