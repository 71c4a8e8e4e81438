import { Type, type Static } from "typebox";

/**
 * What a runner announces about a job type it can run (the registry entry in the types
 * bucket). The gateway validates `params` of new jobs against `params` (a JSON Schema),
 * so a new job type needs a change in the runner alone.
 */
export const JobTypeDescriptor = Type.Object({
  name: Type.String({ pattern: "^[a-z][a-z0-9_-]{0,63}$" }),
  description: Type.String(),
  params: Type.Record(Type.String(), Type.Unknown(), { description: "JSON Schema of the params" }),
});
export type JobTypeDescriptor = Static<typeof JobTypeDescriptor>;
