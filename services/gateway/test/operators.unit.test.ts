import { describe, expect, it } from "vitest";
import { auth, OPERATOR_TOKEN, OTHER_TOKEN, problemOf, testApp } from "./helper.ts";

/** ADMIN_TOKENS: operators see and act on every application's jobs; applications stay apart. */
const post = (body: object, token?: string) => ({ method: "POST" as const, url: "/job", headers: { ...auth(token), "content-type": "application/json" }, payload: body });

describe("operator tokens", () => {
  it("read any application's job, its history and its listing (app=)", async () => {
    const { app } = await testApp();
    const created = (await app.inject(post({ type: "sum", params: { a: 1, b: 2 } }))).json();
    expect((await app.inject({ method: "GET", url: `/job/${created.id}`, headers: auth(OPERATOR_TOKEN) })).json()).toMatchObject({ id: created.id });
    expect((await app.inject({ method: "GET", url: `/job/${created.id}/events`, headers: auth(OPERATOR_TOKEN) })).statusCode).toBe(200);
    // The application itself still cannot see another's.
    expect((await app.inject({ method: "GET", url: `/job/${created.id}`, headers: auth(OTHER_TOKEN) })).statusCode).toBe(404);
  });

  it("cancel any application's job, which the application then sees cancelled", async () => {
    const { app } = await testApp();
    const created = (await app.inject(post({ type: "sum", params: { a: 1, b: 2 } }))).json();
    const res = await app.inject({ method: "POST", url: `/job/${created.id}/cancel`, headers: { ...auth(OPERATOR_TOKEN), "content-type": "application/json" }, payload: {} });
    expect(res.statusCode).toBe(202);
    expect((await app.inject({ method: "GET", url: `/job/${created.id}`, headers: auth() })).json()).toMatchObject({ status: "cancelled" });
    const other = await app.inject({ method: "POST", url: `/job/${created.id}/cancel`, headers: { ...auth(OTHER_TOKEN), "content-type": "application/json" }, payload: {} });
    expect(other.statusCode).toBe(404);
  });

  it("list one application's jobs with app=, and are told to name one without it", async () => {
    const { app } = await testApp();
    const created = (await app.inject(post({ type: "sum", params: { a: 1, b: 2 } }))).json();
    await app.inject(post({ type: "sum", params: { a: 3, b: 4 } }, OTHER_TOKEN));
    const listed = await app.inject({ method: "GET", url: "/job?app=alpha", headers: auth(OPERATOR_TOKEN) });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((j: { id: string }) => j.id)).toEqual([created.id]);
    const unnamed = await app.inject({ method: "GET", url: "/job", headers: auth(OPERATOR_TOKEN) });
    expect(unnamed.statusCode).toBe(400);
    expect(problemOf(unnamed).errors).toEqual([{ path: "/querystring/app", message: expect.stringContaining("required with an operator token") }]);
  });

  it("403 for an application that asks for another's listing with app=; its own name is fine", async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: "GET", url: "/job?app=beta", headers: auth() });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).type).toBe("/problems/operators-only");
    expect((await app.inject({ method: "GET", url: "/job?app=alpha", headers: auth() })).statusCode).toBe(200);
  });

  it("create jobs of their own, which no application sees", async () => {
    const { app, jobs } = await testApp();
    const created = await app.inject(post({ type: "sum", params: { a: 1, b: 2 } }, OPERATOR_TOKEN));
    expect(created.statusCode).toBe(202);
    expect(jobs.appended[0]!.data.app).toBe("_operator");
    expect((await app.inject({ method: "GET", url: `/job/${created.json().id}`, headers: auth() })).statusCode).toBe(404);
  });
});
