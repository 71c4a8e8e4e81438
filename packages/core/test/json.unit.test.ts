import { describe, expect, it } from "vitest";
import { decodeEvent, InvalidEventError } from "../src/events.ts";
import { decodeMetricsDelta } from "../src/job-metrics.ts";
import { parseJson } from "../src/json.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseJson", () => {
  it.each([
    ["an object", '{"a":[1,"x"]}', { a: [1, "x"] }],
    ["a number", "42", 42],
    ["null", "null", null],
    ["text around whitespace", ' "é" ', "é"],
  ])("reads %s from text and from UTF-8 bytes alike", (_what, text, value) => {
    expect(parseJson(text)).toEqual(value);
    expect(parseJson(bytes(text))).toEqual(value);
  });

  it.each([
    ["empty", ""],
    ["truncated", '{"a":'],
    ["not JSON at all", "hello"],
    ["a trailing comma", "[1,]"],
  ])("is undefined for %s input, never throws", (_what, text) => {
    expect(parseJson(text)).toBeUndefined();
    expect(parseJson(bytes(text))).toBeUndefined();
  });
});

describe("decoders built on it", () => {
  it("decodeEvent refuses bytes that are not JSON with an InvalidEventError, as any other bad event", () => {
    expect(() => decodeEvent(bytes("{not json"))).toThrow(InvalidEventError);
    expect(() => decodeEvent(bytes("{not json"))).toThrow(/not JSON/);
    expect(() => decodeEvent(bytes('{"type":"JobStarted"}'))).toThrow(InvalidEventError);
  });

  it("decodeMetricsDelta refuses bytes that are not JSON", () => {
    expect(() => decodeMetricsDelta(bytes("{not json"))).toThrow("not a job metrics delta");
  });
});
