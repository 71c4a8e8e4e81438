import { describe, expect, it } from "vitest";
import { jobIdFromSubject, jobNames } from "../src/names.ts";

describe("jobNames", () => {
  it("derives every name from the prefix", () => {
    const n = jobNames("jobs");
    expect(n.stream).toBe("JOBS");
    expect(n.streamSubjects).toEqual(["jobs.requested.*", "jobs.event.*", "jobs.routed-high.*", "jobs.routed.*", "jobs.routed-low.*"]);
    expect(n.requestSubject("01J")).toBe("jobs.requested.01J");
    expect(n.routedSubject("01J", "normal")).toBe("jobs.routed.01J");
    expect(n.routedSubject("01J", "high")).toBe("jobs.routed-high.01J");
    expect(n.requestSubjects("01J")).toEqual(["jobs.requested.01J", "jobs.routed-high.01J", "jobs.routed.01J", "jobs.routed-low.01J"]);
    expect(n.dispatchStream).toBe("JOBS_DISPATCH");
    expect(n.dispatchSubjects).toEqual(["jobs.dispatch.>"]);
    expect(n.readySubject("high", "01J")).toBe("jobs.dispatch.ready.high.01J");
    expect(n.readyFilter("low")).toBe("jobs.dispatch.ready.low.*");
    expect(n.readyConsumer("normal")).toBe("jobs-ready-normal");
    expect(n.waitSubject("01J")).toBe("jobs.dispatch.wait.01J");
    expect(n.expirySubject("01J")).toBe("jobs.dispatch.expiry.01J");
    expect(n.expiredSubject("01J")).toBe("jobs.dispatch.expired.01J");
    expect([n.routingConsumer("high"), n.routingConsumer("normal"), n.routingConsumer("low")]).toEqual(["jobs-routing-high", "jobs-routing", "jobs-routing-low"]);
    expect(n.expiryConsumer).toBe("jobs-expiry");
    expect(n.eventSubject("01J")).toBe("jobs.event.01J");
    expect(n.runnerConsumer).toBe("jobs-runners");
    expect(n.projectorConsumer).toBe("jobs-projector");
    expect(n.viewBucket).toBe("jobs-view");
    expect(n.typesBucket).toBe("jobs-types");
    expect(n.idempotencyBucket).toBe("jobs-idempotency");
    expect(n.indexBucket).toBe("jobs-index");
    expect(n.indexHeadKey("app_1")).toBe("app_1.head");
    expect(n.indexPageKey("app_1", 12)).toBe("app_1.p.12");
  });

  it("isolates another prefix completely", () => {
    const a = jobNames("jobs");
    const b = jobNames("t1-x");
    expect(b.stream).toBe("T1_X");
    expect(b.routingConsumer("low")).not.toBe(a.routingConsumer("low"));
    for (const key of ["stream", "dispatchStream", "runnerConsumer", "expiryConsumer", "projectorConsumer", "viewBucket", "typesBucket", "idempotencyBucket", "indexBucket"] as const) {
      expect(b[key]).not.toBe(a[key]);
    }
  });

  it("rejects prefixes that would break subjects", () => {
    for (const bad of ["", "Jobs", "jobs.x", "jobs*", "1jobs", "a>b"]) expect(() => jobNames(bad)).toThrow(/invalid prefix/);
  });

  it("reads the job id back from either subject family", () => {
    const n = jobNames("jobs");
    expect(jobIdFromSubject(n.requestSubject("ABC"))).toBe("ABC");
    expect(jobIdFromSubject(n.eventSubject("ABC"))).toBe("ABC");
  });
});
