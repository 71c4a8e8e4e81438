import { connect } from "node:net";
import { newJobId } from "@jobs/core";
import { describe, expect, it } from "vitest";
import { PROBLEMS } from "../src/http/errors.ts";
import { StoreUnavailableError } from "../src/ports.ts";
import { auth, problemOf, testApp } from "./helper.ts";

/** Sends one raw request line (what inject cannot express, e.g. `OPTIONS *`) and returns the status line. */
async function rawStatusLine(base: string, requestLine: string): Promise<string> {
  const url = new URL(base);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(`${requestLine}\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = "";
    socket.on("data", (d) => (text += d));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
  return answer.split("\r\n", 1)[0]!;
}

describe("HTTP method semantics (RFC 9110)", () => {
  it.each([
    ["PUT", "/job/01KAW3ZZZZZZZZZZZZZZZZZZZZ", "GET, HEAD, OPTIONS"],
    ["DELETE", `/job/${newJobId()}`, "GET, HEAD, OPTIONS"],
    ["POST", "/healthz", "GET, HEAD, OPTIONS"],
    ["GET", `/job/${newJobId()}/cancel`, "POST, OPTIONS"],
    ["PATCH", `/job/${newJobId()}/events`, "GET, HEAD, OPTIONS"],
    ["POST", "/openapi.json", "GET, HEAD, OPTIONS"],
  ] as const)("%s %s: 405 with Allow: %s, public, a problem", async (method, url, allow) => {
    const { app, jobs } = await testApp();
    const res = await app.inject({ method, url });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe(allow);
    const problem = problemOf(res);
    expect(problem.type).toBe("/problems/method-not-allowed");
    expect(problem.detail).toContain(method);
    expect(jobs.events).toEqual([]);
  });

  it("lists every method of a path in Allow (the router decides, so it never drifts from the routes)", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "DELETE", url: "/job" });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain("POST");
    expect(String(res.headers.allow).endsWith("OPTIONS")).toBe(true);
  });

  it("answers 404 for unknown paths, whatever the method", async () => {
    const { app } = await testApp();
    for (const [method, url] of [["GET", "/nope"], ["POST", "/jobs"], ["DELETE", "/job/x/y/z"], ["OPTIONS", "/nope"], ["GET", "/job-types/x"]] as const) {
      const res = await app.inject({ method, url, headers: auth() });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.headers.allow).toBeUndefined();
      expect(problemOf(res).type).toBe("/problems/not-found");
    }
  });

  it("answers OPTIONS on a known path with 204 and Allow, without a token", async () => {
    const { app } = await testApp();
    const id = newJobId();
    for (const [url, allow] of [
      [`/job/${id}`, "GET, HEAD, OPTIONS"],
      [`/job/${id}/watch`, "GET, HEAD, OPTIONS"],
      [`/job/${id}/complete`, "POST, OPTIONS"],
      ["/healthz", "GET, HEAD, OPTIONS"],
      ["/docs", "GET, HEAD, OPTIONS"],
    ]) {
      const res = await app.inject({ method: "OPTIONS", url });
      expect(res.statusCode, url).toBe(204);
      expect(res.headers.allow).toBe(allow);
      expect(res.body).toBe("");
    }
  });

  it("answers OPTIONS * (the server as a whole) with 204", async () => {
    const { app } = await testApp();
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    expect(await rawStatusLine(base, "OPTIONS * HTTP/1.1")).toBe("HTTP/1.1 204 No Content");
    expect(await rawStatusLine(base, "GET * HTTP/1.1")).toBe("HTTP/1.1 404 Not Found");
  });

  it("answers HEAD wherever GET works: the same status and headers, no body", async () => {
    const { app, jobs } = await testApp();
    const view = await jobs.seedJob("alpha", newJobId());
    for (const [url, headers] of [
      ["/healthz", {}],
      ["/openapi.json", {}],
      ["/docs", {}],
      [`/job/${view.id}`, auth()],
      [`/job/${view.id}/events`, auth()],
      ["/job-types", auth()],
      [`/job/${newJobId()}`, auth()],
      [`/job/${view.id}`, {}],
    ] as const) {
      const get = await app.inject({ method: "GET", url, headers });
      const head = await app.inject({ method: "HEAD", url, headers });
      expect(head.statusCode, url).toBe(get.statusCode);
      expect(head.headers["content-type"]).toBe(get.headers["content-type"]);
      expect(head.headers["content-length"]).toBe(get.headers["content-length"]);
      expect(head.body).toBe("");
    }
  });

  it("answers 202 + Location for a new job, 200 + Location for its repeat, 202 for a cancel", async () => {
    const { app } = await testApp();
    const body = { type: "sum", params: { a: 1, b: 2 } };
    const headers = { ...auth(), "idempotency-key": "k1" };
    const created = await app.inject({ method: "POST", url: "/job", headers, payload: body });
    expect(created.statusCode).toBe(202);
    expect(created.headers.location).toBe(`/job/${created.json().id}`);
    const repeated = await app.inject({ method: "POST", url: "/job", headers, payload: body });
    expect(repeated.statusCode).toBe(200);
    expect(repeated.headers.location).toBe(created.headers.location);
    const cancelled = await app.inject({ method: "POST", url: `${created.headers.location}/cancel`, headers: auth() });
    expect(cancelled.statusCode).toBe(202);
    expect(cancelled.json().status).toBe("cancelled");
  });

  it("sends Retry-After with every 503", async () => {
    for (const [code, spec] of Object.entries(PROBLEMS)) {
      if (spec.status === 503) expect("retryAfterSeconds" in spec, code).toBe(true);
    }
    const { app, jobs, readiness } = await testApp();
    readiness.ready = false;
    jobs.failAppends = "dropped";
    jobs.get = async () => {
      throw new StoreUnavailableError("down");
    };
    jobs.history = jobs.get as never;
    const answers = [
      await app.inject({ method: "GET", url: "/readyz" }),
      await app.inject({ method: "POST", url: "/job", headers: auth(), payload: { type: "sum", params: { a: 1, b: 2 } } }),
      await app.inject({ method: "GET", url: `/job/${newJobId()}`, headers: auth() }),
      await app.inject({ method: "GET", url: `/job/${newJobId()}/events`, headers: auth() }),
      await app.inject({ method: "GET", url: `/job/${newJobId()}/watch`, headers: auth() }),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(503);
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    }
  });

  it("sends WWW-Authenticate with every 401", async () => {
    const { app } = await testApp();
    for (const headers of [{}, { authorization: "Bearer wrong" }]) {
      const res = await app.inject({ method: "GET", url: `/job/${newJobId()}/watch`, headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="jobs"/);
    }
  });
});
