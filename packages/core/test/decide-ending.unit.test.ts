import { describe, expect, it } from "vitest";
import { DEFAULT_CANCEL_MESSAGE, decideCancel, decideComplete, type CancelJob, type CompleteJob, type ExternalEnding } from "../src/decide-ending.ts";
import { deciderSpec } from "./support/decider-spec.ts";
import { attemptFailed, cancelled, failed, JOB_ID, requested, started, succeeded } from "./support/events.ts";

const NOW = new Date("2030-01-01T00:00:10.000Z");
const cancelling = deciderSpec((events, command: CancelJob) => decideCancel(events, command, NOW));
const completing = deciderSpec((events, command: CompleteJob) => decideComplete(events, command, NOW));
const sum = requested({ jobType: "sum" });
const external = requested({ jobType: "external" });

describe("decideCancel", () => {
  const cancel = { jobId: JOB_ID, app: "alpha" };

  it.each([
    ["queued, never started", [], 0],
    ["running attempt 1", [started(1)], 1],
    ["queued for attempt 2 after a failed attempt", [started(1), attemptFailed(1)], 1],
    ["running attempt 2", [started(1), attemptFailed(1), started(2)], 2],
  ])("cancels a job %s, naming its attempt", (_, later, attempt) => {
    cancelling
      .given(sum, ...later)
      .when(cancel)
      .then({
        append: {
          event: {
            type: "JobFinished",
            jobId: JOB_ID,
            time: NOW.toISOString(),
            data: { attempt, outcome: "cancelled", error: { code: "cancelled", message: DEFAULT_CANCEL_MESSAGE } },
          },
          msgId: `${JOB_ID}:cancel`,
        },
      });
  });

  it("puts the reason in the error's message", () => {
    const { decision } = cancelling.given(sum).when({ ...cancel, reason: "customer left" });
    expect("append" in decision && decision.append.event.data.error).toEqual({ code: "cancelled", message: "customer left" });
  });

  it.each([
    ["succeeded", succeeded(1, 3)],
    ["failed", failed(1)],
    ["cancelled", cancelled(1)],
  ])("refuses a job that has %s", (outcome, ending) => {
    cancelling.given(sum, started(1), ending).when(cancel).then({ reject: { code: "job_already_ended", detail: expect.stringContaining(outcome) } });
  });

  it("answers a missing job and another application's job alike", () => {
    const missing = { reject: { code: "job_not_found" as const, detail: `No job ${JOB_ID}` } };
    cancelling.given().when(cancel).then(missing);
    cancelling.given(sum).when({ ...cancel, app: "beta" }).then(missing);
  });
});

describe("decideComplete", () => {
  const ok: ExternalEnding = { outcome: "succeeded", result: { rows: 3 } };
  const bad: ExternalEnding = { outcome: "failed", error: { code: "upstream", message: "503 from the partner" } };
  const complete = (ending: ExternalEnding, app = "alpha") => ({ jobId: JOB_ID, app, ending });

  it.each([
    ["a result", ok],
    ["an error", bad],
  ])("ends a running external job with %s", (_, ending) => {
    completing
      .given(external, started(1), attemptFailed(1), started(2))
      .when(complete(ending))
      .then({ append: { event: { type: "JobFinished", jobId: JOB_ID, time: NOW.toISOString(), data: { attempt: 2, ...ending } }, msgId: `${JOB_ID}:complete` } });
  });

  it.each([
    ["queued external job", [external], "job_not_running"],
    ["external job queued for a retry", [external, started(1), attemptFailed(1)], "job_not_running"],
    ["succeeded external job", [external, started(1), succeeded(1, 1)], "job_already_ended"],
    ["cancelled external job", [external, started(1), cancelled(1)], "job_already_ended"],
    ["running sum job", [sum, started(1)], "not_an_external_job"],
    ["queued sum job", [sum], "not_an_external_job"],
  ])("refuses a %s", (_, events, code) => {
    completing.given(...events).when(complete(ok)).thenRejects(code);
  });

  it("says only external jobs can be completed", () => {
    const { decision } = completing.given(sum, started(1)).when(complete(ok));
    expect("reject" in decision && decision.reject.detail).toMatch(/only jobs of type "external" can be completed/);
  });

  it("answers a missing job and another application's job alike", () => {
    const missing = { reject: { code: "job_not_found" as const, detail: `No job ${JOB_ID}` } };
    completing.given().when(complete(ok)).then(missing);
    completing.given(external, started(1)).when(complete(ok, "beta")).then(missing);
  });
});
