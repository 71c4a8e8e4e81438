export { defineJobType, isJobType, NonRetryableError, type JobContext, type JobType, type JobTypeDefinition } from "./job-type.ts";
export { loadJobTypes, jobTypeRegistry, JOB_TYPES_DIR } from "./load-job-types.ts";
export { runInWorker } from "./run-in-worker.ts";
export { startRunner, type Runner, type RunnerDeps } from "./runner.ts";
export { loadRunnerConfig, runnerEnvSchema, type RunnerConfig } from "./config.ts";
export { toDescriptor } from "./descriptors.ts";
export { retryDelayMs } from "@jobs/core";
