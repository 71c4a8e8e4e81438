/**
 * The `POST /job` body of the baseline gateway: the same shape our gateway accepts
 * (JSON Schema for fastify's built-in validator), and the same params check for the
 * one job type the baseline runs.
 */
export const CreateJobBody = {
  type: "object",
  additionalProperties: false,
  required: ["type"],
  properties: {
    type: { type: "string", minLength: 1 },
    params: {},
    meta: { type: "object" },
    maxAttempts: { type: "integer", minimum: 1, maximum: 100 },
    timeoutMs: { type: "integer", minimum: 1, maximum: 86_400_000 },
    runAt: { type: "string", format: "date-time" },
  },
} as const;

export interface JobBody {
  type: string;
  params?: unknown;
  meta?: Record<string, unknown>;
  maxAttempts?: number;
  timeoutMs?: number;
  runAt?: string;
}

export const BatchBody = {
  type: "object",
  additionalProperties: false,
  required: ["jobs"],
  properties: { jobs: { type: "array", minItems: 1, maxItems: 1000, items: { type: "object" } } },
} as const;

/** Problems with a body's job type and params (the only type is `sleep` `{ms}`), or null. */
export function jobProblems(body: JobBody): string | null {
  if (body.type !== "sleep") return `unknown job type "${body.type}"; known types: sleep`;
  const p = body.params ?? {};
  if (typeof p !== "object" || p === null || Array.isArray(p)) return "params must be an object";
  const keys = Object.keys(p);
  const ms = (p as { ms?: unknown }).ms;
  if (keys.some((k) => k !== "ms")) return "params: only ms is allowed";
  if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 3_600_000) return "params.ms must be an integer 0..3600000";
  return null;
}
