import { readdir } from "node:fs/promises";
import { isJobType, type JobType } from "./job-type.ts";

/**
 * The registry is the directory: every `*.ts` file in src/job-types/ default-exports one
 * job type (graphile-worker's tasks directory), so adding a type is adding one file.
 * Test-only types (fault injection) are left out unless asked for.
 */
export const JOB_TYPES_DIR = new URL("./job-types/", import.meta.url);

export async function loadJobTypes(opts: { includeTestOnly: boolean; dir?: URL }): Promise<JobType[]> {
  const dir = opts.dir ?? JOB_TYPES_DIR;
  const files = (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.includes(".test.")).sort();
  const types: JobType[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as { default?: unknown };
    if (!isJobType(mod.default)) throw new Error(`${file} in ${dir.pathname} must default-export defineJobType(...)`);
    if (mod.default.testOnly && !opts.includeTestOnly) continue;
    types.push(mod.default);
  }
  return types;
}

/** A name -> type map; two types with one name is a start-up error, not a silent override. */
export function jobTypeRegistry(types: readonly JobType[]): Map<string, JobType> {
  const registry = new Map<string, JobType>();
  for (const t of types) {
    if (registry.has(t.name)) throw new Error(`job type "${t.name}" is defined twice`);
    registry.set(t.name, t);
  }
  return registry;
}
