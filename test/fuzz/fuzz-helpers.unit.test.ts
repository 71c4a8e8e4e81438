import { describe, expect, it } from "vitest";
import { checkResponse } from "./check-response.ts";
import { fuzzSeed, Prng } from "./prng.ts";
import { parseResponses } from "./raw-http.ts";
import { randomRequest, type FuzzContext } from "./requests.ts";

/** The fuzz's own parts: replay by seed, the response checks, the raw response parser. */
const ctx: FuzzContext = {
  types: [
    { name: "sum", params: { properties: { a: {}, b: {} } } },
    { name: "external", params: {} },
  ],
  realIds: ["01KAW3ZZZZZZZZZZZZZZZZZZZZ"],
  token: "t",
  otherToken: "o",
};

describe("the fuzz's PRNG", () => {
  it("draws the same requests from the same seed", () => {
    // Bodies may hold a runAt relative to now: compare their length, which does not change.
    const draw = (seed: number) => {
      const rng = new Prng(seed);
      return Array.from({ length: 200 }, () => randomRequest(rng, ctx)).map((r) => [r.method, r.path, r.headers, r.body?.length]);
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("takes its seed from FUZZ_SEED, and refuses one that is not a 32-bit integer", () => {
    expect(fuzzSeed({ FUZZ_SEED: "123" })).toBe(123);
    expect(() => fuzzSeed({ FUZZ_SEED: "1.5" })).toThrow(/FUZZ_SEED/);
    expect(fuzzSeed({})).toBeGreaterThanOrEqual(0);
  });
});

describe("checkResponse", () => {
  const res = (status: number, headers: Record<string, string>, body: unknown) => ({ status, headers, body: Buffer.from(JSON.stringify(body)) });
  const problem = (status: number) => ({ type: "/problems/x", title: "X", status, detail: "d" });
  const post = { method: "POST", path: "/job", headers: {} };

  it("accepts a problem, and flags a 5xx, a 4xx that is not a problem, and a status that disagrees", () => {
    expect(checkResponse(post, res(400, { "content-type": "application/problem+json; charset=utf-8" }, problem(400))).violations).toEqual([]);
    expect(checkResponse(post, res(503, { "content-type": "application/problem+json" }, problem(503))).violations).toEqual(["503: a server error"]);
    expect(checkResponse(post, res(400, { "content-type": "application/json" }, { error: "x" })).violations).toHaveLength(1);
    expect(checkResponse(post, res(404, { "content-type": "application/problem+json" }, problem(400))).violations).toEqual(["problem status 400 != HTTP 404"]);
  });

  it("wants WWW-Authenticate on a 401, and a Location naming the job on a 2xx to POST /job", () => {
    expect(checkResponse(post, res(401, { "content-type": "application/problem+json" }, problem(401))).violations).toEqual(["401 without WWW-Authenticate: Bearer"]);
    const created = res(202, { location: "/job/J1" }, { id: "J1" });
    expect(checkResponse(post, created)).toEqual({ violations: [], acceptedId: "J1" });
    expect(checkResponse(post, res(202, {}, { id: "J1" })).violations).toEqual(['POST /job 202: Location "undefined" for job J1']);
    expect(checkResponse(post, res(200, { location: "/job/J1" }, { id: "J1" })).violations).toEqual(["POST /job answered 200 without an Idempotency-Key"]);
  });
});

describe("parseResponses", () => {
  it("splits sized and chunked answers and drops interim ones", () => {
    const wire = Buffer.from(
      "HTTP/1.1 100 Continue\r\n\r\n" +
        "HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}" +
        "HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\nContent-Type: application/problem+json\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    const parsed = parseResponses(wire);
    expect(parsed.map((r) => [r.status, r.body.toString()])).toEqual([
      [202, "{}"],
      [400, "abcde"],
    ]);
    expect(parsed[1]!.headers["content-type"]).toBe("application/problem+json");
  });
});
