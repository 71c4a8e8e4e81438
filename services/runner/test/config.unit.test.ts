import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@jobs/service";
import { loadRunnerConfig } from "../src/config.ts";

describe("runner config", () => {
  it("has defaults for everything", () => {
    expect(loadRunnerConfig({})).toMatchObject({
      NATS_URL: "nats://127.0.0.1:4222",
      JOBS_PREFIX: "jobs",
      RUNNER_CONCURRENCY: 8,
      RUNNER_TEST_JOBS: "0",
      RUNNER_ID: `${hostname()}-${process.pid}`,
      RUNNER_SHUTDOWN_GRACE_MS: 10_000,
      RUNNER_ACK_WAIT_MS: 30_000,
    });
  });

  it("reads numbers and switches from the environment", () => {
    const config = loadRunnerConfig({ RUNNER_CONCURRENCY: "32", RUNNER_TEST_JOBS: "1", RUNNER_ID: "r-7", RUNNER_SHUTDOWN_GRACE_MS: "0", RUNNER_ACK_WAIT_MS: "5000" });
    expect(config).toMatchObject({ RUNNER_CONCURRENCY: 32, RUNNER_TEST_JOBS: "1", RUNNER_ID: "r-7", RUNNER_SHUTDOWN_GRACE_MS: 0, RUNNER_ACK_WAIT_MS: 5_000 });
  });

  it("reports every bad value at once", () => {
    const err = (() => {
      try {
        loadRunnerConfig({ RUNNER_CONCURRENCY: "0", RUNNER_TEST_JOBS: "yes", RUNNER_SHUTDOWN_GRACE_MS: "soon", RUNNER_ACK_WAIT_MS: "500" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    for (const key of ["RUNNER_CONCURRENCY", "RUNNER_TEST_JOBS", "RUNNER_SHUTDOWN_GRACE_MS", "RUNNER_ACK_WAIT_MS"]) expect(problems).toContain(key);
  });
});
