import { expect } from "vitest";
import type { JobEvent, StoredEvent } from "../../src/events.ts";
import { stored } from "./events.ts";

/**
 * Given / when / then for deciders (in the manner of Emmett's DeciderSpecification):
 * given the job's events, when a command, then the decision, which is the event to store
 * or a refusal. `decide` adapts a decider to (events, command).
 *
 *   spec.given(requested(), started(1)).when(cancel).then({ append: ... });
 */
export function deciderSpec<C, D>(decide: (events: readonly StoredEvent[], command: C) => D) {
  return {
    given: (...events: JobEvent[]) => ({
      when: (command: C) => {
        const decision = decide(stored(...events), command);
        return {
          decision,
          /** The whole decision (asymmetric matchers allowed). */
          then: (expected: unknown) => expect(decision).toEqual(expected),
          /** The refusal's code (deciders that answer `{ reject: { code } }`). */
          thenRejects: (code: string) => expect(decision).toMatchObject({ reject: { code } }),
        };
      },
    }),
  };
}
