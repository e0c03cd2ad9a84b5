/**
 * The part of the wire contract a case exercises. A server may leave out whole
 * services; cases of an optional feature the server answers UNIMPLEMENTED for are
 * skipped, not failed (see `RunOptions.requiredFeatures`).
 */
export type Feature = "kv" | "maintenance" | "watch" | "lease" | "cluster";

/** Every feature, in report order. */
export const allFeatures: readonly Feature[] = ["kv", "maintenance", "watch", "lease", "cluster"];

/**
 * One conformance check: a named etcd behaviour and a script that verifies it against a
 * server. `Context` is what the suite hands each case (clients, key prefix, limits).
 */
export interface ConformanceCase<Context> {
  /** Dotted, stable, unique: `kv.range.prefix`. Used by `--case` and in the JUnit file. */
  readonly name: string;
  readonly feature: Feature;
  /**
   * The etcd behaviour checked, as one or two sentences a reader can verify against etcd
   * (its documentation or its source, named in `reference`).
   */
  readonly behaviour: string;
  /** Where etcd 3.4 implements or documents it (path under go.etcd.io/etcd, or a URL). */
  readonly reference: string;
  run(context: Context): Promise<void>;
}

/** What happened to one case. */
export type CaseOutcome =
  | { readonly status: "passed" }
  | { readonly status: "failed"; readonly message: string; readonly details: string }
  | { readonly status: "skipped"; readonly reason: string };

/** A case's outcome with what the report needs to name it. */
export interface CaseResult {
  readonly name: string;
  /** Groups cases in the JUnit file (`kv.range` for `kv.range.prefix`). */
  readonly group: string;
  readonly behaviour: string;
  readonly reference: string;
  readonly durationMs: number;
  readonly outcome: CaseOutcome;
}

/** The group of a case name: everything before the last dot. */
export function groupOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}
