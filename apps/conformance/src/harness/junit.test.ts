import { describe, expect, it } from "vitest";
import type { CaseResult } from "./conformance-case.js";
import { toJUnitXml } from "./junit.js";
import { formatSummary, summarize } from "./summary.js";

const base = {
  group: "kv.put",
  behaviour: 'puts <work> & "count"',
  reference: "apply.go",
  durationMs: 12,
};
const results: CaseResult[] = [
  { ...base, name: "kv.put.a", outcome: { status: "passed" } },
  {
    ...base,
    name: "kv.put.b",
    outcome: { status: "failed", message: "expected <1>, got 'x'\u0001", details: "stack & more" },
  },
  { ...base, name: "kv.put.c", outcome: { status: "skipped", reason: "no Watch" } },
];

describe("reports", () => {
  it("counts passed, failed and skipped in the summary line", () => {
    expect(formatSummary(summarize(results))).toBe("1 passed, 1 failed, 1 skipped");
  });

  it("writes one testcase per result with failure and skipped elements and escaped text", () => {
    const xml = toJUnitXml(results, {
      suiteName: "raftkv-conformance.api",
      timestamp: new Date(0),
      properties: { endpoints: "a:1" },
    });
    expect(xml).toContain('tests="3" failures="1" errors="0" skipped="1"');
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain(
      '<failure message="expected &lt;1&gt;, got &apos;x&apos;\uFFFD" type="failure">stack &amp; more</failure>',
    );
    expect(xml).toContain('<skipped message="no Watch"/>');
    expect(xml).toContain('value="puts &lt;work&gt; &amp; &quot;count&quot;"');
    expect(xml).toContain('timestamp="1970-01-01T00:00:00.000Z"');
    expect(xml.includes("\u0001")).toBe(false);
  });
});
