import { UsageError } from "../errors.js";
import { allFeatures, type Feature } from "../harness/conformance-case.js";

/**
 * An integer option in `min..max`, or `fallback` when absent.
 *
 * @throws UsageError for anything else, naming the option.
 */
export function integerOption(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * A comma-separated feature list (`watch,lease`).
 *
 * @throws UsageError for an unknown feature.
 */
export function featureList(value: string | undefined): Feature[] | undefined {
  if (value === undefined) return undefined;
  const features = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const feature of features) {
    if (!(allFeatures as readonly string[]).includes(feature)) {
      throw new UsageError(
        `unknown feature ${JSON.stringify(feature)}; known: ${allFeatures.join(", ")}`,
      );
    }
  }
  return features as Feature[];
}

/** Splits a command given as one string (`"node dist/cli.js"`) on whitespace. */
export function commandOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = value
    .trim()
    .split(/\s+/)
    .filter((s) => s !== "");
  if (parts.length === 0) throw new UsageError("--server-command is empty");
  return parts;
}
