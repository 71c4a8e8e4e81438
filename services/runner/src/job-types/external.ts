import { Type } from "typebox";
import { defineJobType } from "../job-type.ts";

/**
 * A job done by a system outside the runners. The runner takes it like any job (stores
 * JobStarted: the job is `running`), then only holds its claim until the outside system
 * ends it with `POST /job/{id}/complete` (a JobFinished the runner hears on the job's
 * subject, which aborts this wait and stores nothing more) or until `timeoutMs`: a
 * completion that never comes ends the attempt in a timeout, retried while attempts
 * remain, so each attempt is another window for the completion.
 * The wait occupies one of the runner's RUNNER_CONCURRENCY slots.
 */
export default defineJobType({
  name: "external",
  description: "Done by an outside system: stays running until POST /job/{id}/complete brings its result or error, or it times out.",
  params: Type.Unknown({ description: "Any JSON, for the outside system" }),
  async run(_params, ctx) {
    await new Promise<never>((_, reject) => {
      const onAbort = () => reject(ctx.signal.reason);
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener("abort", onAbort, { once: true });
    });
  },
});
