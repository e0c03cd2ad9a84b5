import { UsageError } from "../errors.js";

/**
 * Selects cases by name: an exact name (`kv.range.prefix`), or a prefix ending in `*`
 * (`kv.txn.*`, `watch*`). No patterns selects everything.
 *
 * @throws UsageError when a pattern matches no case, so a typo does not pass silently
 * with zero cases run.
 */
export function selectCases<T extends { readonly name: string }>(
  cases: readonly T[],
  patterns: readonly string[],
): T[] {
  if (patterns.length === 0) return [...cases];
  const matchers = patterns.map((pattern) => {
    const matches = pattern.endsWith("*")
      ? (name: string) => name.startsWith(pattern.slice(0, -1))
      : (name: string) => name === pattern;
    return { pattern, matches };
  });
  for (const { pattern, matches } of matchers) {
    if (!cases.some((c) => matches(c.name))) {
      throw new UsageError(`no case matches ${JSON.stringify(pattern)}; list them with "list"`);
    }
  }
  return cases.filter((c) => matchers.some(({ matches }) => matches(c.name)));
}
