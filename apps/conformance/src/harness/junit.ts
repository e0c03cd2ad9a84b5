import type { CaseResult } from "./conformance-case.js";

/** Options of `toJUnitXml`. */
export interface JUnitOptions {
  /** The `<testsuite name>`; also the prefix of every `classname`. */
  readonly suiteName: string;
  /** When the run started; default: now. */
  readonly timestamp?: Date;
  /** Extra `<property>` entries of the suite (endpoints, seed, server version). */
  readonly properties?: Readonly<Record<string, string>>;
}

/**
 * Renders results as a JUnit XML report (the de facto format CI systems read: one
 * `<testsuite>`, one `<testcase>` per case with `<failure>` or `<skipped>`). Each case
 * carries the etcd behaviour it checks and its reference as properties, so a failure
 * in a CI view says what was expected.
 */
export function toJUnitXml(results: readonly CaseResult[], options: JUnitOptions): string {
  const failures = results.filter((r) => r.outcome.status === "failed").length;
  const skipped = results.filter((r) => r.outcome.status === "skipped").length;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const total = results.reduce((sum, r) => sum + r.durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(options.suiteName)}" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}">`,
    `  <testsuite name="${xml(options.suiteName)}" tests="${results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(total)}" timestamp="${(options.timestamp ?? new Date()).toISOString()}">`,
  ];
  const properties = Object.entries(options.properties ?? {});
  if (properties.length > 0) {
    lines.push("    <properties>");
    for (const [name, value] of properties) {
      lines.push(`      <property name="${xml(name)}" value="${xml(value)}"/>`);
    }
    lines.push("    </properties>");
  }
  for (const result of results) {
    lines.push(
      `    <testcase classname="${xml(`${options.suiteName}.${result.group}`)}" name="${xml(result.name)}" time="${seconds(result.durationMs)}">`,
      "      <properties>",
      `        <property name="behaviour" value="${xml(result.behaviour)}"/>`,
      `        <property name="reference" value="${xml(result.reference)}"/>`,
      "      </properties>",
    );
    const outcome = result.outcome;
    if (outcome.status === "failed") {
      lines.push(
        `      <failure message="${xml(outcome.message)}" type="failure">${xml(outcome.details)}</failure>`,
      );
    } else if (outcome.status === "skipped") {
      lines.push(`      <skipped message="${xml(outcome.reason)}"/>`);
    }
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>", "");
  return lines.join("\n");
}

// XML 1.0 allows only tab, newline, carriage return and #x20 upward (minus surrogates
// and U+FFFE/U+FFFF); anything else in a server's message would make the file unreadable.
const INVALID_XML_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function xml(text: string): string {
  return text
    .replace(INVALID_XML_CHARS, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
