import { join } from "node:path";
import { colorFor } from "./prefix-lines.ts";
import type { ProcessSpec } from "./supervise.ts";

/**
 * The processes `pnpm start` runs: the gateway, the projector and RUNNER_REPLICAS runners,
 * each `node <service>/src/main.ts` on this same Node (Node strips the types itself), as
 * `pnpm start:<service>` runs it, one Node process each.
 */
export const MAX_RUNNER_REPLICAS = 64;

export class StartError extends Error {
  override name = "StartError";
}

/** RUNNER_REPLICAS: a whole number from 1 to 64, 1 when unset or empty. */
export function parseRunnerReplicas(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_RUNNER_REPLICAS) {
    throw new StartError(`RUNNER_REPLICAS must be a whole number from 1 to ${MAX_RUNNER_REPLICAS} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function serviceSpecs(root: string, runnerReplicas: number, env: NodeJS.ProcessEnv): ProcessSpec[] {
  const service = (name: string, dir: string, index: number): ProcessSpec => ({
    name,
    command: process.execPath,
    args: [join(root, "services", dir, "src", "main.ts")],
    env,
    cwd: root,
    color: colorFor(index),
  });
  const runners = Array.from({ length: runnerReplicas }, (_, i) => service(`runner-${i + 1}`, "runner", i + 2));
  return [service("gateway", "gateway", 0), service("projector", "projector", 1), ...runners];
}
