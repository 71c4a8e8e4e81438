import { hostname } from "node:os";
import { Type, type Static } from "typebox";
import { RUNNER_ACK_WAIT_MS } from "@jobs/nats";
import { CommonEnv, loadConfig } from "@jobs/service";

/** The runner's environment, parsed once at start-up (every problem reported at once). */
export function runnerEnvSchema() {
  return Type.Object({
    ...CommonEnv,
    RUNNER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 1000, default: 8, description: "jobs one runner process runs at once" }),
    RUNNER_TEST_JOBS: Type.Union([Type.Literal("0"), Type.Literal("1")], { default: "0", description: "1 registers the test-only job types (flaky)" }),
    RUNNER_ID: Type.String({ minLength: 1, default: `${hostname()}-${process.pid}`, description: "names this runner in JobStarted events" }),
    RUNNER_SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000, description: "time running jobs get to finish on shutdown" }),
    RUNNER_ACK_WAIT_MS: Type.Integer({
      minimum: 1_000,
      default: RUNNER_ACK_WAIT_MS,
      description: "how long a job's claim lasts without a heartbeat: a crashed runner's job goes to another runner after it",
    }),
  });
}

export type RunnerConfig = Static<ReturnType<typeof runnerEnvSchema>>;

export function loadRunnerConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
  return loadConfig(runnerEnvSchema(), env);
}
