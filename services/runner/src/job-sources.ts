import { PRIORITIES, type JobNames, type JobPriority } from "@jobs/core";

/**
 * Where a runner finds jobs to start, highest priority first (`rank` 0 first): the ready
 * queue of each priority in the dispatch stream, and, as a normal one, the runners'
 * consumer of the event stream, which holds the common case (a normal job due at once)
 * without a dispatch message of its own.
 */
export interface JobSource {
  /** For logs. */
  name: string;
  stream: string;
  consumer: string;
  rank: number;
  /** The dispatch stream's ready queue of this priority; null for the event stream's requests. */
  priority: JobPriority | null;
}

export function jobSources(names: JobNames): JobSource[] {
  const rank = (p: JobPriority) => PRIORITIES.indexOf(p);
  return [
    ...PRIORITIES.map((priority) => ({ name: `ready-${priority}`, stream: names.dispatchStream, consumer: names.readyConsumer(priority), rank: rank(priority), priority })),
    { name: "requests", stream: names.stream, consumer: names.runnerConsumer, rank: rank("normal"), priority: null },
  ];
}
