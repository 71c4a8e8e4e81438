import { Type, type Static } from "typebox";
import { CommonEnv, loadConfig } from "@jobs/service";

/** The projector's environment: only what every service shares (NATS, prefix, logging). */
export const ProjectorEnv = Type.Object({ ...CommonEnv });
export type ProjectorConfig = Static<typeof ProjectorEnv>;

export function loadProjectorConfig(env: Record<string, string | undefined> = process.env): ProjectorConfig {
  return loadConfig(ProjectorEnv, env);
}
