import type { JobEvent } from "./events.ts";

/**
 * What a decider answers: the event to store, with the message id that makes a retried
 * publish of it a duplicate (see message-ids.ts), or a refusal that stores nothing.
 */
export interface Decided<E extends JobEvent = JobEvent> {
  event: E;
  msgId: string;
}

export type Decision<R, E extends JobEvent = JobEvent> = { append: Decided<E> } | { reject: R };
