import { describe, expect, it } from "vitest";
import { UsageError } from "../errors.js";
import { selectCases } from "./case-filter.js";

const cases = [{ name: "kv.range.prefix" }, { name: "kv.range.limit" }, { name: "kv.txn.nested" }];

describe("case selection", () => {
  it("selects everything without patterns, exact names, and prefixes ending in *", () => {
    expect(selectCases(cases, [])).toHaveLength(3);
    expect(selectCases(cases, ["kv.txn.nested"]).map((c) => c.name)).toEqual(["kv.txn.nested"]);
    expect(selectCases(cases, ["kv.range.*"]).map((c) => c.name)).toEqual([
      "kv.range.prefix",
      "kv.range.limit",
    ]);
  });

  it("rejects a pattern that matches nothing, so a typo cannot pass with zero cases", () => {
    expect(() => selectCases(cases, ["kv.range.prefx"])).toThrow(UsageError);
  });
});
