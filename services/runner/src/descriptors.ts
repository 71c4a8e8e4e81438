import type { JobTypeDescriptor } from "@jobs/core";
import type { JobType } from "./job-type.ts";

/** What the runner announces in the types bucket: the params schema as plain JSON Schema. */
export function toDescriptor(type: JobType): JobTypeDescriptor {
  return { name: type.name, description: type.description, params: JSON.parse(JSON.stringify(type.params)) as Record<string, unknown> };
}
