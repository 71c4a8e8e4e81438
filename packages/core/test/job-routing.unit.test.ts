import { describe, expect, it } from "vitest";
import { isRouted, routeOf } from "../src/job-routing.ts";
import { at, requested } from "./support/events.ts";

const NOW = new Date(at(10));

describe("isRouted", () => {
  it("sends a normal job due at once straight to the runners, as requests stored before priorities existed", () => {
    expect(isRouted(requested())).toBe(false);
    expect(isRouted(requested({ priority: "normal", startBy: null }))).toBe(false);
  });

  it.each([
    ["a high priority", { priority: "high" as const }],
    ["a low priority", { priority: "low" as const }],
    ["a runAt", { runAt: at(20) }],
    ["a runAt already past", { runAt: at(1) }],
    ["a startBy", { startBy: at(20) }],
  ])("routes a job with %s through the dispatch stream", (_, data) => {
    expect(isRouted(requested(data))).toBe(true);
  });
});

describe("routeOf", () => {
  it("dispatches at once what is due, at its runAt what is not, and sets the expiry at startBy", () => {
    expect(routeOf(requested({ priority: "high" }), NOW)).toEqual({ priority: "high", waitUntil: null, expireAt: null });
    expect(routeOf(requested({ runAt: at(10) }), NOW)).toEqual({ priority: "normal", waitUntil: null, expireAt: null });
    expect(routeOf(requested({ priority: "low", runAt: at(30), startBy: at(40) }), NOW)).toEqual({
      priority: "low",
      waitUntil: new Date(at(30)),
      expireAt: new Date(at(40)),
    });
  });
});
