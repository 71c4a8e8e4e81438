import { Type, type Static } from "typebox";

/**
 * Whenever a runner has a free slot it starts a queued `high` job before any `normal`
 * one, and a `normal` one before any `low` one; oldest first within one.
 */
export const JobPriority = Type.Enum(["high", "normal", "low"]);
export type JobPriority = Static<typeof JobPriority>;

/** Highest first: the order in which a runner with a free slot looks for work. */
export const PRIORITIES: readonly JobPriority[] = ["high", "normal", "low"];

export const DEFAULT_PRIORITY: JobPriority = "normal";
