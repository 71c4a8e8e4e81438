import { describe, expect, it } from "vitest";
import { InvalidArgumentError, NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core";
import { ApiCodes, apiError, apiErrorCode, isCreationRace, isNotFound, isRefusedByClient, isTransient, isUnanswered, isWrongLastSequence, needsCluster } from "../src/errors.ts";

/** Each check against the errors nats.js really throws (built with its own classes), and against look-alikes it must not take. */
const lookAlike = new Error("wrong last sequence: 7; stream not found; no responders; timeout");
const wrapped = (cause: Error) => new Error("the request failed", { cause });

describe("the NATS error map", () => {
  it("reads the server's err_code of an API error, also through causes", () => {
    expect(apiErrorCode(apiError(ApiCodes.StreamNotFound, "stream not found", 404))).toBe(10059);
    expect(apiErrorCode(wrapped(apiError(10071, "wrong last sequence")))).toBe(10071);
    expect(apiErrorCode(lookAlike)).toBeUndefined();
    expect(apiErrorCode("10071")).toBeUndefined();
  });

  it.each<[string, (err: unknown) => boolean, unknown[], unknown[]]>([
    ["isWrongLastSequence", isWrongLastSequence, [apiError(10071, "wrong last sequence: 7"), apiError(10164, "wrong last sequence unknown")], [apiError(10059, "x")]],
    ["isNotFound", isNotFound, [apiError(10059, "stream not found", 404), apiError(10014, "consumer not found", 404)], [apiError(10037, "no message found", 404)]],
    ["isCreationRace", isCreationRace, [apiError(10065, "subjects overlap"), apiError(10058, "stream name already in use")], [apiError(10071, "x")]],
    ["needsCluster", needsCluster, [apiError(10074, "replicas > 1 not supported in non-clustered mode")], [apiError(10008, "x")]],
    ["isUnanswered", isUnanswered, [new TimeoutError()], [new RequestError("x", { cause: new NoRespondersError("s") })]],
    ["isRefusedByClient", isRefusedByClient, [InvalidArgumentError.format("payload", "max_payload size exceeded")], [new TimeoutError()]],
    [
      "isTransient",
      isTransient,
      [new TimeoutError(), new RequestError("x", { cause: new NoRespondersError("$JS.API.INFO") }), apiError(10008, "temporarily unavailable", 503), apiError(10005, "no suitable peers")],
      [apiError(10059, "stream not found", 404), new TypeError("bad")],
    ],
  ])("%s takes what it names and nothing else", (_, check, yes, no) => {
    for (const err of yes) expect(check(err), String(err)).toBe(true);
    for (const err of [...no, lookAlike, null, undefined, "timeout"]) expect(check(err), String(err)).toBe(false);
  });
});
