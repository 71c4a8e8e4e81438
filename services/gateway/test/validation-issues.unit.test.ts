import { describe, expect, it } from "vitest";
import { pointerToken, toValidationIssues } from "../src/http/validation-issues.ts";

describe("toValidationIssues", () => {
  it("puts missing and forbidden properties at their own path, escaped as JSON pointer tokens", () => {
    const issues = toValidationIssues("/body", [
      { keyword: "required", instancePath: "/meta", params: { requiredProperties: ["a/b", "c~d"] }, message: "x" },
      { keyword: "boolean", instancePath: "/extra", schemaPath: "#/additionalProperties", params: {}, message: "schema is false" },
      { keyword: "additionalProperties", instancePath: "", params: { additionalProperties: ["extra"] }, message: "x" },
      { keyword: "minimum", instancePath: "/n", params: { limit: 0 }, message: "must be >= 0" },
      { keyword: "minimum", instancePath: "/n", params: { limit: 0 }, message: "must be >= 0" },
    ]);
    expect(issues).toEqual([
      { path: "/body/meta/a~1b", message: "is required" },
      { path: "/body/meta/c~0d", message: "is required" },
      { path: "/body/extra", message: "is not allowed" },
      { path: "/body/n", message: "must be >= 0" },
    ]);
  });

  it("escapes ~ before /", () => {
    expect(pointerToken("~1/")).toBe("~01~1");
  });
});
