import { jobNames } from "@jobs/core";
import { announceJobTypes, connectNats, openTypesBucket, provisionRunners } from "@jobs/nats";
import { createLogger, exitOnBadStart, onShutdown } from "@jobs/service";
import { loadRunnerConfig } from "./config.ts";
import { toDescriptor } from "./descriptors.ts";
import { loadJobTypes } from "./load-job-types.ts";
import { startRunner } from "./runner.ts";

/** `pnpm start:runner`: one runner process; start it any number of times to drain faster. */
async function main(): Promise<void> {
  const config = loadRunnerConfig();
  const log = createLogger("runner", config.LOG_LEVEL);
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection (kept running)"));

  const names = jobNames(config.JOBS_PREFIX);
  const jobTypes = await loadJobTypes({ includeTestOnly: config.RUNNER_TEST_JOBS === "1" });
  const nc = await connectNats({ servers: config.NATS_URL, name: `runner ${config.RUNNER_ID}`, log });
  const replicas = { replicas: config.JOBS_REPLICAS };
  await provisionRunners(nc, names, { ...replicas, ackWaitMs: config.RUNNER_ACK_WAIT_MS });
  await announceJobTypes(await openTypesBucket(nc, names, replicas), jobTypes.map(toDescriptor));

  const runner = await startRunner({
    nc,
    names,
    log,
    jobTypes,
    runnerId: config.RUNNER_ID,
    concurrency: config.RUNNER_CONCURRENCY,
    shutdownGraceMs: config.RUNNER_SHUTDOWN_GRACE_MS,
    replicas: config.JOBS_REPLICAS,
    ackWaitMs: config.RUNNER_ACK_WAIT_MS,
    // working() keeps a claim alive: three heartbeats per ack wait, so one late or lost one costs nothing.
    heartbeatMs: Math.floor(config.RUNNER_ACK_WAIT_MS / 3),
  });

  onShutdown(log, async () => {
    await runner.stop();
    await nc.drain();
  });
}

main().catch((err: unknown) => exitOnBadStart("runner", err));
